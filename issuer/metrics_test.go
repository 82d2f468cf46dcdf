package issuer

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/lifecycle"
)

func TestMetrics(t *testing.T) {
	clk := clock.NewFake(start)
	st := openSQLite(t, t.TempDir())
	defer st.Close()
	reg := prometheus.NewRegistry()
	m, err := New(Config{Issuer: "https://issuer.test", Store: st, Sealer: testKEK(t), Policy: lifecycle.DefaultPolicy(),
		Clock: clk, Metrics: NewMetrics(reg, clk.Now)})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Rotate(context.Background(), false, "test"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(24 * lifecycle.Day)
	ts := httptest.NewServer(NewServer(m, ServerOptions{Gatherer: reg}))
	defer ts.Close()
	_, body := do(t, "GET", ts.URL+MetricsPath, "", "")
	for _, want := range []string{
		// 365 d certificate, 24 d later (no check ran, so still the first key): 341 d.
		`keyroll_primary_expiry_seconds 2.94624e+07`,
		`keyroll_published_keys{state="next"} 1`,
		`keyroll_published_keys{state="primary"} 1`,
		`keyroll_rollover_events_total{actor="test",to="next"} 1`,
		`keyroll_rollover_events_total{actor="policy",to="primary"} 1`,
		`keyroll_rollover_check_failures_total 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}

func TestSignOnEndpointsNamedInMetadataSayNotImplemented(t *testing.T) {
	_, _, ts := newTestServer(t, "")
	for _, p := range []string{PassivePath, SAMLPath} {
		resp, body := do(t, "GET", ts.URL+p, "", "")
		if resp.StatusCode != 501 || !strings.Contains(body, "OpenID Connect") {
			t.Errorf("GET %s: %d %s", p, resp.StatusCode, body)
		}
	}
}

// TestNewKeysAreBackdatedByClockSkew: a replica whose clock is behind by up
// to the clock skew can sign with a key made a moment ago.
func TestNewKeysAreBackdatedByClockSkew(t *testing.T) {
	m, _, _ := newTestServer(t, "")
	p := m.Policy()
	k := m.Snapshot().Primary
	if !k.NotBefore.Equal(start.Add(-p.ClockSkew)) || !k.NotAfter.Equal(start.Add(p.CertificateDuration)) {
		t.Fatalf("validity %s..%s, want %s..%s", k.NotBefore, k.NotAfter, start.Add(-p.ClockSkew), start.Add(p.CertificateDuration))
	}
}
