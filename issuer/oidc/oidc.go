// Package oidc is the issuer's OAuth 2.0 / OpenID Connect provider: the
// authorization-code flow with PKCE through the shared sign-in page, the
// client-credentials grant, the token endpoint and UserInfo. It sees only
// what it signs with (issuer.SigningKey for an application), the published
// keys it checks its own access tokens against, and the applications,
// codes and users it reads.
package oidc

import (
	"context"
	"crypto/x509"
	"log/slog"
	"net/http"
	"time"

	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/issuer/signin"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// OAuth 2.0 / OpenID Connect endpoints.
const (
	AuthorizePath = "/oauth2/authorize"
	TokenPath     = "/oauth2/token"
	UserInfoPath  = "/oauth2/userinfo"
)

// CodeLifetime is how long an authorization code can be redeemed.
const CodeLifetime = 60 * time.Second

// Sizes of the random values the provider hands out.
const (
	codeBytes = 32 // authorization codes
	jtiBytes  = 16 // token ids
)

// Scopes the issuer grants; others are ignored.
var supportedScopes = []string{"openid", "profile"}

// Keys is what the provider signs with and checks against:
// *issuer.Manager.
type Keys interface {
	Issuer() string
	Endpoint(path string) string
	Now() time.Time
	SignerFor(ctx context.Context, app store.Application, lifetime time.Duration) (issuer.SigningKey, error)
	Issued(protocol string, app store.Application)
	PublishedKey(ctx context.Context, kid string) (lifecycle.Key, *x509.Certificate)
}

// Store is what the provider reads and writes: applications (by client
// id), authorization codes and test users.
type Store interface {
	App(ctx context.Context, clientID string) (store.Application, error)
	User(ctx context.Context, username string) (store.User, error)
	store.CodeStore
}

// Provider is the OAuth 2.0 / OpenID Connect side of the issuer.
type Provider struct {
	keys   Keys
	st     Store
	signin *signin.Service
	log    *slog.Logger
}

// provider is the receiver name the handlers use.
type provider = Provider

// New returns a provider.
func New(keys Keys, st Store, si *signin.Service, log *slog.Logger) *Provider {
	return &Provider{keys: keys, st: st, signin: si, log: log}
}

// Discovery returns the members the provider adds to the discovery document.
func (p *Provider) Discovery() map[string]any {
	return map[string]any{
		"authorization_endpoint":                         p.keys.Endpoint(AuthorizePath),
		"token_endpoint":                                 p.keys.Endpoint(TokenPath),
		"userinfo_endpoint":                              p.keys.Endpoint(UserInfoPath),
		"grant_types_supported":                          []string{"authorization_code", "client_credentials"},
		"response_modes_supported":                       []string{"query"},
		"code_challenge_methods_supported":               []string{"S256"},
		"token_endpoint_auth_methods_supported":          []string{"client_secret_basic", "client_secret_post", "none"},
		"scopes_supported":                               supportedScopes,
		"claims_supported":                               []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "azp", "nonce", "auth_time", "preferred_username"},
		"authorization_response_iss_parameter_supported": true,
		"claims_parameter_supported":                     false,
		"request_parameter_supported":                    false,
		"request_uri_parameter_supported":                false,
	}
}

// Register adds the provider's endpoints to mux.
func (p *Provider) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+AuthorizePath, p.authorize)
	mux.HandleFunc("POST "+AuthorizePath, p.authorizePost)
	mux.HandleFunc("POST "+TokenPath, p.token)
	mux.HandleFunc(TokenPath, p.tokenMethod)
	mux.HandleFunc("GET "+UserInfoPath, p.userinfo)
	mux.HandleFunc("POST "+UserInfoPath, p.userinfo)
}

// AppToken signs an access token for app as client_credentials would,
// without its secret: the admin API's test tokens.
func (p *Provider) AppToken(ctx context.Context, app store.Application) (any, error) {
	if app.Proto() != store.ProtocolOIDC {
		return nil, issuer.Invalid("application %s signs users in over %s; test tokens are for OIDC applications", app.Name, app.Proto())
	}
	return p.mint(ctx, grant{app: app})
}
