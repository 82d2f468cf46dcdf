package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// instrument counts and times every request by the endpoint it matched
// (the mux pattern, such as "GET /.well-known/jwks.json"; "unmatched" for
// a 404 of the mux itself), so cardinality is bounded by the routes.
func instrument(mux *http.ServeMux, reg prometheus.Registerer) http.Handler {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "keyroll_http_requests_total", Help: "HTTP requests by endpoint and status code.",
	}, []string{"endpoint", "code"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "keyroll_http_request_duration_seconds", Help: "HTTP request latency by endpoint.",
		Buckets: []float64{.0005, .001, .005, .01, .05, .1, .5, 1, 5},
	}, []string{"endpoint"})
	reg.MustRegister(requests, duration)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		mux.ServeHTTP(sw, r)
		endpoint := r.Pattern // set by the mux on r when it routed it
		if endpoint == "" {
			endpoint = "unmatched"
		}
		requests.WithLabelValues(endpoint, strconv.Itoa(sw.code)).Inc()
		duration.WithLabelValues(endpoint).Observe(time.Since(start).Seconds())
	})
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
