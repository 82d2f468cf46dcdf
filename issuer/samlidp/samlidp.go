// Package samlidp is the issuer's SAML 2.0 and WS-Federation provider.
package samlidp

import (
	"log/slog"
	"net/http"

	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/issuer/signin"
	"github.com/keyroll/keyroll/store"
)

// Provider is the SAML 2.0 / WS-Federation side of the issuer.
type Provider struct{}

// New returns a provider.
func New(m *issuer.Manager, st store.Store, si *signin.Service, log *slog.Logger) *Provider {
	return &Provider{}
}

// Register adds the provider's endpoints to mux.
func (p *Provider) Register(mux *http.ServeMux) {
	mux.HandleFunc(issuer.SAMLPath, func(w http.ResponseWriter, r *http.Request) { http.Error(w, "todo", 501) })
	mux.HandleFunc(issuer.PassivePath, func(w http.ResponseWriter, r *http.Request) { http.Error(w, "todo", 501) })
}
