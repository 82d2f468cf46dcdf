package testissuer

import (
	"crypto/sha1"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/keyroll/keyroll/jwk"
)

// DiscoveryPath and KeysPath are where an [Issuer] serves its OpenID
// Connect discovery document and its JWKS.
const (
	DiscoveryPath = "/.well-known/openid-configuration"
	KeysPath      = "/keys"
)

// Issuer is a fake OpenID Connect issuer on httptest: it serves discovery
// and a JWKS that tests change at will, can fail or hang on demand, and
// counts what it is asked. Its URL is its issuer identifier.
type Issuer struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	body     []byte // the JWKS, or whatever a broken issuer answers
	status   int    // 0 means 200
	etag     string
	cacheCtl string
	down     bool          // answer 503 to everything
	hang     chan struct{} // non-nil: the JWKS blocks until closed
	hung     chan struct{} // receives one value per JWKS request that blocks

	// JWKSHits counts JWKS requests, answered or not.
	JWKSHits atomic.Int32
	// CondHits counts JWKS requests carrying If-None-Match.
	CondHits atomic.Int32
	// DiscHits counts discovery requests.
	DiscHits atomic.Int32
}

// New starts an issuer publishing keys; it stops when the test ends.
func New(t testing.TB, keys ...Key) *Issuer {
	f := &Issuer{t: t, hung: make(chan struct{}, 1024)}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	f.Publish(keys...)
	return f
}

// URL is the issuer identifier, the server's base URL.
func (f *Issuer) URL() string { return f.srv.URL }

// Publish makes the JWKS list keys, in their [Key.JWK] form, with status 200.
func (f *Issuer) Publish(keys ...Key) {
	js := make([]jwk.Key, len(keys))
	for i, k := range keys {
		js[i] = k.JWK()
	}
	f.Set(http.StatusOK, JWKS(f.t, js...))
}

// Set makes the JWKS endpoint answer status with body.
func (f *Issuer) Set(status int, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.body = status, body
	if f.etag != "" {
		f.etag = etagOf(body)
	}
}

// UseETag makes the JWKS carry an ETag (answering 304 to a matching
// If-None-Match) and, unless empty, the Cache-Control header cacheControl.
func (f *Issuer) UseETag(cacheControl string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.etag = etagOf(f.body)
	f.cacheCtl = cacheControl
}

func etagOf(body []byte) string { return fmt.Sprintf(`"%x"`, sha1.Sum(body)) }

// SetDown makes every endpoint, discovery included, answer 503 (down) or
// work again.
func (f *Issuer) SetDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

// Hang makes JWKS requests block until ch is closed (or the client gives
// up); nil stops hanging new requests.
func (f *Issuer) Hang(ch chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hang = ch
}

// Hung receives one value per JWKS request that starts blocking in [Issuer.Hang].
func (f *Issuer) Hung() <-chan struct{} { return f.hung }

func (f *Issuer) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	down := f.down
	f.mu.Unlock()
	switch r.URL.Path {
	case DiscoveryPath:
		f.DiscHits.Add(1)
	case KeysPath:
		f.JWKSHits.Add(1)
	default:
		http.NotFound(w, r)
		return
	}
	switch {
	case down:
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	case r.URL.Path == DiscoveryPath:
		fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, f.srv.URL, f.srv.URL+KeysPath)
	default:
		f.serveKeys(w, r)
	}
}

func (f *Issuer) serveKeys(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	status, body, etag, cc, hang := f.status, f.body, f.etag, f.cacheCtl, f.hang
	f.mu.Unlock()
	if hang != nil {
		f.hung <- struct{}{}
		select {
		case <-hang:
		case <-r.Context().Done():
			return
		}
	}
	if r.Header.Get("If-None-Match") != "" {
		f.CondHits.Add(1)
	}
	if cc != "" {
		w.Header().Set("Cache-Control", cc)
	}
	if etag != "" {
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	if status != 0 && status != http.StatusOK {
		w.WriteHeader(status)
	}
	w.Write(body)
}
