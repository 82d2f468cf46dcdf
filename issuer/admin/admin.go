// Package admin serves keyroll's admin API (the wire format is package
// adminapi): keys, rotation, revocation, transient drill keys, events, the
// timeline, applications, test users and console administrators, over an
// issuer.Manager. It answers programs only, never browsers.
package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/internal/httpjson"
	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/issuer/samlidp"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// maxBody bounds admin request bodies.
const maxBody = 64 << 10

// Actors of the admin API in audit events: who made the change.
const (
	actorToken    = "admin-token" // a client holding KEYROLL_ADMIN_TOKEN
	actorLoopback = "loopback"    // a direct loopback client, no token configured
)

type actorKey struct{}

// actorOf names who is making an admin request.
func actorOf(r *http.Request) string {
	if a, ok := r.Context().Value(actorKey{}).(string); ok {
		return a
	}
	return actorLoopback
}

// TokenMinter signs test tokens for an application (the OIDC provider).
type TokenMinter interface {
	AppToken(ctx context.Context, app store.Application) (any, error)
}

// Options configures the admin API.
type Options struct {
	// Token protects the API. Empty: requests are accepted only from a
	// loopback peer that is not a proxy hop.
	Token string
	// Tokens signs test tokens (POST /admin/apps/{app}/token); nil: 404.
	Tokens TokenMinter
	// SPMetadata reads a SAML SP's registration from its metadata URL when
	// an application is created from one; nil: refused.
	SPMetadata func(ctx context.Context, url string) (samlidp.SPRegistration, error)
	// Fetches is this replica's fetch recorder, flushed before readiness
	// is judged so that it counts the latest fetches; nil: none.
	Fetches *issuer.FetchRecorder
}

// Handler is the admin API.
type Handler struct {
	m         *issuer.Manager
	tokens    TokenMinter
	spMeta    func(ctx context.Context, url string) (samlidp.SPRegistration, error)
	fetches   *issuer.FetchRecorder
	tokenHash [32]byte
	hasToken  bool
	mux       *http.ServeMux
}

// New returns the admin API of m, to be served under /admin/.
func New(m *issuer.Manager, opts Options) *Handler {
	h := &Handler{m: m, tokens: opts.Tokens, spMeta: opts.SPMetadata, fetches: opts.Fetches, mux: http.NewServeMux()}
	if opts.Token != "" {
		h.tokenHash, h.hasToken = sha256.Sum256([]byte(opts.Token)), true
	}
	h.keyRoutes(h.mux)
	h.appRoutes(h.mux)
	h.adminRoutes(h.mux)
	h.readinessRoutes(h.mux)
	return h
}

// ServeHTTP guards the admin API: a bearer token compared in constant time,
// or with no token configured, a direct loopback peer only. Either way it
// answers only programs, never browsers: a request that carries Origin or
// Sec-Fetch-Site (cross-site forgery), a write that is not JSON (a "simple"
// cross-site POST), or, in loopback mode, a Host that is not loopback or the
// issuer's (DNS rebinding) is refused.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.hasToken {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(sum[:], h.tokenHash[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="keyroll admin"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "missing or wrong admin token (KEYROLL_ADMIN_TOKEN)")
			return
		}
	} else if !directLoopback(r) || !h.adminHost(r.Host) {
		writeError(w, http.StatusForbidden, "unauthorized", "no admin token is configured, so the admin API answers loopback clients only (addressed by a loopback name or the issuer's host)")
		return
	}
	if r.Header.Get("Origin") != "" || r.Header.Get("Sec-Fetch-Site") != "" {
		writeError(w, http.StatusForbidden, "unauthorized", "the admin API does not answer browsers")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !isJSON(r.Header.Get("Content-Type")) {
		writeError(w, http.StatusUnsupportedMediaType, "bad_request", "admin requests that change something must be Content-Type: application/json")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	a := actorLoopback
	if h.hasToken {
		a = actorToken
	}
	h.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), actorKey{}, a)))
}

func isJSON(ctype string) bool {
	mt, _, err := mime.ParseMediaType(ctype)
	return err == nil && mt == "application/json"
}

// adminHost reports whether a loopback-mode admin request is addressed to a
// loopback name or to the issuer's own host.
func (h *Handler) adminHost(host string) bool {
	if hh, _, err := net.SplitHostPort(host); err == nil {
		host = hh
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return true
	}
	if u, err := url.Parse(h.m.Issuer()); err == nil && strings.EqualFold(u.Hostname(), host) {
		return true
	}
	return false
}

func directLoopback(r *http.Request) bool {
	if r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("Forwarded") != "" {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func writeError(w http.ResponseWriter, code int, kind, msg string) {
	httpjson.Write(w, code, adminapi.ErrorInfo{Error: msg, Code: kind})
}

// plain is an error's message without the sentinel prefixes callers act
// on ("store: conflict: ", "invalid request: "): the status code says that.
func plain(err error) string {
	msg := err.Error()
	for _, s := range []error{store.ErrConflict, store.ErrNotFound, issuer.ErrInvalid} {
		msg = strings.TrimPrefix(msg, s.Error()+": ")
	}
	return msg
}

// writeErr maps an error to its HTTP status at the edge.
func writeErr(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, lifecycle.ErrUnknownKey), errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", plain(err))
	case errors.Is(err, lifecycle.ErrNotPublished), errors.Is(err, lifecycle.ErrNextExists),
		errors.Is(err, lifecycle.ErrNoReplacement), errors.Is(err, lifecycle.ErrNoPrimary),
		errors.Is(err, store.ErrConflict):
		writeError(w, http.StatusConflict, "conflict", plain(err))
	case errors.Is(err, issuer.ErrInvalid):
		writeError(w, http.StatusBadRequest, "bad_request", plain(err))
	case errors.Is(err, issuer.ErrNoSigningKey):
		writeError(w, http.StatusServiceUnavailable, "unavailable", plain(err))
	default:
		writeError(w, http.StatusInternalServerError, "internal", plain(err))
	}
}
