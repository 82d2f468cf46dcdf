package verify

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/jwk"
	"github.com/keyroll/keyroll/jws"
)

// t0 is the fake clock's start.
var t0 = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

const testAudience = "api://keyroll-test"

// testKey is a signing key as an issuer holds it.
type testKey struct {
	kid    string
	alg    string
	signer crypto.Signer
	cert   *x509.Certificate
}

var keyPool sync.Map // name → crypto.Signer; RSA generation is slow on a shared machine

func signerFor(t testing.TB, kind, name string) crypto.Signer {
	t.Helper()
	id := kind + "/" + name
	if s, ok := keyPool.Load(id); ok {
		return s.(crypto.Signer)
	}
	var s crypto.Signer
	var err error
	switch kind {
	case "RSA":
		s, err = rsa.GenerateKey(rand.Reader, 2048)
	case "RSA1024":
		s, err = rsa.GenerateKey(rand.Reader, 1024)
	case "P256":
		s, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "P384":
		s, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "Ed25519":
		_, s, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("unknown key kind %s", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	keyPool.Store(id, s)
	return s
}

func rsaKey(t testing.TB, kid string) testKey {
	return testKey{kid: kid, alg: "RS256", signer: signerFor(t, "RSA", kid)}
}

func ecKey(t testing.TB, kid string) testKey {
	return testKey{kid: kid, alg: "ES256", signer: signerFor(t, "P256", kid)}
}

func edKey(t testing.TB, kid string) testKey {
	return testKey{kid: kid, alg: "EdDSA", signer: signerFor(t, "Ed25519", kid)}
}

// withCert gives k a self-signed certificate (for metadata and x5t).
func (k testKey) withCert(t testing.TB) testKey {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: k.kid},
		NotBefore:    t0.Add(-24 * time.Hour),
		NotAfter:     t0.Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.signer.Public(), k.signer)
	if err != nil {
		t.Fatal(err)
	}
	if k.cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	return k
}

func (k testKey) x5t() string {
	sum := sha1.Sum(k.cert.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// jwk is the published form: kid, use sig, no alg (as Entra ID publishes).
func (k testKey) jwk() jwk.Key {
	return jwk.Key{KID: k.kid, Use: "sig", Public: k.signer.Public()}
}

// claims is a token payload under construction.
type claims map[string]any

func stdClaims(iss string, now time.Time) claims {
	return claims{"iss": iss, "aud": testAudience, "sub": "alice", "iat": now.Unix(),
		"nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "id-1"}
}

// sign mints a token with k's kid and alg.
func (k testKey) sign(t testing.TB, c claims) string {
	t.Helper()
	return k.signHeader(t, jws.Header{Alg: k.alg, Kid: k.kid, Typ: "JWT"}, c)
}

func (k testKey) signHeader(t testing.TB, h jws.Header, c claims) string {
	t.Helper()
	payload, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.Sign(k.signer, h, payload)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func jwksOf(t testing.TB, keys ...jwk.Key) []byte {
	t.Helper()
	b, err := json.Marshal(jwk.Set{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeIssuer serves discovery and a JWKS that tests change at will.
type fakeIssuer struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	body     []byte // the JWKS, or whatever a broken issuer answers
	status   int    // 0 means 200
	etag     string
	cacheCtl string
	hang     chan struct{} // non-nil: /keys blocks until closed
	hung     chan struct{} // receives one value per request that blocks

	jwksHits atomic.Int32
	condHits atomic.Int32 // requests carrying If-None-Match
	discHits atomic.Int32
}

func newFakeIssuer(t testing.TB, keys ...testKey) *fakeIssuer {
	f := &fakeIssuer{t: t, hung: make(chan struct{}, 1024)}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	f.publish(keys...)
	return f
}

func (f *fakeIssuer) URL() string { return f.srv.URL }

func (f *fakeIssuer) publish(keys ...testKey) {
	js := make([]jwk.Key, len(keys))
	for i, k := range keys {
		js[i] = k.jwk()
	}
	f.set(200, jwksOf(f.t, js...))
}

// set makes /keys answer status with body.
func (f *fakeIssuer) set(status int, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.body = status, body
	if f.etag != "" {
		f.etag = fmt.Sprintf(`"%x"`, sha1.Sum(body))
	}
}

func (f *fakeIssuer) useETag(cacheControl string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.etag = fmt.Sprintf(`"%x"`, sha1.Sum(f.body))
	f.cacheCtl = cacheControl
}

func (f *fakeIssuer) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		f.discHits.Add(1)
		fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, f.srv.URL, f.srv.URL+"/keys")
		return
	case "/keys":
	default:
		http.NotFound(w, r)
		return
	}
	f.jwksHits.Add(1)
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
		f.condHits.Add(1)
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
	if status != 0 && status != 200 {
		w.WriteHeader(status)
	}
	w.Write(body)
}

// refreshLog collects refresh events so tests can wait for background refreshes.
type refreshLog struct {
	ch chan RefreshEvent
}

func newRefreshLog() *refreshLog { return &refreshLog{ch: make(chan RefreshEvent, 4096)} }

func (l *refreshLog) observer() Observer {
	return ObserverFuncs{Refresh: func(e RefreshEvent) { l.ch <- e }}
}

// next waits for the next refresh event (bounded by a generous real-time guard).
func (l *refreshLog) next(t testing.TB) RefreshEvent {
	t.Helper()
	select {
	case e := <-l.ch:
		return e
	case <-time.After(30 * time.Second):
		t.Fatal("no refresh event")
		return RefreshEvent{}
	}
}

type harness struct {
	t      testing.TB
	issuer string
	iss    *fakeIssuer
	clk    *clock.Fake
	log    *refreshLog
	v      *Verifier
	ctx    context.Context
}

// newHarness builds a verifier for a fake issuer over discovery, with a
// fake clock and a refresh log.
func newHarness(t testing.TB, iss *fakeIssuer, opts ...Option) *harness {
	t.Helper()
	h := &harness{t: t, issuer: iss.URL(), iss: iss, clk: clock.NewFake(t0), log: newRefreshLog(), ctx: context.Background()}
	base := []Option{WithClock(h.clk), WithAudience(testAudience), WithObserver(h.log.observer())}
	v, err := New(iss.URL(), Discovery(iss.URL()), append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	h.v = v
	return h
}

// restart builds a second verifier for the same issuer sharing the clock
// (and a fresh refresh log), like a restarted process.
func (h *harness) restart(opts ...Option) *harness {
	h.t.Helper()
	h2 := &harness{t: h.t, issuer: h.issuer, iss: h.iss, clk: h.clk, log: newRefreshLog(), ctx: h.ctx}
	base := []Option{WithClock(h.clk), WithAudience(testAudience), WithObserver(h2.log.observer())}
	v, err := New(h.iss.URL(), Discovery(h.iss.URL()), append(base, opts...)...)
	if err != nil {
		h.t.Fatal(err)
	}
	h2.v = v
	return h2
}

// staticHarness builds a verifier for issuer https://static.example over
// src and loads its keys.
func staticHarness(t testing.TB, src Source, opts ...Option) *harness {
	t.Helper()
	h := &harness{t: t, issuer: "https://static.example", clk: clock.NewFake(t0), log: newRefreshLog(), ctx: context.Background()}
	base := []Option{WithClock(h.clk), WithAudience(testAudience), WithObserver(h.log.observer())}
	v, err := New(h.issuer, src, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	h.v = v
	if err := v.Cache().Refresh(h.ctx); err != nil {
		t.Fatal(err)
	}
	h.log.next(t)
	return h
}

// token mints a standard token from k valid at the fake clock's now.
func (h *harness) token(k testKey) string {
	return k.sign(h.t, stdClaims(h.issuer, h.clk.Now()))
}

func (h *harness) mustVerify(tok string) *Claims {
	h.t.Helper()
	c, err := h.v.Verify(h.ctx, tok)
	if err != nil {
		h.t.Fatalf("Verify: %v", err)
	}
	return c
}

func (h *harness) verifyErr(tok string) error {
	h.t.Helper()
	c, err := h.v.Verify(h.ctx, tok)
	if err == nil {
		h.t.Fatalf("Verify accepted a token it should refuse: %+v", c)
	}
	return err
}

// tamper replaces a token's segment i with raw JSON (re-encoded).
func tamper(tok string, i int, raw string) string {
	parts := strings.Split(tok, ".")
	parts[i] = base64.RawURLEncoding.EncodeToString([]byte(raw))
	return strings.Join(parts, ".")
}

// tamperKid returns tok with its header's kid replaced (the signature no
// longer matches, which does not matter for a kid nobody knows).
func tamperKid(tok, kid string) string {
	parts := strings.Split(tok, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(parts[0])
	var h map[string]any
	json.Unmarshal(raw, &h)
	h["kid"] = kid
	b, _ := json.Marshal(h)
	parts[0] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

func sha1Sum(b []byte) []byte {
	s := sha1.Sum(b)
	return s[:]
}
