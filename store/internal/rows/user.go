package rows

import (
	"crypto/sha256"
	"fmt"

	"github.com/keyroll/keyroll/store"
)

// User is a test user as stored.
type User struct {
	Username, UsernameFold, PasswordHash string
	CreatedAt                            int64
}

// EncodeUser encodes u for writing; the error wraps store.ErrConflict.
func EncodeUser(u store.User) (User, error) {
	if u.Username == "" || u.PasswordHash == "" {
		return User{}, fmt.Errorf("%w: user %q: empty name or password hash", store.ErrConflict, u.Username)
	}
	n, err := Nanos(u.CreatedAt)
	if err != nil {
		return User{}, fmt.Errorf("%w: user %q: %v", store.ErrConflict, u.Username, err)
	}
	return User{Username: u.Username, UsernameFold: Fold(u.Username), PasswordHash: u.PasswordHash, CreatedAt: n}, nil
}

// Decode turns a stored row back into a user; the error wraps store.ErrCorrupt.
func (r User) Decode() (store.User, error) {
	if r.Username == "" || r.PasswordHash == "" {
		return store.User{}, fmt.Errorf("%w: user %q: empty name or password hash", store.ErrCorrupt, r.Username)
	}
	return store.User{Username: r.Username, PasswordHash: r.PasswordHash, CreatedAt: FromNanos(r.CreatedAt)}, nil
}

// Code is an authorization code as stored.
type Code struct {
	Hash                                    []byte
	ClientID, RedirectURI, Challenge, Nonce string
	Username, Scope                         string
	AuthTime, ExpiresAt                     int64
}

// EncodeCode encodes c for writing; the error wraps store.ErrConflict.
func EncodeCode(c store.AuthCode) (Code, error) {
	if len(c.Hash) != sha256.Size || c.ClientID == "" || c.Username == "" || c.ExpiresAt.IsZero() {
		return Code{}, fmt.Errorf("%w: authorization code: want a SHA-256 hash, client id, user and expiry", store.ErrConflict)
	}
	r := Code{Hash: c.Hash, ClientID: c.ClientID, RedirectURI: c.RedirectURI, Challenge: c.Challenge,
		Nonce: c.Nonce, Username: c.Username, Scope: c.Scope}
	var err error
	if r.AuthTime, err = Nanos(c.AuthTime); err == nil {
		r.ExpiresAt, err = Nanos(c.ExpiresAt)
	}
	if err != nil {
		return Code{}, fmt.Errorf("%w: authorization code: %v", store.ErrConflict, err)
	}
	return r, nil
}

// Decode turns a stored row back into a code.
func (r Code) Decode() store.AuthCode {
	return store.AuthCode{Hash: r.Hash, ClientID: r.ClientID, RedirectURI: r.RedirectURI, Challenge: r.Challenge,
		Nonce: r.Nonce, Username: r.Username, Scope: r.Scope, AuthTime: FromNanos(r.AuthTime), ExpiresAt: FromNanos(r.ExpiresAt)}
}
