package rows

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/keyroll/keyroll/store"
)

// Fold is the form in which names are compared: application names and
// user names are unique whatever their case.
func Fold(name string) string { return strings.ToLower(name) }

// App is an application as stored. RedirectURIs is a JSON array of strings.
type App struct {
	ClientID, Name, NameFold       string
	SecretHash                     []byte // nil for a public client
	RedirectURIs                   string
	Audience                       string
	TokenLifetime                  int64 // nanoseconds
	KeyThumbprint, FallbackAudited string
	CreatedAt, UpdatedAt           int64
	Protocol                       string
	Settings                       string // JSON of store.FedSettings
}

// appProblem says what makes a unstorable, or "".
func appProblem(a store.Application) string {
	switch {
	case a.ClientID == "":
		return "empty client id"
	case a.Name == "":
		return "empty name"
	case len(a.SecretHash) != 0 && len(a.SecretHash) != sha256.Size:
		return fmt.Sprintf("secret hash is %d bytes, want %d (SHA-256) or none", len(a.SecretHash), sha256.Size)
	case a.TokenLifetime <= 0:
		return fmt.Sprintf("token lifetime %s is not positive", a.TokenLifetime)
	}
	for _, u := range a.RedirectURIs {
		if u == "" {
			return "empty redirect URI"
		}
	}
	return ""
}

// EncodeApp encodes a for writing; the error wraps store.ErrConflict.
func EncodeApp(a store.Application) (App, error) {
	if p := appProblem(a); p != "" {
		return App{}, fmt.Errorf("%w: application %q: %s", store.ErrConflict, a.Name, p)
	}
	uris := a.RedirectURIs
	if uris == nil {
		uris = []string{}
	}
	js, err := json.Marshal(uris)
	if err != nil {
		return App{}, err
	}
	r := App{ClientID: a.ClientID, Name: a.Name, NameFold: Fold(a.Name), RedirectURIs: string(js),
		Audience: a.Audience, TokenLifetime: int64(a.TokenLifetime), KeyThumbprint: a.KeyThumbprint,
		FallbackAudited: a.FallbackAudited, Protocol: string(a.Proto())}
	settings, err := json.Marshal(a.Fed)
	if err != nil {
		return App{}, err
	}
	r.Settings = string(settings)
	if len(a.SecretHash) > 0 {
		r.SecretHash = a.SecretHash
	}
	if r.CreatedAt, err = Nanos(a.CreatedAt); err == nil {
		r.UpdatedAt, err = Nanos(a.UpdatedAt)
	}
	if err != nil {
		return App{}, fmt.Errorf("%w: application %q: %v", store.ErrConflict, a.Name, err)
	}
	return r, nil
}

// Decode turns a stored row back into an application; the error wraps
// store.ErrCorrupt.
func (r App) Decode() (store.Application, error) {
	a := store.Application{ClientID: r.ClientID, Name: r.Name, Audience: r.Audience,
		TokenLifetime: time.Duration(r.TokenLifetime), KeyThumbprint: r.KeyThumbprint,
		FallbackAudited: r.FallbackAudited, CreatedAt: FromNanos(r.CreatedAt), UpdatedAt: FromNanos(r.UpdatedAt),
		Protocol: store.Protocol(r.Protocol)}
	if r.Settings != "" {
		if err := json.Unmarshal([]byte(r.Settings), &a.Fed); err != nil {
			return store.Application{}, fmt.Errorf("%w: application %q: settings: %v", store.ErrCorrupt, r.ClientID, err)
		}
	}
	if len(r.SecretHash) > 0 {
		a.SecretHash = r.SecretHash
	}
	if err := json.Unmarshal([]byte(r.RedirectURIs), &a.RedirectURIs); err != nil {
		return store.Application{}, fmt.Errorf("%w: application %q: redirect URIs: %v", store.ErrCorrupt, r.ClientID, err)
	}
	if len(a.RedirectURIs) == 0 {
		a.RedirectURIs = nil
	}
	if p := appProblem(a); p != "" {
		return store.Application{}, fmt.Errorf("%w: application %q: %s", store.ErrCorrupt, r.ClientID, p)
	}
	return a, nil
}

// CheckAppUpdate refuses an update that changes what never changes.
func CheckAppUpdate(old store.Application, next *store.Application) error {
	switch {
	case next.ClientID != old.ClientID:
		return fmt.Errorf("%w: application %q: the client id cannot change", store.ErrConflict, old.Name)
	case !next.CreatedAt.Equal(old.CreatedAt):
		return fmt.Errorf("%w: application %q: the creation time cannot change", store.ErrConflict, old.Name)
	}
	return nil
}
