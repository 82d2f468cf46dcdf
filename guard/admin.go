package guard

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/keyroll/keyroll/verify/verifyprom"
)

// requestMetrics counts what the guard did with requests.
type requestMetrics struct {
	admitted, rejected, upstreamError prometheus.Counter
}

// registerMetrics registers the process, verifier and request metrics on
// the guard's own registry and returns the verifier's observer.
func (g *Guard) registerMetrics() (*verifyprom.Metrics, error) {
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "keyroll_guard_requests_total",
		Help: "Requests by outcome: admitted (token valid, forwarded), rejected (401/400), upstream_error (502)."},
		[]string{"outcome"})
	for _, c := range []prometheus.Collector{vec, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := g.reg.Register(c); err != nil {
			return nil, err
		}
	}
	g.requests = requestMetrics{admitted: vec.WithLabelValues("admitted"),
		rejected: vec.WithLabelValues("rejected"), upstreamError: vec.WithLabelValues("upstream_error")}
	return verifyprom.New(g.reg)
}

// Health is the body of /healthz and /readyz.
type Health struct {
	Ready       bool      `json:"ready"`
	Keys        int       `json:"keys"`
	AgeSeconds  float64   `json:"age_seconds"`
	Fetched     time.Time `json:"fetched,omitzero"`
	NextRefresh time.Time `json:"next_refresh,omitzero"`
	Failures    int       `json:"failures"`
	Error       string    `json:"error,omitempty"`
}

// Health reports the key cache: whether tokens can be verified, how many
// keys are served and how old they are.
func (g *Guard) Health() Health {
	st := g.v.Cache().Status()
	h := Health{Ready: st.Ready == nil, Keys: st.Keys, Fetched: st.Fetched, NextRefresh: st.NextRefresh,
		Failures: st.Failures}
	if !st.Fetched.IsZero() {
		h.AgeSeconds = st.Age.Seconds()
	}
	switch {
	case st.Ready != nil:
		h.Error = st.Ready.Error()
	case st.LastError != nil:
		h.Error = st.LastError.Error()
	}
	return h
}

// adminMux serves /metrics, /healthz (200 while the process runs) and
// /readyz (200 only when tokens can be verified, else 503).
func (g *Guard) adminMux() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { writeHealth(w, g.Health(), false) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) { writeHealth(w, g.Health(), true) })
	return mux
}

func writeHealth(w http.ResponseWriter, h Health, readiness bool) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if readiness && !h.Ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	json.NewEncoder(w).Encode(h)
}
