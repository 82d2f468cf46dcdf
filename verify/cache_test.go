package verify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyroll/keyroll/jws"
)

// TestKnownKeyPathTakesNoLock holds the cache's lock while verifying a
// token with a known key: the verification must complete regardless.
func TestKnownKeyPathTakesNoLock(t *testing.T) {
	k := rsaKey(t, "k1")
	h := newHarness(t, newFakeIssuer(t, k))
	tok := h.token(k)
	h.mustVerify(tok)
	h.log.next(t)
	c := h.v.Cache()
	c.mu.Lock()
	done := make(chan error)
	go func() {
		_, err := h.v.Verify(context.Background(), tok)
		done <- err
	}()
	select {
	case err := <-done:
		c.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		c.mu.Unlock()
		t.Fatal("verification with a cached key waited for the cache lock")
	}
}

func TestRunRefreshesOnScheduleWithoutTraffic(t *testing.T) {
	k1, k2 := rsaKey(t, "k1"), rsaKey(t, "k2")
	iss := newFakeIssuer(t, k1)
	h := newHarness(t, iss)
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error)
	go func() { runDone <- h.v.Cache().Run(ctx) }()
	if ev := h.log.next(t); ev.Trigger != TriggerInitial || ev.Outcome != OutcomeUpdated {
		t.Fatalf("first Run refresh: %+v", ev)
	}
	iss.publish(k1, k2)
	for day := 1; day <= 3; day++ {
		h.clk.BlockUntil(1)
		h.clk.Advance(DefaultRefreshInterval)
		ev := h.log.next(t)
		if ev.Trigger != TriggerScheduled || ev.Fetched != t0.Add(time.Duration(day)*DefaultRefreshInterval) {
			t.Fatalf("day %d: %+v", day, ev)
		}
	}
	if n := iss.jwksHits.Load(); n != 4 {
		t.Fatalf("fetches = %d, want 4", n)
	}
	h.mustVerify(h.token(k2))
	cancel()
	if err := <-runDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
}

func TestDiscoveryRefusesABadDocument(t *testing.T) {
	var doc string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, doc)
	}))
	defer srv.Close()
	for _, tc := range []struct{ name, doc string }{
		{"another issuer", `{"issuer":"https://evil.example","jwks_uri":"` + srv.URL + `/keys"}`},
		{"no jwks_uri", `{"issuer":"` + srv.URL + `"}`},
		{"relative jwks_uri", `{"issuer":"` + srv.URL + `","jwks_uri":"/keys"}`},
		{"ftp jwks_uri", `{"issuer":"` + srv.URL + `","jwks_uri":"ftp://x/keys"}`},
		{"not JSON", `<html>`},
	} {
		doc = tc.doc
		c, err := NewCache(Discovery(srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Refresh(context.Background()); !errors.Is(err, ErrDiscovery) {
			t.Errorf("%s: %v, want ErrDiscovery", tc.name, err)
		}
	}
	for _, tc := range []struct {
		config, uri string
		ok          bool
	}{
		{"https://login.example/x", "https://login.example/keys", true},
		{"https://login.example/x", "http://login.example/keys", false},
		{"http://localhost:8080/x", "http://localhost:8080/keys", true},
		{"http://localhost:8080/x", "https://other.example/keys", true},
		{"https://login.example/x", "https:///keys", false},
	} {
		if err := checkJWKSURI(tc.config, tc.uri); (err == nil) != tc.ok {
			t.Errorf("checkJWKSURI(%s, %s) = %v", tc.config, tc.uri, err)
		}
	}
}

func TestObserverAndCounters(t *testing.T) {
	k := rsaKey(t, "k1")
	var fetches, verified []string
	obs := ObserverFuncs{
		Fetch:  func(e FetchEvent) { fetches = append(fetches, fmt.Sprint(e.Trigger, e.Err == nil, e.Bytes > 0)) },
		Verify: func(e VerifyEvent) { verified = append(verified, e.Result.String()) },
	}
	iss := newFakeIssuer(t, k)
	h := newHarness(t, iss, WithObserver(obs))
	h.mustVerify(h.token(k))
	h.verifyErr("garbage")
	if h.v.Count(ResultOK) != 1 || h.v.Count(ResultMalformed) != 1 || h.v.Count(NumResults) != 0 {
		t.Fatalf("counters ok=%d malformed=%d", h.v.Count(ResultOK), h.v.Count(ResultMalformed))
	}
	if strings.Join(verified, ",") != "ok,malformed" || strings.Join(fetches, ",") != "initial true true" {
		t.Fatalf("events: verified %v, fetches %v", verified, fetches)
	}
	st := h.v.Cache().Status()
	if st.Ready != nil || st.Keys != 1 || st.Source != iss.URL()+"/.well-known/openid-configuration" {
		t.Fatalf("status %+v", st)
	}
}

// TestHotPathAllocations: Verify allocates what jws.Parse and the
// signature check allocate, plus the returned Claims.
func TestHotPathAllocations(t *testing.T) {
	k := edKey(t, "d1")
	h := staticHarness(t, StaticBytes("set", jwksOf(t, k.jwk())))
	tok := h.token(k)
	h.mustVerify(tok)
	parse := testing.AllocsPerRun(100, func() { jws.Parse(tok) })
	verify := testing.AllocsPerRun(100, func() { h.v.Verify(h.ctx, tok) })
	if verify > parse+1 {
		t.Fatalf("Verify allocates %.0f times, jws.Parse %.0f: more than one allocation of our own", verify, parse)
	}
}

// stuckSource ignores its context, as a careless custom Source might.
type stuckSource struct {
	calls   atomic.Int32
	release chan struct{}
}

func (s *stuckSource) Name() string { return "stuck" }

func (s *stuckSource) Fetch(context.Context, FetchRequest) (Document, error) {
	s.calls.Add(1)
	<-s.release
	return Document{}, errors.New("too late")
}

func (s *stuckSource) Decode([]byte) (Decoded, error) { return Decoded{}, errors.New("unused") }

func TestSourceIgnoringItsDeadline(t *testing.T) {
	src := &stuckSource{release: make(chan struct{})}
	defer close(src.release)
	c, err := NewCache(src, WithFetchTimeout(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	for range 6 { // each call gives up after one fetch timeout
		if err := c.Refresh(context.Background()); !errors.Is(err, ErrFetchTimeout) {
			t.Fatalf("Refresh = %v, want ErrFetchTimeout", err)
		}
	}
	if n := src.calls.Load(); n < 2 {
		t.Fatalf("a hung fetch blocked every later refresh (%d calls)", n)
	}
}
