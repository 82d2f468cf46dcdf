package server

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/issuer/credential"
	"github.com/keyroll/keyroll/issuer/oidc"
	"github.com/keyroll/keyroll/issuer/signin"
)

// TestAuthorizationCodeFlow: a browser signs in through the form; the code
// redeems for an ID token and an access token signed by the primary, with
// the nonce, and userinfo answers for the access token.
func TestAuthorizationCodeFlow(t *testing.T) {
	e := newOAuthEnv(t)
	app := e.webApp(t)
	e.user(t, "alice", "correct horse battery")
	a := newAuthRequest(app.App.ClientID, "https://app.example/cb")
	code := e.codeFor(t, a, "ALICE", "correct horse battery")
	status, tok, bad := e.postForm(t, redeem(code, a), app.App.ClientID, app.ClientSecret)
	if status != 200 || tok.IDToken == "" || tok.Scope != "openid profile" {
		t.Fatalf("redeem: %d %+v %+v", status, tok, bad)
	}
	h, id := e.verified(t, tok.IDToken)
	now := float64(start.Unix())
	if h.Typ != "JWT" || h.Kid != e.m.Snapshot().Primary.KID || h.X5t == "" {
		t.Errorf("ID token header %+v", h)
	}
	for k, v := range map[string]any{"iss": e.ts.URL, "sub": "alice", "aud": app.App.ClientID, "azp": app.App.ClientID,
		"nonce": a.nonce, "preferred_username": "alice", "auth_time": now, "iat": now, "exp": now + 3600} {
		if id[k] != v {
			t.Errorf("ID token claim %s = %v, want %v", k, id[k], v)
		}
	}
	h, at := e.verified(t, tok.AccessToken)
	if h.Typ != "at+jwt" || at["aud"] != "api://web" || at["sub"] != "alice" || at["scope"] != "openid profile" {
		t.Errorf("access token %+v %v", h, at)
	}
	resp, body := do(t, "GET", e.ts.URL+oidc.UserInfoPath, tok.AccessToken, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"sub": "alice"`) || !strings.Contains(body, `"preferred_username": "alice"`) {
		t.Errorf("userinfo: %d %s", resp.StatusCode, body)
	}
}

// TestPublicClientPKCE: a public client signs in with PKCE and no secret.
func TestPublicClientPKCE(t *testing.T) {
	e := newOAuthEnv(t)
	app := e.createApp(t, adminapi.CreateAppRequest{Name: "cli", Public: true, RedirectURIs: []string{"http://127.0.0.1:8400/cb"}})
	if app.ClientSecret != "" {
		t.Fatal("a public client got a secret")
	}
	e.user(t, "bob", "hunter2hunter2")
	a := newAuthRequest(app.App.ClientID, "") // the one registered redirect URI
	code := e.codeFor(t, a, "bob", "hunter2hunter2")
	f := redeem(code, a)
	f.Del("redirect_uri")
	f.Set("client_id", app.App.ClientID)
	status, tok, bad := e.postForm(t, f, "", "")
	if status != 200 || tok.IDToken == "" {
		t.Fatalf("public redeem: %d %+v", status, bad)
	}
}

// TestCodeRedemptionErrors: a replayed, expired, wrong-client, wrong
// redirect or wrong-verifier code gets invalid_grant and no token, and
// changes nothing but spending the code.
func TestCodeRedemptionErrors(t *testing.T) {
	e := newOAuthEnv(t)
	app := e.webApp(t)
	other := e.createApp(t, adminapi.CreateAppRequest{Name: "other"})
	e.user(t, "alice", "correct horse battery")
	a := newAuthRequest(app.App.ClientID, "https://app.example/cb")
	auth := func(f url.Values) url.Values { return f }
	cases := []struct {
		name      string
		edit      func(url.Values) url.Values
		id, pass  string
		advance   time.Duration
		says      string
		retryWins bool // the code is not spent
	}{
		{"PKCE verifier mismatch", func(f url.Values) url.Values { f.Set("code_verifier", credential.Random(32)); return f }, app.App.ClientID, app.ClientSecret, 0, "does not match", false},
		{"verifier missing", func(f url.Values) url.Values { f.Del("code_verifier"); return f }, app.App.ClientID, app.ClientSecret, 0, "code_verifier is missing", false},
		{"malformed verifier", func(f url.Values) url.Values { f.Set("code_verifier", "short"); return f }, app.App.ClientID, app.ClientSecret, 0, "43 to 128", false},
		{"another client", auth, other.App.ClientID, other.ClientSecret, 0, "another client", false},
		{"other redirect_uri", func(f url.Values) url.Values { f.Set("redirect_uri", "http://127.0.0.1:9/cb"); return f }, app.App.ClientID, app.ClientSecret, 0, "redirect_uri", false},
		{"expired", auth, app.App.ClientID, app.ClientSecret, oidc.CodeLifetime + time.Second, "expired", false},
	}
	for _, c := range cases {
		code := e.codeFor(t, a, "alice", "correct horse battery")
		e.clk.Advance(c.advance)
		before := e.state(t)
		status, tok, bad := e.postForm(t, c.edit(redeem(code, a)), c.id, c.pass)
		if status != 400 || bad.Code != "invalid_grant" || !strings.Contains(bad.Description, c.says) || tok.AccessToken != "" {
			t.Errorf("%s: %d %+v, want invalid_grant saying %q", c.name, status, bad, c.says)
		}
		before.mustEqual(t, c.name, e.state(t))
		// The code was spent: the right request fails too.
		status, _, bad = e.postForm(t, redeem(code, a), app.App.ClientID, app.ClientSecret)
		if status != 400 || bad.Code != "invalid_grant" {
			t.Errorf("%s: retrying with the right request: %d %+v, want the spent code refused", c.name, status, bad)
		}
	}
	code := e.codeFor(t, a, "alice", "correct horse battery")
	if status, _, _ := e.postForm(t, redeem(code, a), app.App.ClientID, app.ClientSecret); status != 200 {
		t.Fatalf("first redemption: %d", status)
	}
	status, tok, bad := e.postForm(t, redeem(code, a), app.App.ClientID, app.ClientSecret)
	if status != 400 || bad.Code != "invalid_grant" || !strings.Contains(bad.Description, "already used") || tok.AccessToken != "" {
		t.Errorf("replayed code: %d %+v", status, bad)
	}
}

// TestAuthorizeShownErrors: a request whose client or redirect URI cannot
// be trusted is answered with a page, never redirected.
func TestAuthorizeShownErrors(t *testing.T) {
	e := newOAuthEnv(t)
	app := e.webApp(t)
	none := e.createApp(t, adminapi.CreateAppRequest{Name: "api"})
	cases := map[string]struct{ client, redirect, says string }{
		"unregistered redirect URI": {app.App.ClientID, "https://evil.example/cb", "is not registered"},
		"redirect URI prefix":       {app.App.ClientID, "https://app.example/cb/more", "is not registered"},
		"unknown client":            {"0123456789abcdef0123456789abcdef", "https://app.example/cb", "No application"},
		"no client":                 {"", "https://app.example/cb", "client_id is missing"},
		"several, none named":       {app.App.ClientID, "", "registers several"},
		"none registered":           {none.App.ClientID, "", "no redirect URI"},
	}
	before := e.state(t)
	for name, c := range cases {
		a := newAuthRequest(c.client, c.redirect)
		resp, page := newBrowser(t).get(a.url(e.ts.URL))
		if resp.StatusCode != 400 || resp.Header.Get("Location") != "" || !strings.Contains(page, c.says) {
			t.Errorf("%s: %d Location %q, page %q", name, resp.StatusCode, resp.Header.Get("Location"), page)
		}
		if !strings.Contains(page, `role="alert"`) || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("%s: error page lacks its alert or CSP", name)
		}
	}
	before.mustEqual(t, "refused authorization requests", e.state(t))
}

// TestAuthorizeRedirectedErrors: other errors go back to the application
// with error, state and iss.
func TestAuthorizeRedirectedErrors(t *testing.T) {
	e := newOAuthEnv(t)
	app := e.webApp(t)
	pub := e.createApp(t, adminapi.CreateAppRequest{Name: "spa", Public: true, RedirectURIs: []string{"https://spa.example/cb"}})
	base := newAuthRequest(app.App.ClientID, "https://app.example/cb")
	cases := map[string]struct {
		a    authRequest
		edit func(url.Values)
		code string
	}{
		"plain PKCE":          {base, func(q url.Values) { q.Set("code_challenge_method", "plain") }, "invalid_request"},
		"no method":           {base, func(q url.Values) { q.Del("code_challenge_method") }, "invalid_request"},
		"bad challenge":       {base, func(q url.Values) { q.Set("code_challenge", "abc") }, "invalid_request"},
		"token response":      {base, func(q url.Values) { q.Set("response_type", "token") }, "unsupported_response_type"},
		"prompt none":         {base, func(q url.Values) { q.Set("prompt", "none") }, "login_required"},
		"request object":      {base, func(q url.Values) { q.Set("request", "eyJ") }, "request_not_supported"},
		"public without PKCE": {authRequest{clientID: pub.App.ClientID, state: "s1"}, func(url.Values) {}, "invalid_request"},
	}
	for name, c := range cases {
		u, _ := url.Parse(c.a.url(e.ts.URL))
		q := u.Query()
		c.edit(q)
		u.RawQuery = q.Encode()
		resp, _ := newBrowser(t).get(u.String())
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Query().Get("error") != c.code ||
			loc.Query().Get("state") != c.a.state || loc.Query().Get("iss") != e.ts.URL || loc.Query().Has("code") {
			t.Errorf("%s: %d Location %q, want error %s with state", name, resp.StatusCode, resp.Header.Get("Location"), c.code)
		}
	}
}

// TestSignInForm: the page is accessible and script-free; a wrong password
// shows it again with an alert; the form is bound to the browser that
// opened it.
func TestSignInForm(t *testing.T) {
	e := newOAuthEnv(t)
	app := e.webApp(t)
	e.user(t, "alice", "correct horse battery")
	a := newAuthRequest(app.App.ClientID, "https://app.example/cb")
	b := newBrowser(t)
	resp, page := b.get(a.url(e.ts.URL))
	for _, want := range []string{`<html lang="en">`, `<label for="username">`, `<label for="password">`, `autocomplete="current-password"`, "Sign in to web", "app.example"} {
		if !strings.Contains(page, want) {
			t.Errorf("sign-in page lacks %s", want)
		}
	}
	if strings.Contains(page, "<script") || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Error("sign-in page has script or may be framed")
	}
	form, err := signin.ParseLoginForm([]byte(page))
	if err != nil {
		t.Fatal(err)
	}
	action, _ := resp.Request.URL.Parse(form.Action)
	before := e.state(t)
	for _, creds := range [][2]string{{"alice", "wrong password"}, {"mallory", "correct horse battery"}, {"alice", ""}} {
		resp, page = b.post(action.String(), form.Values(creds[0], creds[1]))
		again, err := signin.ParseLoginForm([]byte(page))
		if resp.StatusCode != 200 || err != nil || again.Error != "The user name or password is incorrect." || !strings.Contains(page, `aria-invalid="true"`) {
			t.Errorf("sign-in as %s with a bad password: %d, error %q", creds[0], resp.StatusCode, again.Error)
		}
	}
	// Another browser (no cookie, or its own) cannot use this form.
	other := newBrowser(t)
	if resp, page = other.post(action.String(), form.Values("alice", "correct horse battery")); resp.StatusCode != 400 || !strings.Contains(page, "not opened in this browser") {
		t.Errorf("form posted from another browser: %d %s", resp.StatusCode, page)
	}
	other.get(a.url(e.ts.URL)) // it now has a cookie of its own
	if resp, _ = other.post(action.String(), form.Values("alice", "correct horse battery")); resp.StatusCode != 400 {
		t.Errorf("form posted with another browser's cookie: %d", resp.StatusCode)
	}
	tampered := form.Values("alice", "correct horse battery")
	tampered.Set("login_request", strings.Replace(tampered.Get("login_request"), "e", "f", 1))
	if resp, _ = b.post(action.String(), tampered); resp.StatusCode != 400 {
		t.Errorf("altered form: %d", resp.StatusCode)
	}
	before.mustEqual(t, "failed sign-ins", e.state(t))
	e.clk.Advance(signin.FormLifetime + time.Second)
	if resp, page = b.post(action.String(), form.Values("alice", "correct horse battery")); resp.StatusCode != 400 || !strings.Contains(page, "expired") {
		t.Errorf("expired form: %d %s", resp.StatusCode, page)
	}
}

// TestSignInSetsNoSession: each sign-in asks again; success sets no cookie.
func TestSignInSetsNoSession(t *testing.T) {
	e := newOAuthEnv(t)
	app := e.webApp(t)
	e.user(t, "alice", "correct horse battery")
	b := newBrowser(t)
	a := newAuthRequest(app.App.ClientID, "https://app.example/cb")
	resp, page := b.get(a.url(e.ts.URL))
	form, _ := signin.ParseLoginForm([]byte(page))
	action, _ := resp.Request.URL.Parse(form.Action)
	resp, _ = b.post(action.String(), form.Values("alice", "correct horse battery"))
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 0 {
		t.Errorf("sign-in answered %d and set %d cookies, want 303 and none", resp.StatusCode, len(resp.Cookies()))
	}
	if resp, page = b.get(a.url(e.ts.URL)); resp.StatusCode != 200 || !strings.Contains(page, "<form") {
		t.Errorf("a second sign-in in the same browser did not ask again: %d", resp.StatusCode)
	}
}

// TestUserInfoErrors: userinfo refuses what is not a user access token of
// this issuer.
func TestUserInfoErrors(t *testing.T) {
	e := newOAuthEnv(t)
	api := e.createApp(t, adminapi.CreateAppRequest{Name: "api"})
	appToken := e.clientCredentials(t, api)
	parts := strings.Split(appToken, ".")
	cases := map[string]struct {
		token  string
		status int
		code   string
	}{
		"no token":      {"", 401, "invalid_request"},
		"garbage":       {"not.a.token", 401, "invalid_token"},
		"bad signature": {parts[0] + "." + parts[1] + "." + b64("x"), 401, "invalid_token"},
		"app token":     {appToken, 403, "insufficient_scope"},
		"too long":      {strings.Repeat("a", oidc.MaxAccessToken+1), 401, "invalid_token"},
	}
	for name, c := range cases {
		resp, body := do(t, "GET", e.ts.URL+oidc.UserInfoPath, c.token, "")
		if resp.StatusCode != c.status || !strings.Contains(body, c.code) || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: %d %s (WWW-Authenticate %q)", name, resp.StatusCode, body, resp.Header.Get("WWW-Authenticate"))
		}
	}
	e.clk.Advance(2 * time.Hour)
	if resp, body := do(t, "GET", e.ts.URL+oidc.UserInfoPath, appToken, ""); resp.StatusCode != 401 || !strings.Contains(body, "expired") {
		t.Errorf("expired token: %d %s", resp.StatusCode, body)
	}
}
