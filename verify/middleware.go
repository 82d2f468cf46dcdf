package verify

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

// TokenVerifier is what the middleware needs: a [Verifier] or a [Registry].
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (*Claims, error)
}

// ErrNoToken: the request carries no bearer token.
var ErrNoToken = errors.New("verify: no bearer token")

// ErrBadRequest: the Authorization header is malformed (sent twice, or a
// token with characters outside RFC 6750's b64token); [Unauthorized]
// answers 400 invalid_request.
var ErrBadRequest = errors.New("verify: malformed Authorization header")

type middleware struct {
	realm   string
	onError func(http.ResponseWriter, *http.Request, error)
}

// MiddlewareOption configures [Middleware].
type MiddlewareOption func(*middleware)

// WithRealm adds realm="..." to WWW-Authenticate challenges.
func WithRealm(realm string) MiddlewareOption { return func(m *middleware) { m.realm = realm } }

// WithErrorHandler replaces the default rejection (see [Unauthorized]).
// err wraps [ErrNoToken] when no token was sent.
func WithErrorHandler(h func(http.ResponseWriter, *http.Request, error)) MiddlewareOption {
	return func(m *middleware) { m.onError = h }
}

// Middleware admits requests with a valid bearer token (RFC 6750
// Authorization header), putting the claims in the request context (see
// [ClaimsFromContext]); others get 401 with a WWW-Authenticate challenge
// and never reach next.
func Middleware(v TokenVerifier, opts ...MiddlewareOption) func(http.Handler) http.Handler {
	m := &middleware{}
	for _, o := range opts {
		o(m)
	}
	if m.onError == nil {
		m.onError = func(w http.ResponseWriter, r *http.Request, err error) { Unauthorized(w, m.realm, err) }
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, err := BearerToken(r)
			if err == nil {
				var c *Claims
				if c, err = v.Verify(r.Context(), tok); err == nil {
					next.ServeHTTP(w, r.WithContext(ContextWithClaims(r.Context(), c)))
					return
				}
			}
			m.onError(w, r, err)
		})
	}
}

// BearerToken returns the token of the request's "Authorization: Bearer"
// header. It fails with [ErrNoToken] when there is none (or another
// scheme), and with a malformed-request error for several Authorization
// headers or a token with characters outside RFC 6750's b64token.
func BearerToken(r *http.Request) (string, error) {
	hs := r.Header.Values("Authorization")
	switch {
	case len(hs) == 0:
		return "", ErrNoToken
	case len(hs) > 1:
		return "", ErrBadRequest
	}
	scheme, tok, ok := strings.Cut(hs[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", ErrNoToken
	}
	tok = strings.TrimLeft(tok, " ")
	if tok == "" || !isB64Token(tok) {
		return "", ErrBadRequest
	}
	return tok, nil
}

func isB64Token(s string) bool {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/') {
			break
		}
	}
	for ; i < len(s) && s[i] == '='; i++ {
	}
	return i == len(s) && s[0] != '='
}

// Unauthorized answers a rejected request per RFC 6750: 401 with
// `WWW-Authenticate: Bearer` for a missing token, 400 invalid_request for
// a malformed header, otherwise 401 with error="invalid_token" and an
// error_description derived from err (restricted to the characters the
// RFC allows, so it cannot break the header).
func Unauthorized(w http.ResponseWriter, realm string, err error) {
	var b strings.Builder
	b.WriteString("Bearer")
	sep := " "
	if realm != "" {
		b.WriteString(` realm="` + headerSafe(realm, 100) + `"`)
		sep = ", "
	}
	status := http.StatusUnauthorized
	switch {
	case errors.Is(err, ErrNoToken):
	case errors.Is(err, ErrBadRequest):
		status = http.StatusBadRequest
		b.WriteString(sep + `error="invalid_request", error_description="` + headerSafe(err.Error(), 200) + `"`)
	default:
		b.WriteString(sep + `error="invalid_token", error_description="` + headerSafe(err.Error(), 200) + `"`)
	}
	w.Header().Set("WWW-Authenticate", b.String())
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, http.StatusText(status), status)
}

// headerSafe keeps the characters RFC 6750 allows in a quoted value
// (%x20-21 / %x23-5B / %x5D-7E), replacing others with '?', and cuts to max.
func headerSafe(s string, max int) string {
	if len(s) > max {
		s = s[:max]
	}
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			b[i] = '\''
			if c != '"' {
				b[i] = '?'
			}
		}
	}
	return string(b)
}

type claimsKey struct{}

// ContextWithClaims returns ctx carrying c, as the middleware does.
func ContextWithClaims(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// ClaimsFromContext returns the claims the middleware verified.
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok && c != nil
}
