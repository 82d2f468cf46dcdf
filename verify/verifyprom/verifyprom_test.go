package verifyprom

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/jwk"
	"github.com/keyroll/keyroll/jws"
	"github.com/keyroll/keyroll/verify"
	"github.com/prometheus/client_golang/prometheus"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m, err := New(reg)
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	set, _ := json.Marshal(jwk.Set{Keys: []jwk.Key{{KID: "d1", Public: pub}}})
	// The refresh is reported after the verification it let through has
	// returned; the test waits for that report (no sleep, no poll).
	refreshed := make(chan struct{}, 1)
	v, err := verify.New("https://issuer.example", verify.StaticBytes("static", set),
		verify.WithAudience("api"), verify.WithObserver(signalRefresh{m, refreshed}))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Watch(v.Cache()); err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(map[string]any{"iss": "https://issuer.example", "aud": "api", "exp": time.Now().Add(time.Hour).Unix()})
	tok, _ := jws.Sign(priv, jws.Header{Alg: "EdDSA", Kid: "d1"}, payload)
	for range 3 {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	v.Verify(context.Background(), "x.y.z")
	select {
	case <-refreshed:
	case <-time.After(10 * time.Second):
		t.Fatal("the initial refresh was never reported")
	}
	for _, tc := range []struct {
		name, labels string
		want         float64
	}{
		{"keyroll_verify_verifications_total", "issuer=https://issuer.example,result=ok", 3},
		{"keyroll_verify_verifications_total", "issuer=https://issuer.example,result=malformed", 1},
		{"keyroll_verify_fetches_total", "result=ok,source=static", 1},
		{"keyroll_verify_refreshes_total", "outcome=updated,source=static,trigger=initial", 1},
		{"keyroll_verify_cache_ready", "source=static", 1},
		{"keyroll_verify_cache_keys", "source=static", 1},
	} {
		if got, ok := value(t, reg, tc.name, tc.labels); !ok || got != tc.want {
			t.Errorf("%s{%s} = %v (found %v), want %v", tc.name, tc.labels, got, ok, tc.want)
		}
	}
}

// value finds a counter or gauge by name and its labels as "k=v,k=v" (sorted).
func value(t *testing.T, reg *prometheus.Registry, name, labels string) (float64, bool) {
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			if strings.Join(ls, ",") != labels {
				continue
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue(), true
			}
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

// signalRefresh passes events to an observer and signals each refresh
// once it has been recorded.
type signalRefresh struct {
	verify.Observer
	done chan<- struct{}
}

func (s signalRefresh) Refreshed(e verify.RefreshEvent) {
	s.Observer.Refreshed(e)
	select {
	case s.done <- struct{}{}:
	default:
	}
}
