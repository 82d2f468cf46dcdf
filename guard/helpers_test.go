package guard

import (
	"context"
	"crypto"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/internal/testissuer"
	"github.com/keyroll/keyroll/jws"
	"github.com/keyroll/keyroll/verify"
)

// t0 is where the fake clocks start.
var t0 = testissuer.T0

const testAudience = "api://guard-test"

// testKey is a signing key as an issuer holds it (see [testissuer.Key]).
type testKey struct {
	kid, alg string
	signer   crypto.Signer
}

func (k testKey) key() testissuer.Key {
	return testissuer.Key{KID: k.kid, Alg: k.alg, Signer: k.signer}
}

func newKey(t testing.TB, alg, kid string) testKey {
	t.Helper()
	k := testissuer.NewKey(t, alg, kid)
	return testKey{kid: k.KID, alg: k.Alg, signer: k.Signer}
}

// claims is a token payload under construction.
type claims = testissuer.Claims

func stdClaims(iss string, now time.Time) claims { return testissuer.StdClaims(iss, testAudience, now) }

func (k testKey) sign(t testing.TB, c claims) string { t.Helper(); return k.key().Sign(t, c) }

func (k testKey) signHeader(t testing.TB, h jws.Header, c claims) string {
	t.Helper()
	return k.key().SignHeader(t, h, c)
}

// fakeIssuer is a [testissuer.Issuer] under the names guard's tests use.
type fakeIssuer struct {
	*testissuer.Issuer
	jwksHits *atomic.Int32
}

func newFakeIssuer(t testing.TB, keys ...testKey) *fakeIssuer {
	f := &fakeIssuer{Issuer: testissuer.New(t, testissuer.Keys(keys, testKey.key)...)}
	f.jwksHits = &f.JWKSHits
	return f
}

// publish makes the JWKS list keys (kid and use, no alg, as Entra ID does).
func (f *fakeIssuer) publish(keys ...testKey) { f.Publish(testissuer.Keys(keys, testKey.key)...) }

func (f *fakeIssuer) setDown(down bool) { f.SetDown(down) }

// upstream is a toy application that records what reaches it.
type upstream struct {
	srv  *httptest.Server
	hits atomic.Int32
	mu   sync.Mutex
	last *http.Request // a clone of the last request
	body string        // its body
}

func newUpstream(t testing.TB) *upstream {
	u := &upstream{}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		b, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.last, u.body = r.Clone(context.Background()), string(b)
		u.mu.Unlock()
		w.Header().Set("X-Upstream", "toy")
		fmt.Fprintf(w, "hello %s", r.Header.Get(SubjectHeader))
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upstream) URL() *url.URL {
	p, _ := url.Parse(u.srv.URL)
	return p
}

func (u *upstream) lastRequest() (*http.Request, string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.last, u.body
}

// events collects refresh events so tests can wait for background refreshes.
type events struct{ ch chan verify.RefreshEvent }

func newEvents() *events { return &events{ch: make(chan verify.RefreshEvent, 4096)} }

func (e *events) observer() verify.Observer {
	return verify.ObserverFuncs{Refresh: func(ev verify.RefreshEvent) { e.ch <- ev }}
}

// next waits for the next refresh event (bounded by a generous real-time guard).
func (e *events) next(t testing.TB) verify.RefreshEvent {
	t.Helper()
	select {
	case ev := <-e.ch:
		return ev
	case <-time.After(30 * time.Second):
		t.Fatal("no refresh event")
		return verify.RefreshEvent{}
	}
}

// running is a guard serving on loopback.
type running struct {
	t      testing.TB
	g      *Guard
	url    string // the proxy
	admin  string // the admin listener
	client *http.Client
	stop   func() error
}

// config returns a guard configuration for iss in front of up, with a
// fake clock and an event log.
func config(iss *fakeIssuer, up *upstream, clk clock.Clock, ev *events) Config {
	return Config{Issuer: iss.URL(), Audience: []string{testAudience}, Upstream: up.URL(),
		Clock: clk, Observer: ev.observer()}
}

// start runs a guard for cfg on loopback listeners until the test ends.
func start(t testing.TB, cfg Config) *running {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, admin := listen(t), listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Serve(ctx, ln, admin) }()
	r := &running{t: t, g: g, url: "http://" + ln.Addr().String(), admin: "http://" + admin.Addr().String(),
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	var once sync.Once
	var serr error
	r.stop = func() error {
		once.Do(func() {
			cancel()
			serr = <-done
			r.client.CloseIdleConnections()
		})
		return serr
	}
	t.Cleanup(func() {
		if err := r.stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return r
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// response is what the guard answered.
type response struct {
	status    int
	challenge string // WWW-Authenticate
	body      string
	header    http.Header
}

// get sends GET path through the guard with the bearer token tok ("" for none).
func (r *running) get(path, tok string) response {
	r.t.Helper()
	req, err := http.NewRequest(http.MethodGet, r.url+path, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return r.do(req)
}

func (r *running) do(req *http.Request) response {
	r.t.Helper()
	resp, err := r.client.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, challenge: resp.Header.Get("WWW-Authenticate"), body: string(b), header: resp.Header}
}

// mustPass sends tok and fails unless the upstream answered.
func (r *running) mustPass(tok string) {
	r.t.Helper()
	if resp := r.get("/app", tok); resp.status != http.StatusOK || !strings.HasPrefix(resp.body, "hello ") {
		r.t.Fatalf("valid token not forwarded: %d %s %s", resp.status, resp.challenge, resp.body)
	}
}

// mustReject sends tok and fails unless the guard answered 401 invalid_token.
func (r *running) mustReject(tok string) response {
	r.t.Helper()
	resp := r.get("/app", tok)
	if resp.status != http.StatusUnauthorized || !strings.Contains(resp.challenge, `error="invalid_token"`) {
		r.t.Fatalf("token not rejected with 401 invalid_token: %d %q %s", resp.status, resp.challenge, resp.body)
	}
	return resp
}

// keyCount is how many keys the guard's cache holds.
func (r *running) keyCount() int {
	ks := r.g.Verifier().Cache().KeySet()
	if ks == nil {
		return 0
	}
	return len(ks.Keys())
}
