package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/issuer/signin"
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
		signin.ShowError(w, http.StatusBadRequest, "The request does not parse.")
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
	cookie := signin.Cookie(r)
	handle, err := p.signin.Seal(r.Context(), "oidc", req, cookie)
	if err != nil {
		p.log.Error("sign-in form", "err", err)
		signin.ShowError(w, http.StatusInternalServerError, "The sign-in page is unavailable; try again later.")
		return
	}
	p.signin.SetCookie(w, p.cookiePath(), cookie)
	signin.ShowLogin(w, http.StatusOK, signin.Page{App: app.Name, Host: signin.HostOf(req.Redirect), Action: "authorize", Handle: handle, Username: issuer.Clip(q.Get("login_hint"))})
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
		return req, app, &authError{redirect: redirect, state: issuer.Clip(req.State), code: code, desc: desc}
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
	app, err := p.st.App(ctx, clientID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return app, "", show("No application is registered with client_id " + issuer.Clip(clientID) + ".")
	case err != nil:
		p.log.Error("client lookup", "err", err)
		return app, "", show("The sign-in service is unavailable; try again later.")
	case app.Proto() != store.ProtocolOIDC:
		return app, "", show("The application " + app.Name + " signs users in over " + string(app.Proto()) + ", not OpenID Connect.")
	case sent != "" && !slices.Contains(app.RedirectURIs, sent):
		return app, "", show("The redirect URI " + issuer.Clip(sent) + " is not registered for the application " + app.Name +
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
		signin.ShowError(w, http.StatusBadRequest, e.desc)
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
	v.Set("iss", p.keys.Issuer())
	sep := "?"
	if strings.Contains(to, "?") {
		sep = "&"
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, to+sep+v.Encode(), http.StatusSeeOther)
}

// cookiePath is the path of the sign-in cookie: the authorize endpoint,
// under the issuer URL's path (behind a proxy that adds a prefix).
func (p *provider) cookiePath() string {
	if u, err := url.Parse(p.keys.Endpoint(AuthorizePath)); err == nil && u.Path != "" {
		return u.Path
	}
	return AuthorizePath
}
