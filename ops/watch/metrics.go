package watch

import (
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/keyroll/keyroll/ops"
)

// Metrics exposes the watch as Prometheus metrics:
//
//	keyroll_watch_certificate_not_after_timestamp_seconds{provider,kid,thumbprint}  when each published certificate expires (Unix time)
//	keyroll_watch_last_success_timestamp_seconds{provider}          when the provider was last fetched successfully
//	keyroll_watch_up{provider}                                      1 if the last fetch succeeded
//	keyroll_watch_published_keys{provider}                          keys published at the last successful fetch
//	keyroll_watch_events_total{kind}                                events reported
//	keyroll_watch_webhook_deliveries_total{result}                  webhook attempts, "ok" or "failed"
type Metrics struct {
	mu         sync.Mutex
	expiry     *prometheus.GaugeVec
	lastOK     *prometheus.GaugeVec
	up         *prometheus.GaugeVec
	keys       *prometheus.GaugeVec
	events     *prometheus.CounterVec
	deliveries *prometheus.CounterVec
}

// NewMetrics registers the watch metrics with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		expiry: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "keyroll_watch_certificate_not_after_timestamp_seconds",
			Help: "When each published signing certificate expires, as a Unix time; alert on it minus time()."}, []string{"provider", "kid", "thumbprint"}),
		lastOK: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "keyroll_watch_last_success_timestamp_seconds",
			Help: "When the provider's keys were last fetched successfully."}, []string{"provider"}),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "keyroll_watch_up",
			Help: "1 if the last fetch of the provider succeeded, else 0."}, []string{"provider"}),
		keys: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "keyroll_watch_published_keys",
			Help: "Signing keys the provider published at the last successful fetch."}, []string{"provider"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "keyroll_watch_events_total",
			Help: "Events reported, by kind."}, []string{"kind"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "keyroll_watch_webhook_deliveries_total",
			Help: "Webhook delivery attempts, by result."}, []string{"result"}),
	}
	for _, c := range []prometheus.Collector{m.expiry, m.lastOK, m.up, m.keys, m.events, m.deliveries} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, err
			}
		}
	}
	return m, nil
}

// Fetched records one fetch.
func (m *Metrics) Fetched(provider string, pub *ops.Published, err error, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		m.up.WithLabelValues(provider).Set(0)
		return
	}
	m.up.WithLabelValues(provider).Set(1)
	m.lastOK.WithLabelValues(provider).Set(float64(now.UnixNano()) / 1e9)
	m.keys.WithLabelValues(provider).Set(float64(len(pub.Keys)))
	m.expiry.DeletePartialMatch(prometheus.Labels{"provider": provider})
	for _, k := range pub.Keys {
		if k.HasCert() {
			m.expiry.WithLabelValues(provider, k.KID, k.Thumbprint).Set(float64(k.NotAfter.Unix()))
		}
	}
}

// Emitted counts an event.
func (m *Metrics) Emitted(e Event) { m.events.WithLabelValues(string(e.Kind)).Inc() }

// Delivered counts a webhook attempt; pass it as Notifier.Result.
func (m *Metrics) Delivered(ok bool) {
	result := "failed"
	if ok {
		result = "ok"
	}
	m.deliveries.WithLabelValues(result).Inc()
}
