package issuer

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/keyroll/keyroll/issuer/readiness"
	"github.com/keyroll/keyroll/lifecycle"
)

// Metrics are the issuer's Prometheus metrics. A nil *Metrics records nothing.
type Metrics struct {
	primaryNotAfter atomic.Int64 // unix seconds; 0 when there is no primary
	now             func() time.Time
	published       *prometheus.GaugeVec
	transitions     *prometheus.CounterVec
	checkFailures   prometheus.Counter
	lastCheck       prometheus.Gauge
	waiting         *prometheus.GaugeVec
	waitingCount    prometheus.Gauge
	promoteBy       prometheus.Gauge
	stateProblems   prometheus.Gauge
	damaged         prometheus.Gauge
	issued          *prometheus.CounterVec
	verdicts        *prometheus.GaugeVec
}

// NewMetrics registers the issuer's metrics with reg; now is the clock that
// "seconds until primary expiry" is measured against.
func NewMetrics(reg prometheus.Registerer, now func() time.Time) *Metrics {
	m := &Metrics{
		now: now,
		published: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "keyroll_published_keys", Help: "Published signing keys by state.",
		}, []string{"state"}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "keyroll_rollover_events_total", Help: "Key state transitions by target state and actor.",
		}, []string{"to", "actor"}),
		checkFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "keyroll_rollover_check_failures_total", Help: "Rollover checks that failed.",
		}),
		lastCheck: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "keyroll_rollover_last_check_timestamp_seconds", Help: "When the last successful rollover check ran.",
		}),
	}
	m.waiting = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "keyroll_promotion_waiting_for", Help: "1 for each application the promotion of the next key waits for (promotion gate).",
	}, []string{"app", "kid"})
	m.waitingCount = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "keyroll_promotion_waiting_applications", Help: "How many applications the promotion of the next key waits for.",
	})
	m.promoteBy = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "keyroll_promotion_deadline_timestamp_seconds", Help: "When the next key is promoted at the latest (critical threshold); 0 without one.",
	})
	m.verdicts = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "keyroll_applications", Help: "Applications by readiness verdict for the next rollover (as keyroll readiness judges them).",
	}, []string{"verdict"})
	reg.MustRegister(m.waiting, m.waitingCount, m.promoteBy, m.verdicts)
	expiry := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "keyroll_primary_not_after_timestamp_seconds", Help: "When the primary signing certificate expires, as a Unix time (NaN: no primary). Alert on it minus time().",
	}, func() float64 {
		na := m.primaryNotAfter.Load()
		if na == 0 {
			return nan()
		}
		return float64(na)
	})
	m.stateProblems = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "keyroll_key_state_problems", Help: "Reasons the key set cannot keep rolling (several primaries, no primary, an unpromotable next key); 0 when healthy.",
	})
	m.damaged = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "keyroll_damaged_private_keys", Help: "Keys that will never sign again whose stored private key does not open.",
	})
	m.issued = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "keyroll_tokens_issued_total", Help: "Tokens and sign-in answers signed, by protocol (oidc, saml, wsfed) and application.",
	}, []string{"protocol", "app"})
	reg.MustRegister(m.issued)
	reg.MustRegister(m.published, m.transitions, m.checkFailures, m.lastCheck, expiry, m.stateProblems, m.damaged)
	for _, st := range []lifecycle.State{lifecycle.Next, lifecycle.Primary, lifecycle.Retired} {
		m.published.WithLabelValues(string(st))
	}
	for _, v := range readiness.Verdicts {
		m.verdicts.WithLabelValues(string(v))
	}
	return m
}

func nan() float64 { var zero float64; return zero / zero }

func (m *Metrics) observe(s *Snapshot, _ time.Time) {
	if m == nil {
		return
	}
	counts := map[lifecycle.State]int{}
	for _, k := range s.Published {
		counts[k.State]++
	}
	for _, st := range []lifecycle.State{lifecycle.Next, lifecycle.Primary, lifecycle.Retired} {
		m.published.WithLabelValues(string(st)).Set(float64(counts[st]))
	}
	var se *lifecycle.StateError
	if errors.As(s.StateErr, &se) {
		m.stateProblems.Set(float64(len(se.Problems)))
	} else {
		m.stateProblems.Set(0)
	}
	if s.Primary != nil {
		m.primaryNotAfter.Store(s.Primary.NotAfter.Unix())
	} else {
		m.primaryNotAfter.Store(0)
	}
}

func (m *Metrics) transition(e lifecycle.Event) {
	if m != nil {
		m.transitions.WithLabelValues(string(e.To), e.Actor).Inc()
	}
}

func (m *Metrics) damagedKeys(n int) {
	if m != nil {
		m.damaged.Set(float64(n))
	}
}

func (m *Metrics) checkFailed() {
	if m != nil {
		m.checkFailures.Inc()
	}
}

func (m *Metrics) checked(t time.Time) {
	if m != nil {
		m.lastCheck.Set(float64(t.Unix()))
	}
}

func (m *Metrics) gate(h lifecycle.Hold, by time.Time) {
	if m == nil {
		return
	}
	m.waiting.Reset()
	for _, app := range h.Waiting {
		m.waiting.WithLabelValues(app, h.KID).Set(1)
	}
	m.waitingCount.Set(float64(len(h.Waiting)))
	if by.IsZero() || h.KID == "" {
		m.promoteBy.Set(0)
	} else {
		m.promoteBy.Set(float64(by.Unix()))
	}
}

func (m *Metrics) issuedFor(protocol, app string) {
	if m != nil {
		m.issued.WithLabelValues(protocol, app).Inc()
	}
}

// readiness sets the number of applications by readiness verdict.
func (m *Metrics) readiness(counts map[readiness.Verdict]int) {
	if m == nil {
		return
	}
	for _, v := range readiness.Verdicts {
		m.verdicts.WithLabelValues(string(v)).Set(float64(counts[v]))
	}
}
