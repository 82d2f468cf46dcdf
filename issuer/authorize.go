package issuer

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/keyroll/keyroll/store"
)

// Bounds on authorization request parameters.
const (
	maxAuthorizeForm = 16 << 10
	maxState         = 1024
	maxNonce         = 512
	maxScope         = 1024
)

// loginRequest is a checked authorization request, carried through the
// sign-in form in a handle bound by HMAC to the browser's sign-in cookie.
type loginRequest struct {
	ClientID    string `json:"c"`
	RedirectURI string `json:"r,omitempty"` // as sent; "" when omitted
	Redirect    string `json:"e"`           // where the answer goes
	State       string `json:"s,omitempty"`
	Nonce       string `json:"n,omitempty"`
	Scope       string `json:"sc,omitempty"`
	Challenge   string `json:"cc,omitempty"`
	Issued      int64  `json:"t"`
}

// authError is an authorization request error: shown to the user when
// redirect is empty (the client or redirect URI cannot be trusted), else
// sent to the application's redirect URI.
type authError struct {
	redirect, state string
	code, desc      string
}

// authorize starts the authorization-code flow (GET).
func (p *provider) authorize(w http.ResponseWriter, r *http.Request) {
	p.startSignIn(w, r, r.URL.Query())
}

// authorizePost takes a submitted sign-in form, or an authorization
// request sent by POST (OIDC Core §3.1.2.1).
func (p *provider) authorizePost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxAuthorizeForm)
	if err := r.ParseForm(); err != nil {
		p.showError(w, http.StatusBadRequest, "The request does not parse.")
		return
	}
	if r.PostForm.Has("login_request") {
		p.finishSignIn(w, r, r.PostForm)
		return
	}
	p.startSignIn(w, r, r.PostForm)
}

func (p *provider) startSignIn(w http.ResponseWriter, r *http.Request, q url.Values) {
	req, app, aerr := p.checkAuthorize(r.Context(), q)
	if aerr != nil {
		p.answerError(w, r, aerr)
		return
	}
	req.Issued = p.m.Now().Unix()
	cookie := signInCookie(r)
	handle, err := p.sealRequest(r.Context(), req, cookie)
	if err != nil {
		p.log().Error("sign-in form", "err", err)
		p.showError(w, http.StatusInternalServerError, "The sign-in page is unavailable; try again later.")
		return
	}
	p.setSignInCookie(w, cookie)
	p.showLogin(w, http.StatusOK, loginPage{App: app.Name, Host: hostOf(req.Redirect), Handle: handle, Username: clip(q.Get("login_hint"))})
}

// checkAuthorize checks an authorization request (RFC 6749 §4.1.1, RFC
// 7636, OIDC Core §3.1.2). Client and redirect URI errors are shown, never
// redirected; the rest go back to the application.
func (p *provider) checkAuthorize(ctx context.Context, q url.Values) (loginRequest, store.Application, *authError) {
	for _, k := range []string{"client_id", "redirect_uri", "state", "response_type", "code_challenge", "code_challenge_method", "nonce", "scope"} {
		if len(q[k]) > 1 {
			return loginRequest{}, store.Application{}, &authError{code: errInvalidRequest, desc: "parameter " + k + " is repeated"}
		}
	}
	app, redirect, aerr := p.checkClient(ctx, q.Get("client_id"), q.Get("redirect_uri"))
	if aerr != nil {
		return loginRequest{}, app, aerr
	}
	req := loginRequest{ClientID: app.ClientID, RedirectURI: q.Get("redirect_uri"), Redirect: redirect,
		State: q.Get("state"), Nonce: q.Get("nonce"), Challenge: q.Get("code_challenge"), Scope: grantedScope(q.Get("scope"))}
	fail := func(code, desc string) (loginRequest, store.Application, *authError) {
		return req, app, &authError{redirect: redirect, state: clip(req.State), code: code, desc: desc}
	}
	method := q.Get("code_challenge_method")
	switch {
	case len(req.State) > maxState || len(req.Nonce) > maxNonce || len(q.Get("scope")) > maxScope:
		return fail(errInvalidRequest, "state, nonce or scope is too long")
	case q.Get("response_type") != "code":
		return fail(errUnsupportedResponse, "response_type must be code")
	case q.Get("response_mode") != "" && q.Get("response_mode") != "query":
		return fail(errInvalidRequest, "response_mode must be query")
	case q.Has("request"):
		return fail("request_not_supported", "request objects are not supported")
	case q.Has("request_uri"):
		return fail("request_uri_not_supported", "request_uri is not supported")
	case req.Challenge == "" && method != "":
		return fail(errInvalidRequest, "code_challenge_method without code_challenge")
	case req.Challenge != "" && method != "S256":
		return fail(errInvalidRequest, "code_challenge_method must be S256; plain is not supported")
	case req.Challenge != "" && !validChallenge(req.Challenge):
		return fail(errInvalidRequest, "code_challenge must be the base64url SHA-256 of the code_verifier (43 characters)")
	case req.Challenge == "" && app.Public():
		return fail(errInvalidRequest, "public clients must use PKCE: send code_challenge with code_challenge_method=S256")
	case slices.Contains(strings.Fields(q.Get("prompt")), "none"):
		return fail(errLoginRequired, "keyroll keeps no sign-in session; every sign-in shows the form")
	}
	return req, app, nil
}

// checkClient finds the application and the redirect URI to answer at:
// the one sent, which must be registered exactly, or the only one
// registered.
func (p *provider) checkClient(ctx context.Context, clientID, sent string) (store.Application, string, *authError) {
	show := func(desc string) *authError { return &authError{desc: desc} }
	if clientID == "" {
		return store.Application{}, "", show("The request names no application (client_id is missing).")
	}
	app, err := p.st().App(ctx, clientID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return app, "", show("No application is registered with client_id " + clip(clientID) + ".")
	case err != nil:
		p.log().Error("client lookup", "err", err)
		return app, "", show("The sign-in service is unavailable; try again later.")
	case sent != "" && !slices.Contains(app.RedirectURIs, sent):
		return app, "", show("The redirect URI " + clip(sent) + " is not registered for the application " + app.Name +
			"; the sign-in stops here so that nothing is sent to it.")
	case sent != "":
		return app, sent, nil
	case len(app.RedirectURIs) == 1:
		return app, app.RedirectURIs[0], nil
	case len(app.RedirectURIs) == 0:
		return app, "", show("The application " + app.Name + " has no redirect URI registered, so it cannot sign users in.")
	}
	return app, "", show("The request has no redirect_uri and the application " + app.Name + " registers several.")
}

// grantedScope keeps the requested scopes keyroll supports, in order.
func grantedScope(requested string) string {
	var out []string
	for _, s := range strings.Fields(requested) {
		if slices.Contains(supportedScopes, s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

func (p *provider) answerError(w http.ResponseWriter, r *http.Request, e *authError) {
	if e.redirect == "" {
		p.showError(w, http.StatusBadRequest, e.desc)
		return
	}
	v := url.Values{"error": {e.code}, "error_description": {e.desc}}
	p.redirect(w, r, e.redirect, e.state, v)
}

// redirect answers at the application's redirect URI, keeping its query.
func (p *provider) redirect(w http.ResponseWriter, r *http.Request, to, state string, v url.Values) {
	if state != "" {
		v.Set("state", state)
	}
	v.Set("iss", p.issuerURL())
	sep := "?"
	if strings.Contains(to, "?") {
		sep = "&"
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, to+sep+v.Encode(), http.StatusSeeOther)
}

// The sign-in cookie binds a form to the browser that opened it, so a form
// handle copied into another browser (login CSRF) is refused.
const signInCookieName = "keyroll_signin"

func signInCookie(r *http.Request) string {
	if c, err := r.Cookie(signInCookieName); err == nil && len(c.Value) == 43 {
		if _, err := base64.RawURLEncoding.DecodeString(c.Value); err == nil {
			return c.Value
		}
	}
	return randomString(32)
}

func (p *provider) setSignInCookie(w http.ResponseWriter, v string) {
	path := AuthorizePath // behind a proxy that adds a prefix, the issuer URL's path
	if u, err := url.Parse(p.endpoint(AuthorizePath)); err == nil && u.Path != "" {
		path = u.Path
	}
	http.SetCookie(w, &http.Cookie{Name: signInCookieName, Value: v, Path: path,
		MaxAge: int(loginFormLifetime / time.Second), HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: strings.HasPrefix(p.issuerURL(), "https://")})
}

// sealRequest makes the form handle: the request, and an HMAC over it and
// the browser's cookie.
func (p *provider) sealRequest(ctx context.Context, req loginRequest, cookie string) (string, error) {
	key, err := p.loginKey(ctx)
	if err != nil {
		return "", err
	}
	js, err := json.Marshal(req)
	if err != nil {
		return "", err
	}
	payload := base64.RawURLEncoding.EncodeToString(js)
	return payload + "." + base64.RawURLEncoding.EncodeToString(formMAC(key, payload, cookie)), nil
}

var errBadHandle = errors.New("sign-in form handle does not verify")

// openRequest checks a form handle against the browser's cookie.
func (p *provider) openRequest(ctx context.Context, handle, cookie string) (loginRequest, error) {
	key, err := p.loginKey(ctx)
	if err != nil {
		return loginRequest{}, err
	}
	payload, mac64, ok := strings.Cut(handle, ".")
	mac, err := base64.RawURLEncoding.DecodeString(mac64)
	if !ok || err != nil || !hmac.Equal(mac, formMAC(key, payload, cookie)) {
		return loginRequest{}, errBadHandle
	}
	js, err := base64.RawURLEncoding.DecodeString(payload)
	var req loginRequest
	if err != nil || json.Unmarshal(js, &req) != nil {
		return loginRequest{}, errBadHandle
	}
	return req, nil
}

func formMAC(key []byte, payload, cookie string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("keyroll sign-in form v1\x00" + cookie + "\x00" + payload))
	return h.Sum(nil)
}

func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Host
	}
	return raw
}
