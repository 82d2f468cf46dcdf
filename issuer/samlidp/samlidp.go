// Package samlidp is the issuer's SAML 2.0 and WS-Federation provider:
// SAML Web Browser SSO (SP-initiated over the HTTP-Redirect and HTTP-POST
// bindings, and IdP-initiated) and the WS-Federation passive requestor
// (wsignin1.0, wsignout1.0). Users sign in on the shared sign-in page
// (issuer/signin); answers are posted to the registered assertion consumer
// service or reply URL by a form that submits itself. It sees only what it
// signs with (issuer.SigningKey for an application, the per-application
// override included), the applications it answers, and a store of
// single-use request ids.
package samlidp

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/issuer/signin"
	"github.com/keyroll/keyroll/store"
)

// Endpoints.
const (
	SSOPath     = issuer.SAMLPath           // SAML SingleSignOnService (Redirect and POST)
	InitPath    = issuer.SAMLPath + "/init" // IdP-initiated sign-in: ?app=NAME|ENTITYID[&RelayState=...]
	PassivePath = issuer.PassivePath        // WS-Federation passive requestor
)

// Bounds.
const (
	// RequestLifetime is how old an AuthnRequest may be (by IssueInstant,
	// beside the clock skew); its ID is remembered this long.
	RequestLifetime = 10 * time.Minute
	// clockSkew is how far an SP's clock may be ahead.
	clockSkew = 3 * time.Minute
	// maxForm bounds form bodies posted to the endpoints.
	maxForm = 256 << 10
	// maxRelayState is SAML bindings' 80 bytes, with room for SPs that send more.
	maxRelayState = 1024
	// maxWctx bounds the WS-Federation context carried through.
	maxWctx = 2048
)

// Keys is what the provider signs with and the applications it answers:
// *issuer.Manager.
type Keys interface {
	Issuer() string
	Endpoint(path string) string
	Now() time.Time
	SignerFor(ctx context.Context, app store.Application, lifetime time.Duration) (issuer.SigningKey, error)
	Issued(protocol string, app store.Application)
	AppByAudience(ctx context.Context, p store.Protocol, id string) (store.Application, error)
	FindApp(ctx context.Context, ref string) (store.Application, error)
}

// Store is what the provider keeps: single-use request ids, the key of
// persistent NameIDs, and applications re-read by client id.
type Store interface {
	App(ctx context.Context, clientID string) (store.Application, error)
	InitSetting(ctx context.Context, name string, value []byte) ([]byte, error)
	store.ReplayStore
}

// Provider is the SAML 2.0 / WS-Federation side of the issuer.
type Provider struct {
	keys   Keys
	st     Store
	signin *signin.Service
	log    *slog.Logger
	ids    nameIDKey
}

// New returns a provider.
func New(keys Keys, st Store, si *signin.Service, log *slog.Logger) *Provider {
	return &Provider{keys: keys, st: st, signin: si, log: log}
}

// Register adds the provider's endpoints to mux.
func (p *Provider) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+SSOPath, p.ssoRedirect)
	mux.HandleFunc("POST "+SSOPath, p.ssoPost)
	mux.HandleFunc("GET "+InitPath, p.idpInitiated)
	mux.HandleFunc("GET "+PassivePath, p.passive)
	mux.HandleFunc("POST "+PassivePath, p.passivePost)
}

// cookiePath is the sign-in cookie's path for an endpoint under the
// issuer URL's path.
func (p *Provider) cookiePath(path string) string {
	if u, err := url.Parse(p.keys.Endpoint(path)); err == nil && u.Path != "" {
		return u.Path
	}
	return path
}

// stop shows why a sign-in cannot go on. It never redirects: used when the
// answer cannot safely go to the application (unknown SP, unregistered
// answer URL, a request that does not parse or verify).
func (p *Provider) stop(w http.ResponseWriter, code int, msg string) {
	signin.ShowError(w, code, msg)
}
