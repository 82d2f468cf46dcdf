package guard

import (
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/keyroll/keyroll/verify"
)

// NewTransport returns the upstream transport a guard uses by default:
// bounded dial, TLS handshake and response-header waits, keep-alive
// connections that close after 90s idle, and no proxy from the
// environment (the upstream is normally local).
func NewTransport() *http.Transport {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		DialContext:            d.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           256,
		MaxIdleConnsPerHost:    64,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  DefaultUpstreamTimeout,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 1 << 20,
	}
}

// errBadSubject: the token's sub cannot travel in a header.
var errBadSubject = errors.New("guard: token sub contains control characters")

// newProxy forwards a verified request to upstream unchanged (Host
// included), adding X-Forwarded-* and the subject header.
func (g *Guard) newProxy(upstream *url.URL) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(upstream)
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
			dropSubjectLookalikes(pr.Out.Header)
			if c, ok := verify.ClaimsFromContext(pr.In.Context()); ok && c.Subject != "" {
				pr.Out.Header.Set(SubjectHeader, c.Subject)
			}
		},
		Transport:    g.cfg.Transport,
		ErrorHandler: g.upstreamError,
	}
}

// dropSubjectLookalikes deletes the client's own subject header and every
// spelling that CGI-style servers read as the same variable
// (X_Keyroll_Subject becomes HTTP_X_KEYROLL_SUBJECT too), so a client can
// never pass a subject of its choosing.
func dropSubjectLookalikes(h http.Header) {
	for name := range h {
		if strings.EqualFold(strings.ReplaceAll(name, "_", "-"), SubjectHeader) {
			delete(h, name)
		}
	}
}

// upstreamError answers 502 when the upstream cannot be reached or fails
// mid-response; a client that went away is not the upstream's fault.
func (g *Guard) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		g.log.Debug("client went away", "method", r.Method, "path", r.URL.Path)
		return
	}
	g.requests.upstreamError.Inc()
	g.log.Warn("upstream request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	http.Error(w, http.StatusText(http.StatusBadGateway), http.StatusBadGateway)
}

// protect admits only requests whose bearer token verifies (see
// [verify.Middleware]) and whose sub can be forwarded as a header.
func (g *Guard) protect(next http.Handler) http.Handler {
	reject := func(w http.ResponseWriter, r *http.Request, err error) {
		g.requests.rejected.Inc()
		g.rejects.rejected(r, err)
		verify.Unauthorized(w, "", err)
	}
	admit := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := verify.ClaimsFromContext(r.Context())
		if !headerSafe(c.Subject) {
			reject(w, r, errBadSubject)
			return
		}
		g.requests.admitted.Inc()
		next.ServeHTTP(w, r)
	})
	return verify.Middleware(g.v, verify.WithErrorHandler(reject))(admit)
}

// headerSafe reports whether s may be a header field value: no control
// characters other than tab (RFC 9110 field-value).
func headerSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
