package guard

import (
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/verify"
)

// scenario is a guard in front of a toy upstream, with a fake issuer and a
// fake clock.
type scenario struct {
	t   *testing.T
	iss *fakeIssuer
	up  *upstream
	clk *clock.Fake
	ev  *events
	g   *running
}

func newScenario(t *testing.T, keys ...testKey) *scenario {
	s := &scenario{t: t, iss: newFakeIssuer(t, keys...), up: newUpstream(t), clk: clock.NewFake(t0), ev: newEvents()}
	s.g = start(t, config(s.iss, s.up, s.clk, s.ev))
	return s
}

// token mints a standard token from k, valid at the fake clock's now.
func (s *scenario) token(k testKey) string { return k.sign(s.t, stdClaims(s.iss.URL(), s.clk.Now())) }

func (s *scenario) wantFetches(n int32) {
	s.t.Helper()
	if got := s.iss.jwksHits.Load(); got != n {
		s.t.Fatalf("%d key fetches, want %d", got, n)
	}
}

func TestGuardForwardsValidRequestUnchanged(t *testing.T) {
	k1 := newKey(t, "RS256", "k1")
	s := newScenario(t, k1)
	req, _ := http.NewRequest(http.MethodPost, s.g.url+"/api/items?x=1&y=two", strings.NewReader("payload"))
	auth := "Bearer " + s.token(k1)
	req.Header.Set("Authorization", auth)
	req.Header.Set("X-Custom", "kept")
	req.Header.Set(SubjectHeader, "mallory")            // forged: must be replaced
	req.Header["X_keyroll_subject"] = []string{"admin"} // CGI reads it as the same variable
	req.Host = "app.example"
	resp := s.g.do(req)
	if resp.status != 200 || resp.body != "hello alice" || resp.header.Get("X-Upstream") != "toy" {
		t.Fatalf("response not the upstream's: %d %q %v", resp.status, resp.body, resp.header)
	}
	got, body := s.up.lastRequest()
	switch {
	case got.Method != http.MethodPost || got.URL.Path != "/api/items" || got.URL.RawQuery != "x=1&y=two":
		t.Fatalf("request changed: %s %s", got.Method, got.URL)
	case body != "payload" || got.Header.Get("X-Custom") != "kept" || got.Host != "app.example":
		t.Fatalf("body, header or host changed: %q %v %q", body, got.Header, got.Host)
	case got.Header.Get("Authorization") != auth:
		t.Fatal("Authorization header not forwarded as is")
	case len(got.Header.Values(SubjectHeader)) != 1 || got.Header.Get(SubjectHeader) != "alice":
		t.Fatalf("%s = %q, want only the token's sub", SubjectHeader, got.Header.Values(SubjectHeader))
	case got.Header.Get("X_keyroll_subject") != "" || len(got.Header["X_keyroll_subject"]) != 0:
		t.Fatalf("an underscore spelling of %s reached the upstream: %v", SubjectHeader, got.Header)
	}
}

// TestGuardRotationOneFetch: a token signed by a key published after the
// guard loaded the set is accepted after exactly one more fetch.
func TestGuardRotationOneFetch(t *testing.T) {
	k1, k2 := newKey(t, "RS256", "k1"), newKey(t, "RS256", "k2")
	s := newScenario(t, k1)
	s.g.mustPass(s.token(k1))
	s.wantFetches(1)
	s.clk.Advance(verify.DefaultMinRefreshInterval + time.Second)
	s.iss.publish(k1, k2)
	s.g.mustPass(s.token(k2))
	s.wantFetches(2)
	s.g.mustPass(s.token(k2))
	s.g.mustPass(s.token(k1))
	s.wantFetches(2)
}

// TestGuardNextKeyNoFetch: a key published in advance (the next key)
// verifies its first token without any fetch.
func TestGuardNextKeyNoFetch(t *testing.T) {
	k1, next := newKey(t, "RS256", "k1"), newKey(t, "ES256", "next")
	s := newScenario(t, k1, next)
	s.g.mustPass(s.token(k1))
	s.wantFetches(1)
	s.g.mustPass(s.token(next))
	s.wantFetches(1)
}

// TestGuardUnknownKidFlood: 1,000 concurrent tokens with random kids cost
// at most one fetch per throttle window, add nothing to the key set, and
// do not stop valid tokens.
func TestGuardUnknownKidFlood(t *testing.T) {
	k1, rogue := newKey(t, "RS256", "k1"), newKey(t, "ES256", "rogue")
	s := newScenario(t, k1)
	s.g.mustPass(s.token(k1))
	for window := int32(1); window <= 2; window++ {
		s.clk.Advance(verify.DefaultMinRefreshInterval + time.Second)
		statuses := s.flood(rogue, 1000, 32)
		if statuses[http.StatusUnauthorized] != 1000 {
			t.Fatalf("flood answers: %v, want 1000 × 401", statuses)
		}
		if got := s.iss.jwksHits.Load(); got > 1+window {
			t.Fatalf("window %d: %d fetches, want at most %d", window, got, 1+window)
		}
		if n := s.g.keyCount(); n != 1 {
			t.Fatalf("key set has %d keys after the flood, want 1", n)
		}
		s.g.mustPass(s.token(k1))
	}
	if n := s.up.hits.Load(); n != 3 {
		t.Fatalf("upstream saw %d requests, want the 3 valid ones", n)
	}
}

// flood sends n tokens from k, each with a random kid, from workers
// goroutines at once, and counts the statuses.
func (s *scenario) flood(k testKey, n, workers int) map[int]int {
	toks := make(chan string, n)
	for i := range n {
		c := stdClaims(s.iss.URL(), s.clk.Now())
		c["jti"] = i
		toks <- k.signHeader(s.t, jwsHeader(k, randomKID(i)), c)
	}
	close(toks)
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for tok := range toks {
				req, _ := http.NewRequest(http.MethodGet, s.g.url+"/app", nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := s.g.client.Do(req)
				if err != nil {
					s.t.Error(err)
					return
				}
				resp.Body.Close()
				mu.Lock()
				statuses[resp.StatusCode]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return statuses
}

// TestGuardIssuerDown48h: the issuer down for 48 hours costs no valid
// token, neither for the running guard nor for one restarted from its
// cache file while the issuer is still down.
func TestGuardIssuerDown48h(t *testing.T) {
	k1, k2 := newKey(t, "RS256", "k1"), newKey(t, "EdDSA", "k2")
	iss, up, clk, ev := newFakeIssuer(t, k1, k2), newUpstream(t), clock.NewFake(t0), newEvents()
	cfg := config(iss, up, clk, ev)
	cfg.CacheFile = filepath.Join(t.TempDir(), "keys.json")
	g := start(t, cfg)
	g.mustPass(k1.sign(t, stdClaims(iss.URL(), clk.Now())))
	if e := ev.next(t); e.Outcome != verify.OutcomeUpdated { // persisted before the event
		t.Fatalf("first refresh: %v %v", e.Outcome, e.Err)
	}
	iss.setDown(true)
	for hours := 0; hours < 48; hours += 6 {
		clk.Advance(6 * time.Hour)
		for _, k := range []testKey{k1, k2} {
			g.mustPass(k.sign(t, stdClaims(iss.URL(), clk.Now())))
		}
	}
	if h := g.g.Health(); !h.Ready || h.Keys != 2 || h.AgeSeconds < 47*3600 || h.Failures == 0 {
		t.Fatalf("health after 48h down: %+v", h)
	}
	if err := g.stop(); err != nil {
		t.Fatal(err)
	}

	fetches := iss.jwksHits.Load()
	cfg.Observer = newEvents().observer()
	restarted := start(t, cfg)
	if h := restarted.g.Health(); !h.Ready || h.Keys != 2 {
		t.Fatalf("restarted guard not ready from its cache file: %+v", h)
	}
	for _, k := range []testKey{k1, k2} {
		restarted.mustPass(k.sign(t, stdClaims(iss.URL(), clk.Now())))
	}
	if iss.jwksHits.Load() != fetches {
		t.Fatal("the restarted guard got keys from the issuer, which is down")
	}
}

// TestGuardRevokedKey: a key removed from the set is refused after the
// next scheduled refresh.
func TestGuardRevokedKey(t *testing.T) {
	k1, k2 := newKey(t, "RS256", "k1"), newKey(t, "RS256", "k2")
	s := newScenario(t, k1, k2)
	s.g.mustPass(s.token(k1))
	s.ev.next(t)
	s.iss.publish(k2)
	s.g.mustPass(s.token(k1)) // still cached: revocation takes effect at the next refresh
	s.clk.Advance(verify.DefaultRefreshInterval)
	s.g.mustPass(s.token(k2)) // kicks the scheduled refresh (or the refresh loop did)
	if e := s.ev.next(t); e.Outcome != verify.OutcomeUpdated || e.Keys != 1 {
		t.Fatalf("scheduled refresh: %v, %d keys, %v", e.Outcome, e.Keys, e.Err)
	}
	before := s.up.hits.Load()
	resp := s.g.mustReject(s.token(k1))
	if !strings.Contains(resp.challenge, "unknown key") {
		t.Fatalf("revoked key refused for another reason: %s", resp.challenge)
	}
	s.g.mustPass(s.token(k2))
	if s.up.hits.Load() != before+1 {
		t.Fatal("the revoked key's request reached the upstream")
	}
}
