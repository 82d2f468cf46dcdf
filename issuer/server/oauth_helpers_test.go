package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/issuer/credential"
	"github.com/keyroll/keyroll/issuer/issuertest"
	"github.com/keyroll/keyroll/issuer/oidc"
	"github.com/keyroll/keyroll/issuer/signin"
	"github.com/keyroll/keyroll/jws"
	"github.com/keyroll/keyroll/keys"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// oauthEnv is an issuer served over HTTP whose issuer URL is its own
// address, with a fake clock and an admin client.
type oauthEnv struct {
	m   *issuer.Manager
	clk *clock.Fake
	ts  *httptest.Server
	c   *adminapi.Client
	st  store.Store
}

func newOAuthEnv(t testing.TB) *oauthEnv {
	t.Helper()
	st := openSQLite(t, t.TempDir())
	t.Cleanup(func() { st.Close() })
	return serveOn(t, st, testKEK(t), clock.NewFake(start))
}

// serveOn starts an issuer on st; replicas share st's database, sealer and clock.
func serveOn(t testing.TB, st store.Store, sealer *keys.Sealer, clk *clock.Fake) *oauthEnv {
	t.Helper()
	return serveAlg(t, st, sealer, clk, "ES256")
}

// newRSAEnv is newOAuthEnv with RS256 keys, keyroll's default.
func newRSAEnv(t testing.TB) *oauthEnv {
	t.Helper()
	st := openSQLite(t, t.TempDir())
	t.Cleanup(func() { st.Close() })
	return serveAlg(t, st, testKEK(t), clock.NewFake(start), "RS256")
}

func serveAlg(t testing.TB, st store.Store, sealer *keys.Sealer, clk *clock.Fake, alg string) *oauthEnv {
	t.Helper()
	m, ts := issuertest.Serve(t, issuer.Config{Store: st, Sealer: sealer, KeySpec: keys.Spec{Alg: alg}, Clock: clk},
		func(m *issuer.Manager) http.Handler { return New(m, Options{}) })
	return &oauthEnv{m: m, clk: clk, ts: ts, c: &adminapi.Client{BaseURL: ts.URL}, st: st}
}

func (e *oauthEnv) createApp(t testing.TB, req adminapi.CreateAppRequest) *adminapi.CreatedApp {
	t.Helper()
	out, err := e.c.CreateApp(context.Background(), req)
	if err != nil {
		t.Fatalf("CreateApp(%s): %v", req.Name, err)
	}
	return out
}

// webApp registers a confidential application that signs users in at
// https://app.example/cb.
func (e *oauthEnv) webApp(t testing.TB) *adminapi.CreatedApp {
	return e.createApp(t, adminapi.CreateAppRequest{Name: "web", RedirectURIs: []string{"https://app.example/cb", "http://127.0.0.1:9/cb"}, Audience: "api://web"})
}

func (e *oauthEnv) user(t testing.TB, name, password string) {
	t.Helper()
	if _, err := e.c.CreateUser(context.Background(), name, password); err != nil {
		t.Fatal(err)
	}
}

// postForm posts a token request and decodes the answer.
func (e *oauthEnv) postForm(t testing.TB, form url.Values, user, pass string) (int, adminapi.TokenResponse, adminapi.TokenError) {
	t.Helper()
	req, _ := http.NewRequest("POST", e.ts.URL+oidc.TokenPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var ok adminapi.TokenResponse
	var bad adminapi.TokenError
	if resp.StatusCode == 200 {
		json.Unmarshal(b, &ok)
	} else if err := json.Unmarshal(b, &bad); err != nil || bad.Code == "" {
		t.Fatalf("error answer %d is not an OAuth error: %s", resp.StatusCode, b)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("token answer Cache-Control %q, want no-store", cc)
	}
	return resp.StatusCode, ok, bad
}

// clientCredentials gets a token for a confidential app.
func (e *oauthEnv) clientCredentials(t testing.TB, app *adminapi.CreatedApp) string {
	t.Helper()
	tok, err := e.c.ClientCredentials(context.Background(), app.App.ClientID, app.ClientSecret)
	if err != nil {
		t.Fatalf("client credentials: %v", err)
	}
	return tok.AccessToken
}

// verified checks a token's signature against the issuer's published key
// named by its kid and returns its header and claims.
func (e *oauthEnv) verified(t testing.TB, token string) (jws.Header, map[string]any) {
	t.Helper()
	tok, err := jws.Parse(token)
	if err != nil {
		t.Fatalf("token does not parse: %v", err)
	}
	snap := e.m.Snapshot()
	cert := snap.Certs[tok.Header.Kid]
	if cert == nil {
		t.Fatalf("token kid %s is not published", tok.Header.Kid)
	}
	if err := jws.VerifySignature(tok.Header.Alg, cert.PublicKey, tok.SigningInput, tok.Signature); err != nil {
		t.Fatalf("token signature: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(tok.Payload, &claims); err != nil {
		t.Fatal(err)
	}
	return tok.Header, claims
}

// kidOf returns the kid a token was signed with.
func kidOf(t testing.TB, token string) string {
	t.Helper()
	tok, err := jws.Parse(token)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Header.Kid
}

// state is everything an operation may change: keys, audit log,
// applications and users.
type state struct {
	keys   []lifecycle.Key
	events []lifecycle.Event
	apps   []store.Application
	users  []store.User
}

func (e *oauthEnv) state(t testing.TB) state {
	t.Helper()
	ctx := context.Background()
	var s state
	var err1, err2, err3, err4 error
	s.keys, _, err1 = e.st.Keys(ctx)
	s.events, err2 = e.st.Events(ctx, time.Time{}, 0)
	s.apps, err3 = e.st.Apps(ctx)
	s.users, err4 = e.st.Users(ctx)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s state) mustEqual(t testing.TB, what string, after state) {
	t.Helper()
	if !reflect.DeepEqual(s, after) {
		t.Errorf("%s changed the stored state:\nbefore %+v\nafter  %+v", what, s, after)
	}
}

// browser is a fresh browser session: a cookie jar, redirects not followed.
type browser struct {
	t  testing.TB
	hc *http.Client
}

func newBrowser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browser) get(u string) (*http.Response, string) {
	req, _ := http.NewRequest("GET", u, nil)
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) (*http.Response, string) {
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// authRequest is an authorization request with PKCE.
type authRequest struct {
	clientID, redirect, state, nonce, verifier, scope string
}

func newAuthRequest(clientID, redirect string) authRequest {
	return authRequest{clientID: clientID, redirect: redirect, state: "st-" + credential.Random(8), nonce: "n-" + credential.Random(8),
		verifier: credential.Random(32), scope: "openid profile"}
}

func (a authRequest) url(base string) string {
	q := url.Values{"client_id": {a.clientID}, "response_type": {"code"}, "state": {a.state}, "nonce": {a.nonce}, "scope": {a.scope}}
	if a.redirect != "" {
		q.Set("redirect_uri", a.redirect)
	}
	if a.verifier != "" {
		q.Set("code_challenge", pkce(a.verifier))
		q.Set("code_challenge_method", "S256")
	}
	return base + oidc.AuthorizePath + "?" + q.Encode()
}

// signIn plays the browser through the sign-in form and returns the
// redirect it ends at.
func (b *browser) signIn(e *oauthEnv, a authRequest, user, password string) *url.URL {
	b.t.Helper()
	resp, page := b.get(a.url(e.ts.URL))
	if resp.StatusCode != 200 {
		b.t.Fatalf("authorize: %d %s", resp.StatusCode, page)
	}
	form, err := signin.ParseLoginForm([]byte(page))
	if err != nil {
		b.t.Fatalf("signin.ParseLoginForm: %v\n%s", err, page)
	}
	action, _ := resp.Request.URL.Parse(form.Action)
	resp, page = b.post(action.String(), form.Values(user, password))
	if resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("sign-in answered %d, want 303: %s", resp.StatusCode, page)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		b.t.Fatal(err)
	}
	return loc
}

// codeFor signs in and returns the authorization code.
func (e *oauthEnv) codeFor(t testing.TB, a authRequest, user, password string) string {
	t.Helper()
	loc := newBrowser(t).signIn(e, a, user, password)
	q := loc.Query()
	if q.Get("state") != a.state || q.Get("code") == "" || q.Get("iss") != e.ts.URL {
		t.Fatalf("redirect %s: want code, state %s and iss", loc, a.state)
	}
	return q.Get("code")
}

func redeem(code string, a authRequest) url.Values {
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {a.redirect}}
	if a.verifier != "" {
		f.Set("code_verifier", a.verifier)
	}
	return f
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
