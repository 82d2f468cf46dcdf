// Package server assembles the issuer's HTTP surface: the published
// documents and health (issuer), the OAuth 2.0 / OpenID Connect provider
// (issuer/oidc), the SAML 2.0 and WS-Federation provider
// (issuer/samlidp), the admin API (issuer/admin), the web console
// (issuer/console) and, optionally, metrics.
package server

import (
	"context"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/issuer/admin"
	"github.com/keyroll/keyroll/issuer/console"
	"github.com/keyroll/keyroll/issuer/oidc"
	"github.com/keyroll/keyroll/issuer/samlidp"
	"github.com/keyroll/keyroll/issuer/signin"
)

// MetricsPath is where metrics are served when a gatherer is given.
const MetricsPath = "/metrics"

// Options configures the HTTP side.
type Options struct {
	// AdminToken protects /admin/. Empty: admin requests are accepted only
	// from a loopback peer that is not a proxy hop.
	AdminToken string
	// Gatherer serves /metrics; nil: no metrics endpoint.
	Gatherer prometheus.Gatherer
	// Console configures the web console under /console/ (timeouts,
	// readiness verdicts, drill history); its Tokens default to the OIDC
	// provider's.
	Console console.Options
	// Fetches records who fetched the published documents (the caller
	// runs it); nil: fetches are not recorded.
	Fetches *issuer.FetchRecorder
	// Registerer receives the request metrics (keyroll_http_requests_total
	// and keyroll_http_request_duration_seconds by endpoint); nil: none.
	Registerer prometheus.Registerer
}

// New returns the issuer's HTTP handler over m.
func New(m *issuer.Manager, opts Options) http.Handler {
	mux := http.NewServeMux()
	docs := issuer.NewDocuments(m)
	docs.SetRecorder(opts.Fetches)
	st := m.Store()
	si := signin.New(st, m.Now, m.Logger(), strings.HasPrefix(m.Issuer(), "https://"))
	si.SetAudit(m.Audit)
	op := oidc.New(m, st, si, m.Logger())
	op.Register(mux)
	for k, v := range op.Discovery() {
		docs.SetDiscovery(k, v)
	}
	samlidp.New(m, st, si, m.Logger()).Register(mux)
	docs.Register(mux)
	if opts.Gatherer != nil {
		mux.Handle("GET "+MetricsPath, promhttp.HandlerFor(opts.Gatherer, promhttp.HandlerOpts{}))
	}
	copts := opts.Console
	if copts.Tokens == nil {
		copts.Tokens = op
	}
	mux.Handle(console.Path, console.New(m, copts))
	mux.Handle("/admin/", admin.New(m, admin.Options{Token: opts.AdminToken, Tokens: op, Fetches: opts.Fetches,
		SPMetadata: func(ctx context.Context, url string) (samlidp.SPRegistration, error) {
			return samlidp.FetchSPMetadata(ctx, nil, url)
		}}))
	if opts.Registerer != nil {
		return instrument(mux, opts.Registerer)
	}
	return mux
}
