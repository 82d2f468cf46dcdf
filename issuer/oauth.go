package issuer

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keyroll/keyroll/store"
)

// OAuth 2.0 / OpenID Connect endpoints.
const (
	AuthorizePath = "/oauth2/authorize"
	TokenPath     = "/oauth2/token"
	UserInfoPath  = "/oauth2/userinfo"
)

// Lifetimes of the interactive flow.
const (
	// CodeLifetime is how long an authorization code can be redeemed.
	CodeLifetime = 60 * time.Second
	// loginFormLifetime is how long a sign-in form may be submitted.
	loginFormLifetime = 10 * time.Minute
)

// Scopes the issuer grants; others are ignored.
var supportedScopes = []string{"openid", "profile"}

// provider is the OAuth 2.0 / OpenID Connect side of a Server: it
// authenticates applications and test users and signs their tokens with
// the Manager's keys.
type provider struct {
	m *Manager

	formKeyMu sync.Mutex
	formKey   []byte // HMAC key of the sign-in forms, shared by replicas via the store

	hashing chan struct{} // bounds concurrent password hashing

	lastMissRefresh atomic.Int64 // unix nanoseconds of the last refresh for an unknown kid
}

// minMissRefresh is how often a token naming an unknown kid may make this
// replica re-read the store: often enough to pick up another replica's new
// key at once, rarely enough that a flood of random kids costs nothing.
const minMissRefresh = time.Second

func newProvider(m *Manager) *provider {
	return &provider{m: m, hashing: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))}
}

func (p *provider) st() store.Store   { return p.m.cfg.Store }
func (p *provider) log() *slog.Logger { return p.m.cfg.Logger }
func (p *provider) issuerURL() string { return p.m.cfg.Issuer }
func (p *provider) endpoint(path string) string {
	return strings.TrimSuffix(p.m.cfg.Issuer, "/") + path
}

// formKeySetting names the setting holding the sign-in form HMAC key.
const formKeySetting = "oauth_form_key"

// loginKey returns the HMAC key of sign-in forms, creating it in the store
// on first use so that every replica shares it.
func (p *provider) loginKey(ctx context.Context) ([]byte, error) {
	p.formKeyMu.Lock()
	defer p.formKeyMu.Unlock()
	if p.formKey != nil {
		return p.formKey, nil
	}
	k, err := p.st().InitSetting(ctx, formKeySetting, []byte(randomString(32)))
	if err != nil {
		return nil, fmt.Errorf("sign-in form key: %w", err)
	}
	if len(k) < 32 {
		return nil, fmt.Errorf("sign-in form key: the stored setting %s is too short", formKeySetting)
	}
	p.formKey = k
	return k, nil
}

// discovery returns the members the provider adds to the discovery document.
func (p *provider) discovery() map[string]any {
	return map[string]any{
		"authorization_endpoint":                         p.endpoint(AuthorizePath),
		"token_endpoint":                                 p.endpoint(TokenPath),
		"userinfo_endpoint":                              p.endpoint(UserInfoPath),
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

// routes registers the provider's endpoints on s.
func (p *provider) routes(s *Server) {
	s.mux.HandleFunc("GET "+AuthorizePath, p.authorize)
	s.mux.HandleFunc("POST "+AuthorizePath, p.authorizePost)
	s.mux.HandleFunc("POST "+TokenPath, p.token)
	s.mux.HandleFunc(TokenPath, p.tokenMethod)
	s.mux.HandleFunc("GET "+UserInfoPath, p.userinfo)
	s.mux.HandleFunc("POST "+UserInfoPath, p.userinfo)
	for k, v := range p.discovery() {
		s.SetDiscovery(k, v)
	}
}
