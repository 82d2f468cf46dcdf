package rows

import (
	"crypto/sha256"
	"fmt"

	"github.com/keyroll/keyroll/store"
)

// Admin is a console administrator as stored.
type Admin struct {
	Name, NameFold, PasswordHash string
	CreatedAt                    int64
}

// EncodeAdmin encodes a for writing; the error wraps store.ErrConflict.
func EncodeAdmin(a store.Admin) (Admin, error) {
	if a.Name == "" || a.PasswordHash == "" {
		return Admin{}, fmt.Errorf("%w: administrator %q: empty name or password hash", store.ErrConflict, a.Name)
	}
	n, err := Nanos(a.CreatedAt)
	if err != nil {
		return Admin{}, fmt.Errorf("%w: administrator %q: %v", store.ErrConflict, a.Name, err)
	}
	return Admin{Name: a.Name, NameFold: Fold(a.Name), PasswordHash: a.PasswordHash, CreatedAt: n}, nil
}

// Decode turns a stored row back into an administrator; the error wraps store.ErrCorrupt.
func (r Admin) Decode() (store.Admin, error) {
	if r.Name == "" || r.PasswordHash == "" {
		return store.Admin{}, fmt.Errorf("%w: administrator %q: empty name or password hash", store.ErrCorrupt, r.Name)
	}
	return store.Admin{Name: r.Name, PasswordHash: r.PasswordHash, CreatedAt: FromNanos(r.CreatedAt)}, nil
}

// Session is a console session as stored.
type Session struct {
	Hash                           []byte
	Admin, AdminFold               string
	CreatedAt, LastSeen, ExpiresAt int64
}

// EncodeSession encodes s for writing; the error wraps store.ErrConflict.
func EncodeSession(s store.Session) (Session, error) {
	if len(s.Hash) != sha256.Size || s.Admin == "" || s.CreatedAt.IsZero() || s.ExpiresAt.IsZero() {
		return Session{}, fmt.Errorf("%w: session: want a SHA-256 hash, an administrator, a start and an end", store.ErrConflict)
	}
	r := Session{Hash: s.Hash, Admin: s.Admin, AdminFold: Fold(s.Admin)}
	var err error
	if r.CreatedAt, err = Nanos(s.CreatedAt); err == nil {
		if r.LastSeen, err = Nanos(s.LastSeen); err == nil {
			r.ExpiresAt, err = Nanos(s.ExpiresAt)
		}
	}
	if err != nil {
		return Session{}, fmt.Errorf("%w: session: %v", store.ErrConflict, err)
	}
	return r, nil
}

// Decode turns a stored row back into a session.
func (r Session) Decode() store.Session {
	return store.Session{Hash: r.Hash, Admin: r.Admin, CreatedAt: FromNanos(r.CreatedAt),
		LastSeen: FromNanos(r.LastSeen), ExpiresAt: FromNanos(r.ExpiresAt)}
}
