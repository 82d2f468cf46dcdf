package issuer

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// Paths the issuer serves.
const (
	DiscoveryPath = "/.well-known/openid-configuration"
	JWKSPath      = "/.well-known/jwks.json"
	MetadataPath  = "/federationmetadata/2007-06/federationmetadata.xml"
	HealthPath    = "/healthz"
	MetricsPath   = "/metrics"
)

// maxAdminBody bounds admin request bodies.
const maxAdminBody = 64 << 10

// ServerOptions configures the HTTP side.
type ServerOptions struct {
	// AdminToken protects /admin/. Empty: admin requests are accepted only
	// from a loopback peer that is not a proxy hop.
	AdminToken string
	// Gatherer serves /metrics; nil: no metrics endpoint.
	Gatherer prometheus.Gatherer
}

// Server serves the published documents and the admin API of a Manager.
type Server struct {
	m         *Manager
	p         *provider // OAuth 2.0 / OpenID Connect endpoints
	tokenHash [32]byte
	hasToken  bool
	mux       *http.ServeMux
	extra     map[string]any // more discovery members, set before serving
}

// NewServer returns the HTTP server of m.
func NewServer(m *Manager, opts ServerOptions) *Server {
	s := &Server{m: m, p: newProvider(m), mux: http.NewServeMux()}
	if opts.AdminToken != "" {
		s.tokenHash, s.hasToken = sha256.Sum256([]byte(opts.AdminToken)), true
	}
	s.mux.HandleFunc("GET "+DiscoveryPath, s.discovery)
	s.mux.HandleFunc("GET "+JWKSPath, s.jwks)
	s.mux.HandleFunc("GET "+MetadataPath, s.metadata)
	s.mux.HandleFunc("GET "+HealthPath, s.health)
	if opts.Gatherer != nil {
		s.mux.Handle("GET "+MetricsPath, promhttp.HandlerFor(opts.Gatherer, promhttp.HandlerOpts{}))
	}
	s.mux.Handle("/admin/", s.admin(s.adminMux()))
	s.mux.HandleFunc(PassivePath, notImplemented("WS-Federation sign-on"))
	s.mux.HandleFunc(SAMLPath, notImplemented("SAML sign-on"))
	s.p.routes(s)
	return s
}

// notImplemented answers the sign-on endpoints the federation metadata
// names: keyroll publishes its keys there for relying parties that read
// them, and signs tokens as an OpenID Connect provider.
func notImplemented(what string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotImplemented, "not_implemented",
			what+" is not implemented: keyroll issues tokens through OpenID Connect (see "+DiscoveryPath+"); this endpoint exists because the federation metadata names it")
	}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// SetDiscovery adds a member to the discovery document (an endpoint that
// exists, say). Call it before the server starts serving.
func (s *Server) SetDiscovery(name string, value any) {
	if s.extra == nil {
		s.extra = map[string]any{}
	}
	s.extra[name] = value
}

// Handle adds a handler to the server's mux (token endpoints and the like).
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

func (s *Server) base() string { return strings.TrimSuffix(s.m.cfg.Issuer, "/") }

// maxAge is how long a client may cache a published document: never past
// the next scheduled change, and never longer than the relying parties'
// refresh interval.
func (s *Server) maxAge(snap *Snapshot) int {
	limit := s.m.cfg.Policy.RefreshInterval
	if !snap.NextChange.IsZero() {
		limit = min(limit, snap.NextChange.Sub(s.m.Now()))
	}
	return int(max(limit, 0) / time.Second)
}

func (s *Server) serveDoc(w http.ResponseWriter, r *http.Request, body []byte, tag, ctype string) {
	snap := s.m.Snapshot()
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("ETag", tag)
	h.Set("Cache-Control", fmt.Sprintf("public, max-age=%d", s.maxAge(snap)))
	h.Set("Access-Control-Allow-Origin", "*")
	if etagMatch(r.Header.Get("If-None-Match"), tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}

func etagMatch(header, tag string) bool {
	for _, t := range strings.Split(header, ",") {
		if t = strings.TrimSpace(t); t == tag || t == "*" {
			return true
		}
	}
	return false
}

func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	snap := s.m.Snapshot()
	s.serveDoc(w, r, snap.JWKS, snap.JWKSETag, "application/jwk-set+json")
}

func (s *Server) metadata(w http.ResponseWriter, r *http.Request) {
	snap := s.m.Snapshot()
	s.serveDoc(w, r, snap.Metadata, snap.MetadataETag, "application/samlmetadata+xml")
}

func (s *Server) discovery(w http.ResponseWriter, r *http.Request) {
	snap := s.m.Snapshot()
	algs := map[string]bool{s.m.cfg.KeySpec.Alg: true}
	for _, k := range snap.Published {
		algs[k.Alg] = true
	}
	doc := map[string]any{
		"issuer":                                s.m.cfg.Issuer,
		"jwks_uri":                              s.base() + JWKSPath,
		"id_token_signing_alg_values_supported": sortedKeys(algs),
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
	}
	for k, v := range s.extra {
		doc[k] = v
	}
	body, _ := json.Marshal(doc)
	s.serveDoc(w, r, body, etag(body), "application/json")
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	snap := s.m.Snapshot()
	body := map[string]any{"status": "ok", "generation": snap.Generation}
	code := http.StatusOK
	if snap.Primary == nil {
		body["status"], code = "no primary signing key", http.StatusServiceUnavailable
	} else {
		body["primary"], body["primary_not_after"] = snap.Primary.KID, snap.Primary.NotAfter
		if !s.m.Now().Before(snap.Primary.NotAfter) {
			body["status"], code = "primary signing certificate expired", http.StatusServiceUnavailable
		}
	}
	writeJSON(w, code, body)
}

// admin guards the admin API: a bearer token compared in constant time, or
// with no token configured, a direct loopback peer only. Either way it
// answers only programs, never browsers: a request that carries Origin or
// Sec-Fetch-Site (cross-site forgery), a write that is not JSON (a "simple"
// cross-site POST), or, in loopback mode, a Host that is not loopback or the
// issuer's (DNS rebinding) is refused.
func (s *Server) admin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.hasToken {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			sum := sha256.Sum256([]byte(got))
			if !ok || subtle.ConstantTimeCompare(sum[:], s.tokenHash[:]) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="keyroll admin"`)
				writeError(w, http.StatusUnauthorized, "unauthorized", "missing or wrong admin token (KEYROLL_ADMIN_TOKEN)")
				return
			}
		} else if !directLoopback(r) || !s.adminHost(r.Host) {
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
		r.Body = http.MaxBytesReader(w, r.Body, maxAdminBody)
		next.ServeHTTP(w, r)
	})
}

func isJSON(ctype string) bool {
	mt, _, err := mime.ParseMediaType(ctype)
	return err == nil && mt == "application/json"
}

// adminHost reports whether a loopback-mode admin request is addressed to a
// loopback name or to the issuer's own host.
func (s *Server) adminHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return true
	}
	if u, err := url.Parse(s.m.cfg.Issuer); err == nil && strings.EqualFold(u.Hostname(), host) {
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

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, kind, msg string) {
	writeJSON(w, code, ErrorInfo{Error: msg, Code: kind})
}

// writeErr maps an error to its HTTP status at the edge.
func writeErr(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, lifecycle.ErrUnknownKey), errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, lifecycle.ErrNotPublished), errors.Is(err, lifecycle.ErrNextExists),
		errors.Is(err, lifecycle.ErrNoReplacement), errors.Is(err, lifecycle.ErrNoPrimary),
		errors.Is(err, store.ErrConflict):
		writeError(w, http.StatusConflict, "conflict", err.Error())
	case errors.Is(err, ErrInvalid):
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
	case errors.Is(err, errNoSigningKey):
		writeError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
	default:
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
	}
}
