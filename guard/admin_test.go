package guard

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/verify"
)

func (r *running) metrics() string {
	r.t.Helper()
	resp, err := http.Get(r.admin + "/metrics")
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func (r *running) health(path string) (int, Health) {
	r.t.Helper()
	resp, err := http.Get(r.admin + path)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var h Health
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		r.t.Fatalf("%s: %v", path, err)
	}
	return resp.StatusCode, h
}

// TestGuardReadiness: /readyz answers 503 until keys are loaded, then 200
// with the key count and age; /healthz answers 200 throughout.
func TestGuardReadiness(t *testing.T) {
	k1 := newKey(t, "RS256", "k1")
	iss, up, clk, ev := newFakeIssuer(t, k1), newUpstream(t), clock.NewFake(t0), newEvents()
	iss.setDown(true)
	g := start(t, config(iss, up, clk, ev))
	if e := ev.next(t); e.Outcome != verify.OutcomeFailed {
		t.Fatalf("first refresh against a down issuer: %v", e.Outcome)
	}
	if code, h := g.health("/readyz"); code != http.StatusServiceUnavailable || h.Ready || h.Keys != 0 || h.Error == "" {
		t.Fatalf("/readyz without keys: %d %+v", code, h)
	}
	if code, _ := g.health("/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz without keys: %d", code)
	}
	g.mustReject(k1.sign(t, stdClaims(iss.URL(), clk.Now())))

	iss.setDown(false)
	clk.Advance(verify.DefaultMinRefreshInterval)
	g.mustPass(k1.sign(t, stdClaims(iss.URL(), clk.Now())))
	clk.Advance(90 * time.Second)
	code, h := g.health("/readyz")
	if code != http.StatusOK || !h.Ready || h.Keys != 1 || h.AgeSeconds != 90 || h.Error != "" {
		t.Fatalf("/readyz with keys: %d %+v", code, h)
	}
	m := g.metrics()
	for _, want := range []string{
		`keyroll_guard_requests_total{outcome="admitted"} 1`,
		`keyroll_guard_requests_total{outcome="rejected"} 1`,
		`keyroll_verify_cache_ready{source="` + iss.URL() + `/.well-known/openid-configuration"} 1`,
		`keyroll_verify_fetches_total{result="ok",source="`,
		`go_goroutines`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestGuardConfigErrors(t *testing.T) {
	up, _ := url.Parse("http://127.0.0.1:1")
	ok := Config{Issuer: "https://issuer.example", Audience: []string{"a"}, Upstream: up}
	for name, mod := range map[string]func(*Config){
		"no issuer":         func(c *Config) { c.Issuer = "" },
		"relative issuer":   func(c *Config) { c.Issuer = "issuer.example" },
		"no audience":       func(c *Config) { c.Audience = nil },
		"no upstream":       func(c *Config) { c.Upstream = nil },
		"ftp upstream":      func(c *Config) { c.Upstream = &url.URL{Scheme: "ftp", Host: "x"} },
		"upstream query":    func(c *Config) { c.Upstream = &url.URL{Scheme: "http", Host: "x", RawQuery: "a=1"} },
		"min above refresh": func(c *Config) { c.RefreshInterval, c.MinRefreshInterval = time.Minute, time.Hour },
		"negative interval": func(c *Config) { c.MinRefreshInterval = -time.Second },
	} {
		c := ok
		mod(&c)
		if _, err := New(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New(ok); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
}
