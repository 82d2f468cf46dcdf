package drill

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// Evidence is what the application answered, as the drill saw it. URLs
// have secrets in their query (authorization codes, tokens) redacted; the
// bearer token and passwords never appear.
type Evidence struct {
	Status          int    `json:"status,omitempty"` // the final HTTP status
	URL             string `json:"url,omitempty"`    // the final URL
	WWWAuthenticate string `json:"www_authenticate,omitempty"`
	Title           string `json:"title,omitempty"` // the final page's <title>, if HTML
	// Body is the first 200 bytes of the final answer, control characters
	// and invalid UTF-8 replaced, white space collapsed.
	Body  string `json:"body,omitempty"`
	Note  string `json:"note,omitempty"`  // what the drill concluded from it
	Error string `json:"error,omitempty"` // why the test could not be decided
	// TokenKID is the kid of the token sent (API mode).
	TokenKID string `json:"token_kid,omitempty"`
	// Hops are the requests of a web sign-in, in order.
	Hops []Hop `json:"hops,omitempty"`
}

// Hop is one request of a browser session and its answer.
type Hop struct {
	Method   string `json:"method"`
	URL      string `json:"url"`
	Status   int    `json:"status,omitempty"`
	Location string `json:"location,omitempty"`
	Error    string `json:"error,omitempty"`
}

// Summary is the evidence in one line for tables and messages.
func (e Evidence) Summary() string {
	var parts []string
	if e.Status != 0 {
		parts = append(parts, "HTTP "+strconv.Itoa(e.Status))
	}
	for _, s := range []string{e.Note, e.Error} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	switch {
	case e.WWWAuthenticate != "":
		parts = append(parts, "WWW-Authenticate: "+e.WWWAuthenticate)
	case e.Title != "":
		parts = append(parts, "page "+strconv.Quote(e.Title))
	case e.Body != "" && e.Status != 0:
		parts = append(parts, strconv.Quote(e.Body))
	}
	return clip(strings.Join(parts, "; "), 160)
}

// Limits on what the drill reads from the application.
const (
	maxBody     = 1 << 20 // a page, read whole (sign-in form, expected text)
	bodySnippet = 200
	maxHeader   = 300
)

// readBody reads at most maxBody bytes of resp's body and closes it.
func readBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	return io.ReadAll(io.LimitReader(resp.Body, maxBody))
}

// answer records the final response of a test.
func answer(resp *http.Response, body []byte) Evidence {
	return Evidence{
		Status: resp.StatusCode, URL: redactURL(resp.Request.URL),
		WWWAuthenticate: printable(resp.Header.Get("WWW-Authenticate"), maxHeader),
		Title:           pageTitle(body),
		Body:            printable(string(body[:min(len(body), bodySnippet)]), bodySnippet),
	}
}

var titleRE = regexp.MustCompile(`(?is)<title[^>]*>([^<]{0,300})</title>`)

func pageTitle(body []byte) string {
	if m := titleRE.FindSubmatch(body[:min(len(body), 8<<10)]); m != nil {
		return printable(string(m[1]), 120)
	}
	return ""
}

// printable makes s safe to show: valid UTF-8, no control characters,
// white space collapsed, at most max bytes.
func printable(s string, max int) string {
	s = strings.ToValidUTF8(s, "�")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, s)
	return clip(strings.Join(strings.Fields(s), " "), max)
}

// clip cuts s to at most max bytes on a rune boundary, marking the cut.
func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max - len("…")
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// secretParams are query parameters whose values the evidence hides.
var secretParams = map[string]bool{
	"code": true, "access_token": true, "id_token": true, "refresh_token": true,
	"token": true, "client_secret": true, "password": true, "login_request": true,
	"code_verifier": true, "assertion": true, "samlresponse": true,
}

// redactURL renders u with the values of secret query parameters replaced.
func redactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		q := c.Query()
		for k := range q {
			if secretParams[strings.ToLower(k)] {
				q[k] = []string{"REDACTED"}
			}
		}
		c.RawQuery = q.Encode()
	}
	c.Fragment, c.RawFragment = "", ""
	return printable(c.String(), 2000)
}

// netError describes a failed request without its URL, whose query may
// hold an authorization code.
func netError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + ": " + printable(ue.Err.Error(), 300)
	}
	return printable(err.Error(), 300)
}

// redactLocation is redactURL for a Location header resolved against base.
func redactLocation(base *url.URL, loc string) string {
	u, err := base.Parse(loc)
	if err != nil {
		return fmt.Sprintf("(unparsable Location, %d bytes)", len(loc))
	}
	return redactURL(u)
}
