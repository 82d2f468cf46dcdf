package peers

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/keyroll/keyroll/issuer/signin"
)

// The SAML and WS-Federation peers below (crewjam/saml in process,
// pysaml2 and passport-wsfed-saml2 as child processes) are all driven the
// same way: each is a small relying party on 127.0.0.1 that
//
//	GET  /login   starts a sign-in at keyroll (a redirect, or an
//	              auto-submitting form for the HTTP-POST binding)
//	POST /acs     validates keyroll's response with the keys of the
//	              metadata it last read: 200 and a signedIn as JSON, or 403
//	              and the library's reason
//	POST /reload  reads keyroll's federation metadata again
//
// and reads keyroll's federation metadata on start; no certificate is ever
// given to it any other way.

// signedIn is what a peer's /acs answers when the library accepted the
// response.
type signedIn struct {
	NameID     string              `json:"name_id"`
	Issuer     string              `json:"issuer"`
	Version    string              `json:"saml_version,omitempty"` // the assertion's, where the peer tells it
	Attributes map[string][]string `json:"attributes"`
}

// names reports whether the sign-in names user, as NameID or as an attribute value.
func (s *signedIn) names(user string) bool {
	if s.NameID == user {
		return true
	}
	for _, vs := range s.Attributes {
		if slices.Contains(vs, user) {
			return true
		}
	}
	return false
}

// browserResult is the last page a browser session reached.
type browserResult struct {
	status int
	url    string
	body   []byte
}

// fedSignIn plays a fresh browser session: it opens start (following
// redirects), fills keyroll's sign-in form as user, submits every
// auto-submitting form it meets (a POST-binding AuthnRequest, keyroll's
// SAMLResponse or wresult) and returns the first page that is neither.
func fedSignIn(t *testing.T, start, user, password string) browserResult {
	t.Helper()
	return fedSignInTampered(t, start, user, password, nil)
}

// fedSignInTampered is fedSignIn with tamper applied to the fields of the
// form that carries keyroll's answer (SAMLResponse or wresult) before
// the browser posts it.
func fedSignInTampered(t *testing.T, start, user, password string, tamper func(url.Values)) browserResult {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := browser.Get(start)
	signedIn := false
	for step := 0; ; step++ {
		if err != nil {
			t.Fatalf("browser: %v", err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		here := resp.Request.URL
		if step > 6 {
			t.Fatalf("browser: still no end after %d pages; at %s (%d):\n%s", step, here, resp.StatusCode, page)
		}
		if form, perr := signin.ParseLoginForm(page); perr == nil {
			if signedIn {
				t.Fatalf("keyroll showed the sign-in form again (%q) at %s", form.Error, here)
			}
			signedIn = true
			action, _ := here.Parse(form.Action)
			resp, err = browser.PostForm(action.String(), form.Values(user, password))
			continue
		}
		action, fields, ok := autoSubmitForm(page)
		if !ok {
			return browserResult{status: resp.StatusCode, url: here.String(), body: page}
		}
		if tamper != nil && (fields.Has("SAMLResponse") || fields.Has("wresult")) {
			tamper(fields)
		}
		target, perr := here.Parse(action)
		if perr != nil {
			t.Fatalf("auto-submitting form at %s has action %q: %v", here, action, perr)
		}
		resp, err = browser.PostForm(target.String(), fields)
	}
}

// autoSubmitForm finds a page's single POST form made only of hidden
// fields (and at most a submit button), as SAML's and WS-Federation's
// POST bindings send.
func autoSubmitForm(page []byte) (action string, fields url.Values, ok bool) {
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return "", nil, false
	}
	var forms []*html.Node
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.Data == "form" {
			forms = append(forms, n)
		}
	}
	if len(forms) != 1 || !strings.EqualFold(attr(forms[0], "method"), "post") {
		return "", nil, false
	}
	fields = url.Values{}
	for n := range forms[0].Descendants() {
		if n.Type != html.ElementNode || n.Data != "input" {
			continue
		}
		switch strings.ToLower(attr(n, "type")) {
		case "hidden":
			fields.Add(attr(n, "name"), attr(n, "value"))
		case "submit":
		default:
			return "", nil, false
		}
	}
	return attr(forms[0], "action"), fields, len(fields) > 0
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

// expectSignedIn checks that a browser session ended at the peer's /acs
// with the library accepting the response for user, and returns what the
// peer read.
func expectSignedIn(t *testing.T, peer string, got browserResult, user string) *signedIn {
	t.Helper()
	if got.status != http.StatusOK {
		t.Fatalf("%s refused the sign-in: %d at %s: %s", peer, got.status, got.url, got.body)
	}
	var s signedIn
	if err := json.Unmarshal(got.body, &s); err != nil {
		t.Fatalf("%s answered %s: %v", peer, got.body, err)
	}
	if !s.names(user) {
		t.Fatalf("%s accepted a sign-in that does not name %s: %+v", peer, user, s)
	}
	return &s
}

// expectRefused checks that the peer's library refused keyroll's response
// (403 from /acs, with its reason); case says what was wrong with it.
func expectRefused(t *testing.T, peer, what string, got browserResult) {
	t.Helper()
	if got.status != http.StatusForbidden {
		t.Fatalf("%s given %s answered %d, want 403 (refused): %s", peer, what, got.status, got.body)
	}
	t.Logf("%s given %s refused it: %s", peer, what, bytes.TrimSpace(got.body))
}

// checkTamperRefused: a response whose signed content the browser changed
// (the user's name, alice to mallory) is refused, so the peer does check
// keyroll's signature.
func checkTamperRefused(t *testing.T, peer, login string) {
	t.Helper()
	tampered := false
	got := fedSignInTampered(t, login, "alice", "correct horse battery", func(f url.Values) {
		if v := f.Get("wresult"); v != "" {
			f.Set("wresult", strings.ReplaceAll(v, ">alice<", ">mallory<"))
			tampered = f.Get("wresult") != v
			return
		}
		xml, err := base64.StdEncoding.DecodeString(f.Get("SAMLResponse"))
		if err != nil {
			t.Fatalf("SAMLResponse is not base64: %v", err)
		}
		changed := bytes.ReplaceAll(xml, []byte(">alice<"), []byte(">mallory<"))
		tampered = !bytes.Equal(xml, changed)
		f.Set("SAMLResponse", base64.StdEncoding.EncodeToString(changed))
	})
	if !tampered {
		t.Fatalf("keyroll's answer does not name alice as element text: nothing to tamper with")
	}
	expectRefused(t, peer, "a tampered response", got)
}

// reload asks a peer to read keyroll's metadata again.
func reload(t *testing.T, peerURL string) {
	t.Helper()
	resp, err := http.Post(peerURL+"/reload", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s/reload answered %d: %s", peerURL, resp.StatusCode, body)
	}
}

// checkRollover is the scenario every peer passes: a user signs in; after
// an urgent rotation the peer, still holding the metadata it read before,
// refuses the response signed with the new key (what keyroll's drill must
// call NOT READY); once it reads the metadata again, the sign-in works.
// login is the peer's /login URL under its base URL.
func checkRollover(t *testing.T, kr *keyroll, peer, base, login, user, password string) {
	t.Helper()
	expectSignedIn(t, peer, fedSignIn(t, login, user, password), user)
	if _, err := kr.admin.Rotate(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	expectRefused(t, peer, "the new key's response while holding the old metadata", fedSignIn(t, login, user, password))
	reload(t, base)
	expectSignedIn(t, peer, fedSignIn(t, login, user, password), user)
}

// needTool skips a test whose peer is not installed, visibly, or fails it
// under CI=true (CI installs every peer).
func needTool(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but a peer is missing: "+format, args...)
	}
	t.Skipf("SKIP (peer not installed; .ci/run installs it): "+format, args...)
}

// startPeer runs a peer relying party as a child process and returns its
// base URL, which the process prints as its first line of output
// ("listening http://127.0.0.1:PORT"). The process is ended when the test
// ends; its standard error is shown if the test fails.
func startPeer(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("%s stderr:\n%s", name, stderr.Bytes())
		}
	})
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		io.Copy(io.Discard, out)
	}()
	select {
	case l, ok := <-line:
		base, found := strings.CutPrefix(l, "listening ")
		if !ok || !found {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("%s %v did not start (first line %q):\n%s", name, args, l, stderr.Bytes())
		}
		return base
	case <-time.After(60 * time.Second):
		t.Fatalf("%s %v printed nothing in 60 s:\n%s", name, args, stderr.Bytes())
	}
	return ""
}
