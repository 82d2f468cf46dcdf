package adminapi

import (
	"errors"
	"fmt"
	"time"
)

// AppInfo is an application as the admin API shows it. It never holds the
// client secret.
type AppInfo struct {
	ClientID             string   `json:"client_id"`
	Name                 string   `json:"name"`
	Protocol             string   `json:"protocol"` // oidc, saml or wsfed
	Public               bool     `json:"public"`   // OIDC: no secret; PKCE
	RedirectURIs         []string `json:"redirect_uris"`
	Audience             string   `json:"audience"`
	TokenLifetimeSeconds int64    `json:"token_lifetime_seconds"`
	// KeyOverride is the thumbprint of the preferred signing key; empty
	// when the application's tokens are signed by the primary.
	KeyOverride string `json:"key_override,omitempty"`
	// SigningKey is the key that signs the application's tokens now.
	SigningKey *AppKeyInfo `json:"signing_key,omitempty"`
	// Warning says when the override cannot sign (or soon will not) and the
	// primary signs instead.
	Warning string `json:"warning,omitempty"`
	// Fed are the settings of a SAML or WS-Federation application.
	Fed *FedInfo `json:"federation,omitempty"`
	// URLs are the application's own addresses of the published documents
	// (?appid=): the same documents, but each fetch is recorded as
	// evidence that the application holds the keys.
	URLs      *AppURLs  `json:"urls,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// AppURLs are the published documents' addresses for one application.
type AppURLs struct {
	Discovery string `json:"discovery"`
	JWKS      string `json:"jwks"`
	Metadata  string `json:"metadata"`
}

// FedInfo are a SAML or WS-Federation application's settings. Audience is
// its entity ID or realm; RedirectURIs its assertion consumer services or
// reply URLs.
type FedInfo struct {
	SPMetadataURL  string   `json:"sp_metadata_url,omitempty"`
	SPCerts        [][]byte `json:"sp_certs,omitempty"` // DER, base64 in JSON
	RequestsSigned bool     `json:"requests_signed,omitempty"`
	Sign           string   `json:"sign,omitempty"`          // both, response or assertion
	NameIDFormat   string   `json:"nameid_format,omitempty"` // "" is persistent
	TokenType      string   `json:"token_type,omitempty"`    // WS-Fed: saml2 or saml11
}

// AppKeyInfo is the key that signs an application's tokens.
type AppKeyInfo struct {
	Thumbprint string    `json:"thumbprint"`
	KID        string    `json:"kid"`
	Alg        string    `json:"alg"`
	State      string    `json:"state"`
	NotAfter   time.Time `json:"not_after"`
	Override   bool      `json:"override"` // it is the application's override (else the primary)
}

// CreateAppRequest registers an application.
type CreateAppRequest struct {
	Name     string `json:"name"`
	Protocol string `json:"protocol,omitempty"` // oidc (default), saml or wsfed
	// Audience is an OIDC application's aud (default: the client id), a
	// SAML entity ID or a WS-Federation realm.
	Audience string `json:"audience,omitempty"`
	// RedirectURIs: OIDC redirect URIs, SAML ACS URLs, WS-Fed reply URLs.
	RedirectURIs []string `json:"redirect_uris,omitempty"`
	Public       bool     `json:"public,omitempty"` // no secret; PKCE required
	// TokenLifetimeSeconds is the lifetime of its tokens; 0: an hour, or
	// the policy's MaxTokenLifetime if shorter.
	TokenLifetimeSeconds int64 `json:"token_lifetime_seconds,omitempty"`
	// Fed are a SAML or WS-Federation application's settings.
	Fed *FedInfo `json:"federation,omitempty"`
}

// CreatedApp is the answer to CreateAppRequest: the only time the client
// secret is ever shown.
type CreatedApp struct {
	App          AppInfo `json:"app"`
	ClientSecret string  `json:"client_secret,omitempty"` // empty for a public client
}

// OverrideRequest points an application at a signing key, as
// Update-MsIdApplicationSigningKeyThumbprint -KeyThumbprint does. Exactly
// one of Key, Next and Latest is set.
type OverrideRequest struct {
	Key    string `json:"key,omitempty"`    // a thumbprint (any case, spaces or colons) or kid
	Next   bool   `json:"next,omitempty"`   // the next key
	Latest bool   `json:"latest,omitempty"` // the newest published key by NotBefore
	// AllowUnpublished accepts a key that is no longer published (revoked
	// or expired), to put back a previous setting exactly; the primary keeps
	// signing until the override is changed. Never needed otherwise.
	AllowUnpublished bool `json:"allow_unpublished,omitempty"`
}

// Check reports a request that does not name exactly one key.
func (r OverrideRequest) Check() error {
	n := 0
	for _, set := range []bool{r.Key != "", r.Next, r.Latest} {
		if set {
			n++
		}
	}
	if n != 1 {
		return errors.New("name exactly one of key, next or latest")
	}
	return nil
}

// OverrideResult is the answer to an override or restore-default request.
type OverrideResult struct {
	App     AppInfo     `json:"app"`
	Changed bool        `json:"changed"` // false when the setting was already so
	Events  []EventInfo `json:"events"`
}

// UserInfo is a test user as the admin API shows it; never the password.
type UserInfo struct {
	Username  string    `json:"username"`
	CreatedAt time.Time `json:"created_at"`
}

// CreateUserRequest makes a test user. An empty Password asks the issuer
// to generate one, returned once in CreatedUser.
type CreateUserRequest struct {
	Username string `json:"username"`
	Password string `json:"password,omitempty"`
}

// String hides the password from logs and error messages.
func (r CreateUserRequest) String() string { return fmt.Sprintf("{username %q}", r.Username) }

// CreatedUser is the answer to CreateUserRequest.
type CreatedUser struct {
	User     UserInfo `json:"user"`
	Password string   `json:"password,omitempty"` // only when the issuer generated it
}

// TokenResponse is a successful token endpoint answer (RFC 6749 §5.1).
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope,omitempty"`
	IDToken     string `json:"id_token,omitempty"`
}

// TokenError is an OAuth 2.0 error answer (RFC 6749 §5.2), also used by
// userinfo (RFC 6750).
type TokenError struct {
	Status      int    `json:"-"`
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	// RetryAfter, in seconds, is sent as Retry-After on a 429.
	RetryAfter int `json:"-"`
}

// Error returns the code and description.
func (e *TokenError) Error() string {
	if e.Description == "" {
		return e.Code
	}
	return e.Code + ": " + e.Description
}

// AdminInfo is a console administrator as the admin API shows it; never
// the password.
type AdminInfo struct {
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// CreateAdminRequest makes a console administrator. An empty Password
// asks the issuer to generate one, returned once in CreatedAdmin.
type CreateAdminRequest struct {
	Name     string `json:"name"`
	Password string `json:"password,omitempty"`
}

// String hides the password from logs and error messages.
func (r CreateAdminRequest) String() string { return fmt.Sprintf("{name %q}", r.Name) }

// CreatedAdmin is the answer to CreateAdminRequest.
type CreatedAdmin struct {
	Admin    AdminInfo `json:"admin"`
	Password string    `json:"password,omitempty"` // only when the issuer generated it
}
