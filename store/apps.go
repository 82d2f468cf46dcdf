package store

import (
	"context"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
)

// Application is an OAuth 2.0 client registered with the issuer. The store
// keeps what it is given; the issuer validates it.
type Application struct {
	ClientID string   // random, URL-safe; never changes
	Name     string   // unique, compared case-insensitively
	Protocol Protocol // how it signs users in; "" reads as ProtocolOIDC
	// SecretHash is the SHA-256 of the client secret, which is never
	// stored; nil for a public client (PKCE, no secret).
	SecretHash []byte
	// RedirectURIs is the exact-match list of where answers may go: OIDC
	// redirect URIs, SAML assertion consumer services, WS-Fed reply URLs.
	RedirectURIs []string
	// Audience is the aud of an OIDC application's tokens, a SAML service
	// provider's entity ID, or a WS-Federation realm.
	Audience      string
	TokenLifetime time.Duration // lifetime of its tokens
	// KeyThumbprint is the preferred signing key (the per-application
	// override), as an upper-case SHA-1 certificate thumbprint; "" signs
	// with the primary.
	KeyThumbprint string
	// FallbackAudited is the override whose fallback to the primary (it
	// became unusable) has been audited, so the event is recorded once.
	FallbackAudited string
	// Fed holds the settings of SAML and WS-Federation applications.
	Fed       FedSettings
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Protocol is how an application signs users in.
type Protocol string

// Protocols.
const (
	ProtocolOIDC  Protocol = "oidc"  // OAuth 2.0 / OpenID Connect
	ProtocolSAML  Protocol = "saml"  // SAML 2.0 Web Browser SSO
	ProtocolWSFed Protocol = "wsfed" // WS-Federation passive requestor
)

// FedSettings are a SAML or WS-Federation application's settings, stored
// as one JSON document beside the application.
type FedSettings struct {
	// SPMetadataURL is where the service provider's metadata was read
	// from (refreshed like any metadata); "" when registered by hand.
	SPMetadataURL string `json:"sp_metadata_url,omitempty"`
	// SPCerts are the DER certificates the service provider signs its
	// requests with; signed requests are checked against these only.
	SPCerts [][]byte `json:"sp_certs,omitempty"`
	// RequestsSigned: the SP signs its AuthnRequests, so unsigned ones are refused.
	RequestsSigned bool `json:"requests_signed,omitempty"`
	// Sign says what is signed: "both" (default), "response" or "assertion".
	Sign string `json:"sign,omitempty"`
	// NameIDFormat is the registered NameID format URI; "" is persistent.
	NameIDFormat string `json:"nameid_format,omitempty"`
	// TokenType is the WS-Federation token: "saml2" (default) or "saml11".
	TokenType string `json:"token_type,omitempty"`
}

// Public reports whether a is a public client: it has no secret.
func (a Application) Public() bool { return len(a.SecretHash) == 0 }

// Proto returns the application's protocol, OIDC when unset.
func (a Application) Proto() Protocol {
	if a.Protocol == "" {
		return ProtocolOIDC
	}
	return a.Protocol
}

// User is a test user for interactive sign-in.
type User struct {
	Username     string // unique, compared case-insensitively
	PasswordHash string // encoded memory-hard hash with its parameters and salt
	CreatedAt    time.Time
}

// AuthCode is a pending OAuth 2.0 authorization code. The code itself is
// never stored, only its SHA-256, so a copy of the database redeems nothing.
type AuthCode struct {
	Hash        []byte // SHA-256 of the code
	ClientID    string
	RedirectURI string // as sent in the authorization request; "" if omitted
	Challenge   string // PKCE S256 code challenge; "" when none was sent
	Nonce       string
	Username    string
	Scope       string
	AuthTime    time.Time
	ExpiresAt   time.Time
}

// AppFunc computes a change to an application from its stored form and
// the current keys (read in the same transaction, so a key it checks
// cannot change under it). It returns the new application, or nil for no
// change, and the audit events to record with it.
type AppFunc func(app Application, keys []lifecycle.Key) (*Application, []lifecycle.Event, error)

// AppStore keeps applications.
type AppStore interface {
	// CreateApp stores a new application and its audit events; the error
	// wraps ErrConflict when the client id or the name is taken.
	CreateApp(ctx context.Context, app Application, events ...lifecycle.Event) error
	// App returns the application with this client id, or ErrNotFound.
	App(ctx context.Context, clientID string) (Application, error)
	// AppByName returns the application with this name (any case), or ErrNotFound.
	AppByName(ctx context.Context, name string) (Application, error)
	// Apps returns every application, by name.
	Apps(ctx context.Context) ([]Application, error)
	// UpdateApp runs fn on the application and the current keys in one
	// transaction serialised with key updates and commits its result, or
	// nothing. It returns the application as stored afterwards and whether
	// it changed; ErrNotFound when there is no such application. The client
	// id and creation time cannot change.
	UpdateApp(ctx context.Context, clientID string, fn AppFunc) (Application, bool, error)
	// DeleteApp removes the application and its pending authorization codes
	// and records the events; ErrNotFound when there is no such application.
	DeleteApp(ctx context.Context, clientID string, events ...lifecycle.Event) error
}

// UserStore keeps test users.
type UserStore interface {
	// CreateUser stores a new user; ErrConflict when the name is taken.
	CreateUser(ctx context.Context, u User) error
	// User returns the user with this name (any case), or ErrNotFound.
	User(ctx context.Context, username string) (User, error)
	// Users returns every user, by name.
	Users(ctx context.Context) ([]User, error)
	// DeleteUser removes the user and their pending authorization codes;
	// ErrNotFound when there is no such user.
	DeleteUser(ctx context.Context, username string) error
}

// CodeStore keeps authorization codes, so that a code issued by one replica
// can be redeemed at another.
type CodeStore interface {
	// PutCode stores a new code, first dropping codes that expired before
	// now; ErrConflict when a code with the same hash exists.
	PutCode(ctx context.Context, c AuthCode, now time.Time) error
	// ConsumeCode removes the code with this hash and returns it, atomically:
	// of several concurrent calls exactly one gets it. ErrNotFound when there
	// is no such code (never issued, or already consumed). Expiry is the
	// caller's to check.
	ConsumeCode(ctx context.Context, hash []byte) (AuthCode, error)
}
