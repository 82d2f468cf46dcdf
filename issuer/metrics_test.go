package issuer

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
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
	m.Issued("saml", store.Application{Name: "wiki"})
	m.Issued("saml", store.Application{Name: "wiki"})
	ts := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer ts.Close()
	resp, err := http.Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(raw)
	for _, want := range []string{
		// The first key's 365 d certificate, as a Unix time (no check ran
		// since, so it is still the primary).
		`keyroll_primary_not_after_timestamp_seconds 1.7987616e+09`,
		// Open ran the first check at the start: the gauge is right from
		// the first second, not 0 until the loop's first check.
		`keyroll_rollover_last_check_timestamp_seconds 1.7672256e+09`,
		`keyroll_published_keys{state="next"} 1`,
		`keyroll_published_keys{state="primary"} 1`,
		`keyroll_rollover_events_total{actor="test",to="next"} 1`,
		`keyroll_rollover_events_total{actor="policy",to="primary"} 1`,
		`keyroll_rollover_check_failures_total 0`,
		`keyroll_tokens_issued_total{app="wiki",protocol="saml"} 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}

// TestNewKeysAreBackdatedByClockSkew: a replica whose clock is behind by up
// to the clock skew can sign with a key made a moment ago.
func TestNewKeysAreBackdatedByClockSkew(t *testing.T) {
	st := openSQLite(t, t.TempDir())
	defer st.Close()
	m := newManager(t, st, testKEK(t), clock.NewFake(start), lifecycle.DefaultPolicy())
	p := m.Policy()
	k := m.Snapshot().Primary
	if !k.NotBefore.Equal(start.Add(-p.ClockSkew)) || !k.NotAfter.Equal(start.Add(p.CertificateDuration)) {
		t.Fatalf("validity %s..%s, want %s..%s", k.NotBefore, k.NotAfter, start.Add(-p.ClockSkew), start.Add(p.CertificateDuration))
	}
}
