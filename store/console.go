package store

import (
	"context"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
)

// Admin is an administrator of the web console. Admins are a separate
// table from test users: a test user can never sign in to the console.
type Admin struct {
	Name         string // unique, compared case-insensitively
	PasswordHash string // encoded memory-hard hash with its parameters and salt
	CreatedAt    time.Time
}

// Session is a console sign-in as the store keeps it. The session token
// itself is never stored, only its SHA-256, so a copy of the database
// signs no one in. Any replica honours a session another made.
type Session struct {
	Hash      []byte    // SHA-256 of the session token
	Admin     string    // the administrator's name as stored
	CreatedAt time.Time // sign-in
	LastSeen  time.Time // the last request (idle timeout)
	ExpiresAt time.Time // absolute end, whatever the activity
}

// ConsoleStore keeps console administrators and their sessions.
type ConsoleStore interface {
	// CreateAdmin stores a new administrator and its audit events;
	// ErrConflict when the name is taken (in any case).
	CreateAdmin(ctx context.Context, a Admin, events ...lifecycle.Event) error
	// Admin returns the administrator with this name (any case), or ErrNotFound.
	Admin(ctx context.Context, name string) (Admin, error)
	// Admins returns every administrator, by name.
	Admins(ctx context.Context) ([]Admin, error)
	// DeleteAdmin removes the administrator and every session of theirs,
	// and records the events; ErrNotFound when there is no such administrator.
	DeleteAdmin(ctx context.Context, name string, events ...lifecycle.Event) error
	// CreateSession stores a new session of an existing administrator
	// (ErrNotFound otherwise) with its events, first dropping sessions
	// whose absolute end is before now; ErrConflict when the hash exists.
	CreateSession(ctx context.Context, s Session, now time.Time, events ...lifecycle.Event) error
	// Session returns the session with this token hash, or ErrNotFound.
	// Expiry is the caller's to check.
	Session(ctx context.Context, hash []byte) (Session, error)
	// TouchSession sets the session's LastSeen; ErrNotFound when it is gone.
	TouchSession(ctx context.Context, hash []byte, seen time.Time) error
	// DeleteSession removes the session and records the events;
	// ErrNotFound when there is no such session (the events are not recorded).
	DeleteSession(ctx context.Context, hash []byte, events ...lifecycle.Event) error
}
