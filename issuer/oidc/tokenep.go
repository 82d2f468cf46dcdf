package oidc

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/internal/httpjson"
	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/issuer/credential"
	"github.com/keyroll/keyroll/issuer/signin"
	"github.com/keyroll/keyroll/issuer/throttle"
	"github.com/keyroll/keyroll/store"
)

// maxTokenRequest bounds token endpoint request bodies.
const maxTokenRequest = 16 << 10

// OAuth 2.0 error codes (RFC 6749 §4.1.2.1, §5.2; OIDC Core §3.1.2.6).
const (
	errInvalidRequest       = "invalid_request"
	errInvalidClient        = "invalid_client"
	errInvalidGrant         = "invalid_grant"
	errUnauthorizedClient   = "unauthorized_client"
	errUnsupportedGrantType = "unsupported_grant_type"
	errUnsupportedResponse  = "unsupported_response_type"
	errServerError          = "server_error"
	errTemporarily          = "temporarily_unavailable"
	errLoginRequired        = "login_required"
	errInvalidToken         = "invalid_token"
	errInsufficientScope    = "insufficient_scope"
)

func tokenErr(status int, code, format string, args ...any) *adminapi.TokenError {
	return &adminapi.TokenError{Status: status, Code: code, Description: fmt.Sprintf(format, args...)}
}

func badRequest(code, format string, args ...any) *adminapi.TokenError {
	return tokenErr(http.StatusBadRequest, code, format, args...)
}

// internalErr maps an unexpected error to server_error (or
// temporarily_unavailable when no key can sign); the detail is logged, not
// sent.
func (p *provider) internalErr(what string, err error) *adminapi.TokenError {
	p.log.Error(what+" failed", "err", err)
	if errors.Is(err, issuer.ErrNoSigningKey) {
		return tokenErr(http.StatusServiceUnavailable, errTemporarily, "the issuer has no usable signing key; try again later")
	}
	return tokenErr(http.StatusInternalServerError, errServerError, "the issuer could not complete the request")
}

func writeTokenError(w http.ResponseWriter, e *adminapi.TokenError) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="keyroll", error="invalid_client"`)
	}
	w.Header().Set("Pragma", "no-cache")
	httpjson.Write(w, e.Status, e)
}

// tokenMethod answers requests to the token endpoint that are not POST.
func (p *provider) tokenMethod(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", http.MethodPost)
	writeTokenError(w, tokenErr(http.StatusMethodNotAllowed, errInvalidRequest, "the token endpoint takes POST with a form body"))
}

// token is the token endpoint (RFC 6749 §3.2).
func (p *provider) token(w http.ResponseWriter, r *http.Request) {
	form, terr := tokenForm(w, r)
	if terr == nil {
		var app store.Application
		if app, terr = p.authenticate(r.Context(), r, form); terr == nil {
			var resp *adminapi.TokenResponse
			if resp, terr = p.grant(r.Context(), app, form); terr == nil {
				w.Header().Set("Pragma", "no-cache")
				httpjson.Write(w, http.StatusOK, resp)
				return
			}
		}
	}
	id := form.Get("client_id")
	if user, _, ok := r.BasicAuth(); ok {
		id, _ = url.QueryUnescape(user)
	}
	p.log.Info("token request refused", "client_id", issuer.Clip(id), "grant_type", issuer.Clip(form.Get("grant_type")), "error", terr.Code)
	writeTokenError(w, terr)
}

func (p *provider) grant(ctx context.Context, app store.Application, form url.Values) (*adminapi.TokenResponse, *adminapi.TokenError) {
	switch gt := form.Get("grant_type"); gt {
	case "client_credentials":
		return p.clientCredentials(ctx, app)
	case "authorization_code":
		return p.authorizationCode(ctx, app, form)
	case "":
		return nil, badRequest(errInvalidRequest, "grant_type is missing")
	default:
		return nil, badRequest(errUnsupportedGrantType, "grant_type %q is not supported; use authorization_code or client_credentials", issuer.Clip(gt))
	}
}

// tokenForm reads the form body: bounded, each parameter at most once
// (RFC 6749 §3.2), never from the URL query.
func tokenForm(w http.ResponseWriter, r *http.Request) (url.Values, *adminapi.TokenError) {
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenRequest)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
		return url.Values{}, badRequest(errInvalidRequest, "the body must be application/x-www-form-urlencoded")
	}
	if err := r.ParseForm(); err != nil {
		return url.Values{}, badRequest(errInvalidRequest, "the form body does not parse (limit %d bytes)", maxTokenRequest)
	}
	for k, v := range r.PostForm {
		if len(v) > 1 {
			return url.Values{}, badRequest(errInvalidRequest, "parameter %q is repeated", issuer.Clip(k))
		}
	}
	return r.PostForm, nil
}

// errClientAuth is the one answer to every failed client authentication:
// an unknown client, a wrong secret and a method the client does not use
// look alike (RFC 6749 §5.2), so the endpoint does not tell which client
// ids exist. The precise reason goes to the log.
const errClientAuth = "client authentication failed: unknown client, wrong secret, or an authentication method this client does not use"

// dummySecretHash is compared against when the client does not exist, so
// that an unknown client costs what a wrong secret does.
var dummySecretHash = credential.SecretHash(credential.Random(32))

// authenticate identifies the client by client_secret_basic,
// client_secret_post, or, for a public client, its client_id alone,
// throttled per client id and per address.
func (p *provider) authenticate(ctx context.Context, r *http.Request, form url.Values) (store.Application, *adminapi.TokenError) {
	id, secret, basic, terr := clientCredentialsOf(r, form)
	if terr != nil {
		return store.Application{}, terr
	}
	if id == "" {
		return store.Application{}, tokenErr(http.StatusUnauthorized, errInvalidClient, "no client authentication: send client_id and client_secret (HTTP Basic or form), or client_id alone for a public client")
	}
	addr := signin.ClientAddr(r)
	if wait := p.signin.Clients.Wait(id, addr); wait > 0 {
		e := tokenErr(http.StatusTooManyRequests, errInvalidClient, "too many failed client authentications; retry in %s", throttle.WaitText(wait))
		e.RetryAfter = int((wait + time.Second - 1) / time.Second)
		return store.Application{}, e
	}
	app, err := p.st.App(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return app, p.internalErr("client lookup", err)
	}
	var why string
	switch {
	case err != nil:
		credential.SecretMatches(secret, dummySecretHash)
		why = "unknown client_id"
	case app.Proto() != store.ProtocolOIDC:
		credential.SecretMatches(secret, dummySecretHash)
		why = "a " + string(app.Proto()) + " application, not an OAuth client"
	case app.Public() && secret != "":
		why = "a public client sent a secret"
	case app.Public():
		p.signin.Clients.Succeeded(id)
		return app, nil
	case secret == "" && !basic:
		why = "a confidential client sent no secret"
	case !credential.SecretMatches(secret, app.SecretHash):
		why = "wrong client secret"
	default:
		p.signin.Clients.Succeeded(id)
		return app, nil
	}
	p.signin.Clients.Failed(ctx, id, addr)
	p.log.Info("client authentication failed", "client_id", issuer.Clip(id), "reason", why)
	return store.Application{}, tokenErr(http.StatusUnauthorized, errInvalidClient, errClientAuth)
}

// clientCredentialsOf extracts the client id and secret. Using HTTP Basic
// and form credentials together is refused (RFC 6749 §2.3).
func clientCredentialsOf(r *http.Request, form url.Values) (id, secret string, basic bool, terr *adminapi.TokenError) {
	bid, bsecret, basic := r.BasicAuth()
	if !basic {
		if r.Header.Get("Authorization") != "" {
			return "", "", false, tokenErr(http.StatusUnauthorized, errInvalidClient, "the Authorization header is not HTTP Basic client authentication")
		}
		return form.Get("client_id"), form.Get("client_secret"), false, nil
	}
	if form.Has("client_secret") {
		return "", "", true, badRequest(errInvalidRequest, "client credentials are in both the Authorization header and the form; use one method")
	}
	var err1, err2 error
	id, err1 = url.QueryUnescape(bid)
	secret, err2 = url.QueryUnescape(bsecret)
	if err1 != nil || err2 != nil {
		return "", "", true, tokenErr(http.StatusUnauthorized, errInvalidClient, "the HTTP Basic credentials are not form-encoded (RFC 6749 §2.3.1)")
	}
	if fid := form.Get("client_id"); fid != "" && fid != id {
		return "", "", true, badRequest(errInvalidRequest, "client_id in the form differs from the HTTP Basic user")
	}
	return id, secret, true, nil
}

func (p *provider) clientCredentials(ctx context.Context, app store.Application) (*adminapi.TokenResponse, *adminapi.TokenError) {
	if app.Public() {
		return nil, badRequest(errUnauthorizedClient, "client %q is a public client and cannot use client_credentials", app.ClientID)
	}
	resp, err := p.mint(ctx, grant{app: app})
	if err != nil {
		return nil, p.internalErr("client credentials token", err)
	}
	return resp, nil
}

// authorizationCode redeems a code. The code is consumed before it is
// checked, so a code presented with the wrong client, redirect URI or PKCE
// verifier is spent: it may have been stolen (RFC 6749 §10.5).
func (p *provider) authorizationCode(ctx context.Context, app store.Application, form url.Values) (*adminapi.TokenResponse, *adminapi.TokenError) {
	code := form.Get("code")
	if code == "" {
		return nil, badRequest(errInvalidRequest, "code is missing")
	}
	sum := sha256.Sum256([]byte(code))
	ac, err := p.st.ConsumeCode(ctx, sum[:])
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, badRequest(errInvalidGrant, "the authorization code is invalid or was already used")
	case err != nil:
		return nil, p.internalErr("code redemption", err)
	}
	if terr := p.checkCode(ac, app, form); terr != nil {
		return nil, terr
	}
	if _, err := p.st.User(ctx, ac.Username); errors.Is(err, store.ErrNotFound) {
		return nil, badRequest(errInvalidGrant, "the user %q no longer exists", ac.Username)
	} else if err != nil {
		return nil, p.internalErr("user lookup", err)
	}
	resp, err := p.mint(ctx, grant{app: app, user: ac.Username, scope: ac.Scope, nonce: ac.Nonce, authTime: ac.AuthTime})
	if err != nil {
		return nil, p.internalErr("authorization code token", err)
	}
	return resp, nil
}

// checkCode checks a consumed code against the request redeeming it.
func (p *provider) checkCode(ac store.AuthCode, app store.Application, form url.Values) *adminapi.TokenError {
	verifier := form.Get("code_verifier")
	switch {
	case !p.keys.Now().Before(ac.ExpiresAt):
		return badRequest(errInvalidGrant, "the authorization code expired at %s (codes live %s)", ac.ExpiresAt.UTC().Format("15:04:05Z"), CodeLifetime)
	case ac.ClientID != app.ClientID:
		return badRequest(errInvalidGrant, "the authorization code was issued to another client")
	case form.Get("redirect_uri") != ac.RedirectURI:
		return badRequest(errInvalidGrant, "redirect_uri must be the one sent in the authorization request")
	case ac.Challenge == "" && verifier != "":
		return badRequest(errInvalidGrant, "code_verifier sent, but the authorization request had no code_challenge")
	case ac.Challenge == "" && app.Public():
		return badRequest(errInvalidGrant, "public clients must use PKCE")
	case ac.Challenge == "":
		return nil
	case verifier == "":
		return badRequest(errInvalidGrant, "code_verifier is missing: the authorization request used PKCE")
	case !validVerifier(verifier):
		return badRequest(errInvalidGrant, "code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~")
	case !pkceMatches(verifier, ac.Challenge):
		return badRequest(errInvalidGrant, "PKCE verification failed: code_verifier does not match the code_challenge")
	}
	return nil
}
