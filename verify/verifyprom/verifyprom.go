// Package verifyprom exports the events of a keyroll [verify] cache and
// verifier as Prometheus metrics:
//
//	keyroll_verify_fetches_total{source,result}          counter (ok, not_modified, error)
//	keyroll_verify_fetch_duration_seconds{source}         histogram
//	keyroll_verify_refreshes_total{source,trigger,outcome} counter
//	keyroll_verify_verifications_total{issuer,result}     counter (ok, expired, bad_signature, ...)
//	keyroll_verify_cache_age_seconds{source}              gauge (Watch)
//	keyroll_verify_cache_keys{source}                     gauge (Watch)
//	keyroll_verify_cache_ready{source}                    gauge, 1 or 0 (Watch)
//
// Use a [Metrics] as the verify.Observer (verify.WithObserver) and call
// [Metrics.Watch] for each cache. Counting a verification is a lock-free
// lookup of a pre-built counter.
package verifyprom

import (
	"sync"

	"github.com/keyroll/keyroll/verify"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics implements verify.Observer with Prometheus collectors.
type Metrics struct {
	reg       prometheus.Registerer
	fetches   *prometheus.CounterVec
	fetchTime *prometheus.HistogramVec
	refreshes *prometheus.CounterVec
	verified  *prometheus.CounterVec
	byIssuer  sync.Map // issuer → *[verify.NumResults]prometheus.Counter
}

// New creates the collectors and registers them with reg.
func New(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		reg: reg,
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "keyroll_verify_fetches_total",
			Help: "Key document fetches by source and result (ok, not_modified, error)."}, []string{"source", "result"}),
		fetchTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "keyroll_verify_fetch_duration_seconds",
			Help: "Key document fetch duration.", Buckets: prometheus.ExponentialBuckets(0.01, 2, 11)}, []string{"source"}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "keyroll_verify_refreshes_total",
			Help: "Key set refreshes by source, trigger and outcome."}, []string{"source", "trigger", "outcome"}),
		verified: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "keyroll_verify_verifications_total",
			Help: "Token verifications by issuer and result."}, []string{"issuer", "result"}),
	}
	for _, c := range []prometheus.Collector{m.fetches, m.fetchTime, m.refreshes, m.verified} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Fetched counts a fetch and records its duration.
func (m *Metrics) Fetched(e verify.FetchEvent) {
	result := "ok"
	switch {
	case e.Err != nil:
		result = "error"
	case e.NotModified:
		result = "not_modified"
	}
	m.fetches.WithLabelValues(e.Source, result).Inc()
	m.fetchTime.WithLabelValues(e.Source).Observe(e.Duration.Seconds())
}

// Refreshed counts a refresh by trigger and outcome.
func (m *Metrics) Refreshed(e verify.RefreshEvent) {
	m.refreshes.WithLabelValues(e.Source, e.Trigger.String(), e.Outcome.String()).Inc()
}

// Verified counts a verification by issuer and result.
func (m *Metrics) Verified(e verify.VerifyEvent) {
	if e.Result >= verify.NumResults {
		return
	}
	cs, ok := m.byIssuer.Load(e.Issuer)
	if !ok {
		var arr [verify.NumResults]prometheus.Counter
		for r := range arr {
			arr[r] = m.verified.WithLabelValues(e.Issuer, verify.Result(r).String())
		}
		cs, _ = m.byIssuer.LoadOrStore(e.Issuer, &arr)
	}
	cs.(*[verify.NumResults]prometheus.Counter)[e.Result].Inc()
}

// Watch registers age, key count and readiness gauges for c.
func (m *Metrics) Watch(c *verify.Cache) error {
	labels := prometheus.Labels{"source": c.Source().Name()}
	gauges := []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "keyroll_verify_cache_age_seconds", ConstLabels: labels,
			Help: "Time since the source last delivered or confirmed the served keys."}, func() float64 {
			age, _ := c.Age()
			return age.Seconds()
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "keyroll_verify_cache_keys", ConstLabels: labels,
			Help: "Usable keys served."}, func() float64 {
			if ks := c.KeySet(); ks != nil {
				return float64(ks.Usable())
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "keyroll_verify_cache_ready", ConstLabels: labels,
			Help: "1 when the cache can verify tokens (keys present, not stale)."}, func() float64 {
			if c.Ready() == nil {
				return 1
			}
			return 0
		}),
	}
	for _, g := range gauges {
		if err := m.reg.Register(g); err != nil {
			return err
		}
	}
	return nil
}
