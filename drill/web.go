package drill

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/issuer/signin"
)

// maxHops bounds the requests of one browser session.
const maxHops = 20

// webTester signs in to the application with a fresh browser session.
type webTester struct {
	target         *url.URL
	expect         string
	user, password string
	protocol       string   // oidc, saml or wsfed
	signIn         *url.URL // where the issuer takes the sign-in form of protocol
	answerURLs     []string // saml, wsfed: the registered ACS or reply URLs
	hc             *http.Client
}

func (t *webTester) test(ctx context.Context, _ adminapi.KeyInfo) (Outcome, Evidence, error) {
	jar, _ := cookiejar.New(nil) // never fails without options
	s := &session{t: t, hc: noRedirects(t.hc, jar)}
	o, err := s.run(ctx)
	return o, s.ev, err
}

// session is one fresh browser session: its own cookie jar, redirects
// followed by hand and recorded.
type session struct {
	t  *webTester
	hc *http.Client
	ev Evidence
	// posted: the sign-in form was submitted; handedOff: the issuer then
	// sent the browser back to the application with an authorization code,
	// or posted its signed answer to a registered ACS or reply URL.
	posted, handedOff bool
	awaiting          bool       // the next answer is the issuer's to the form
	form              url.Values // the last form posted, for 307 and 308 redirects
}

// run plays the session and classifies where it ends.
func (s *session) run(ctx context.Context) (Outcome, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.t.target.String(), nil)
	if err != nil {
		s.ev.Error = err.Error()
		return Undecided, nil
	}
	for range maxHops {
		resp, body, err := s.send(req)
		if err != nil {
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			s.ev.Error = netError(err)
			return Undecided, nil
		}
		if next, ok := s.redirect(ctx, req, resp); ok {
			if o, stop := s.checkHandOff(next.URL); stop {
				s.ev.Status, s.ev.URL = resp.StatusCode, redactURL(resp.Request.URL)
				return o, nil
			}
			req = next
			continue
		}
		if next, o, done, err := s.signInPage(ctx, resp, body); done {
			return o, err
		} else if next != nil {
			req = next
			continue
		}
		if next, o, done := s.answerPage(ctx, resp, body); done {
			return o, nil
		} else if next != nil {
			req = next
			continue
		}
		return s.final(resp, body), nil
	}
	s.ev.Note = fmt.Sprintf("more than %d requests: a redirect loop", maxHops)
	return s.decided(), nil
}

// decided is Rejected once the application has its code, else Undecided:
// before the hand-off nothing about the key was tested.
func (s *session) decided() Outcome {
	if s.handedOff {
		return Rejected
	}
	return Undecided
}

// send makes one request, recording the hop.
func (s *session) send(req *http.Request) (*http.Response, []byte, error) {
	hop := Hop{Method: req.Method, URL: redactURL(req.URL)}
	resp, err := s.hc.Do(req)
	if err != nil {
		hop.Error = netError(err)
		s.ev.Hops = append(s.ev.Hops, hop)
		return nil, nil, err
	}
	hop.Status = resp.StatusCode
	if loc := resp.Header.Get("Location"); loc != "" {
		hop.Location = redactLocation(req.URL, loc)
	}
	s.ev.Hops = append(s.ev.Hops, hop)
	body, err := readBody(resp)
	return resp, body, err
}

// redirect returns the request a browser makes after a redirect answer.
func (s *session) redirect(ctx context.Context, req *http.Request, resp *http.Response) (*http.Request, bool) {
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return nil, false
	}
	loc := resp.Header.Get("Location")
	u, err := req.URL.Parse(loc)
	if loc == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, false
	}
	u.Fragment, u.RawFragment = "", ""
	keep := req.Method == http.MethodPost && (resp.StatusCode == http.StatusTemporaryRedirect || resp.StatusCode == http.StatusPermanentRedirect)
	if keep && s.form.Has("password") && !sameTarget(u, s.t.signIn) {
		return nil, false // the password goes to the issuer's sign-in endpoint only
	}
	if keep && s.form != nil {
		next, err := formRequest(ctx, u, s.form)
		return next, err == nil
	}
	next, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	return next, err == nil
}

// checkHandOff looks at where the issuer's answer to the sign-in form
// sends the browser: with a code, the application now decides; with an
// error, the issuer refused and nothing can be tested. A SAML or
// WS-Federation answer is a page, never a redirect.
func (s *session) checkHandOff(next *url.URL) (Outcome, bool) {
	if !s.awaiting {
		return "", false
	}
	s.awaiting = false
	q := next.Query()
	switch {
	case s.t.protocol != protocolOIDC:
		s.ev.Error = "the issuer answered the sign-in form with a redirect, not with a page that posts its answer to the application"
	case q.Get("code") != "":
		s.handedOff = true
		return "", false
	case q.Get("error") != "":
		s.ev.Error = fmt.Sprintf("the issuer refused the sign-in: %s: %s", printable(q.Get("error"), 100), printable(q.Get("error_description"), 200))
	default:
		s.ev.Error = "the issuer answered the sign-in form without an authorization code"
	}
	return Undecided, true
}

// signInPage handles keyroll's sign-in form: the first time it fills it
// in (next is the form's submission); after a failed submission the user
// cannot sign in (err); after the hand-off the application sent the
// browser back to sign in, a rejection (done).
func (s *session) signInPage(ctx context.Context, resp *http.Response, body []byte) (next *http.Request, o Outcome, done bool, err error) {
	form, perr := signin.ParseLoginForm(body)
	if perr != nil {
		return nil, "", false, nil
	}
	wasAwaiting := s.awaiting
	s.awaiting = false
	switch {
	case !s.posted:
		action, err := resp.Request.URL.Parse(form.Action)
		if err != nil || !sameTarget(action, s.t.signIn) {
			s.ev.Status, s.ev.URL = resp.StatusCode, redactURL(resp.Request.URL)
			s.ev.Error = fmt.Sprintf("a sign-in form that does not post to the issuer's sign-in endpoint %s; the drill sends the test user's password nowhere else", redactURL(s.t.signIn))
			return nil, Undecided, true, nil
		}
		s.form, s.posted, s.awaiting = form.Values(s.t.user, s.t.password), true, true
		next, err := formRequest(ctx, action, s.form)
		if err != nil {
			s.ev.Error = err.Error()
			return nil, Undecided, true, nil
		}
		return next, "", false, nil
	case wasAwaiting:
		why := form.Error
		if why == "" {
			why = "the sign-in form came back"
		}
		return nil, "", true, fmt.Errorf("%w (%s): %s", ErrSignIn, s.t.user, why)
	}
	s.ev.Status, s.ev.URL = resp.StatusCode, redactURL(resp.Request.URL)
	s.ev.Note = "ended back on the sign-in form: the application did not accept the sign-in"
	return nil, s.decided(), true, nil
}

func formRequest(ctx context.Context, u *url.URL, form url.Values) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}

// final classifies the page the session ended on.
func (s *session) final(resp *http.Response, body []byte) Outcome {
	hops := s.ev.Hops
	s.ev = answer(resp, body)
	s.ev.Hops = hops
	switch {
	case !s.posted:
		s.ev.Note = "the URL did not send a fresh browser to keyroll's sign-in page, so no key was tested"
		return Undecided
	case !s.handedOff:
		s.ev.Note = "the sign-in did not complete"
		return Undecided
	case resp.StatusCode/100 != 2:
		s.ev.Note = fmt.Sprintf("after sign-in the application answered HTTP %d at %s", resp.StatusCode, redactURL(resp.Request.URL))
		return Rejected
	case !sameTarget(resp.Request.URL, s.t.target):
		s.ev.Note = "after sign-in the browser ended on " + redactURL(resp.Request.URL) + ", not on the URL tested"
		return Rejected
	case s.t.expect != "" && !bytes.Contains(body, []byte(s.t.expect)):
		s.ev.Note = fmt.Sprintf("the final page does not contain %q", clip(s.t.expect, 100))
		return Rejected
	}
	return Accepted
}

// sameTarget: same scheme, host and path (an empty path is "/"); the
// query and fragment are ignored.
func sameTarget(got, want *url.URL) bool {
	path := func(u *url.URL) string {
		if u.EscapedPath() == "" {
			return "/"
		}
		return u.EscapedPath()
	}
	return strings.EqualFold(got.Scheme, want.Scheme) && strings.EqualFold(got.Host, want.Host) && path(got) == path(want)
}
