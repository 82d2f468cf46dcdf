package verify

import (
	"context"
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/internal/testissuer"
	"github.com/keyroll/keyroll/jwk"
	"github.com/keyroll/keyroll/jws"
)

// t0 is the fake clock's start.
var t0 = testissuer.T0

const testAudience = "api://keyroll-test"

// testKey is a signing key as an issuer holds it (see [testissuer.Key]).
type testKey struct {
	kid    string
	alg    string
	signer crypto.Signer
	cert   *x509.Certificate
}

func (k testKey) key() testissuer.Key {
	return testissuer.Key{KID: k.kid, Alg: k.alg, Signer: k.signer, Cert: k.cert}
}

func fromKey(k testissuer.Key) testKey {
	return testKey{kid: k.KID, alg: k.Alg, signer: k.Signer, cert: k.Cert}
}

func signerFor(t testing.TB, kind, name string) crypto.Signer {
	t.Helper()
	return testissuer.Signer(t, kind, name)
}

func rsaKey(t testing.TB, kid string) testKey { return fromKey(testissuer.NewKey(t, "RS256", kid)) }
func ecKey(t testing.TB, kid string) testKey  { return fromKey(testissuer.NewKey(t, "ES256", kid)) }
func edKey(t testing.TB, kid string) testKey  { return fromKey(testissuer.NewKey(t, "EdDSA", kid)) }

// withCert gives k a self-signed certificate (for metadata and x5t).
func (k testKey) withCert(t testing.TB) testKey { t.Helper(); return fromKey(k.key().WithCert(t)) }
func (k testKey) x5t() string                   { return k.key().X5T() }
func (k testKey) jwk() jwk.Key                  { return k.key().JWK() }

// claims is a token payload under construction.
type claims = testissuer.Claims

func stdClaims(iss string, now time.Time) claims {
	c := testissuer.StdClaims(iss, testAudience, now)
	c["jti"] = "id-1"
	return c
}

// sign mints a token with k's kid and alg.
func (k testKey) sign(t testing.TB, c claims) string { t.Helper(); return k.key().Sign(t, c) }

func (k testKey) signHeader(t testing.TB, h jws.Header, c claims) string {
	t.Helper()
	return k.key().SignHeader(t, h, c)
}

func jwksOf(t testing.TB, keys ...jwk.Key) []byte { t.Helper(); return testissuer.JWKS(t, keys...) }

// fakeIssuer is a [testissuer.Issuer] under the names verify's tests use.
type fakeIssuer struct {
	*testissuer.Issuer
	jwksHits, condHits *atomic.Int32
	hung               <-chan struct{}
}

func newFakeIssuer(t testing.TB, keys ...testKey) *fakeIssuer {
	f := &fakeIssuer{Issuer: testissuer.New(t, testissuer.Keys(keys, testKey.key)...)}
	f.jwksHits, f.condHits, f.hung = &f.JWKSHits, &f.CondHits, f.Hung()
	return f
}

func (f *fakeIssuer) publish(keys ...testKey) { f.Publish(testissuer.Keys(keys, testKey.key)...) }

// set makes /keys answer status with body.
func (f *fakeIssuer) set(status int, body []byte) { f.Set(status, body) }
func (f *fakeIssuer) useETag(cacheControl string) { f.UseETag(cacheControl) }

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
