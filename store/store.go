// Package store is the contract for keyroll's durable state: signing keys
// (public records plus encrypted private keys), the audit log, a few named
// settings, the OAuth side (applications, test users and pending
// authorization codes), the web console's administrators and sessions, and
// the evidence of the fleet's readiness for a rollover (rolled-up key
// fetches, drill history). Backends live in subpackages (sqlite, postgres)
// and all pass the conformance suite in storetest.
//
// Every change goes through [Store.Update], which runs the caller's function
// on the current keys inside one transaction, serialised against every other
// writer (of this process or, for PostgreSQL, of any replica). The function
// re-checks whether its change is still due, so a stale writer loses cleanly
// instead of doubling a rollover. Keys are never deleted: an update that
// drops a key is refused.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
)

// Errors callers act on.
var (
	// ErrNotFound: the named record does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: the change contradicts what is stored (a key dropped, a kid reused, ...).
	ErrConflict = errors.New("store: conflict")
	// ErrCorrupt: a stored row cannot be decoded.
	ErrCorrupt = errors.New("store: corrupt record")
)

// Change is what an update function returns: the full new key set, the
// sealed private keys of keys it adds, and the audit events.
type Change struct {
	Keys   []lifecycle.Key   // every key, old and new; none may be missing
	Sealed map[string][]byte // kid → encrypted private key, for each added key
	Events []lifecycle.Event
}

// UpdateFunc computes a change from the current keys. Returning a nil
// *Change (and no error) means "nothing to do".
type UpdateFunc func(keys []lifecycle.Key) (*Change, error)

// Store is keyroll's storage contract.
type Store interface {
	// Keys returns every key ever made, oldest first, and the store's
	// generation: a counter that grows with every committed Update.
	Keys(ctx context.Context) ([]lifecycle.Key, int64, error)
	// Generation returns the current generation cheaply, so replicas can
	// poll for changes.
	Generation(ctx context.Context) (int64, error)
	// Sealed returns the encrypted private key of kid.
	Sealed(ctx context.Context, kid string) ([]byte, error)
	// Update runs fn on the current keys in one serialised transaction and
	// commits its change atomically, or nothing. It returns the generation
	// after the update and whether anything was written.
	Update(ctx context.Context, fn UpdateFunc) (gen int64, changed bool, err error)
	// Events returns audit events with Time ≥ since, oldest first, at most limit (0: all).
	Events(ctx context.Context, since time.Time, limit int) ([]lifecycle.Event, error)
	// Setting returns a named setting, or ErrNotFound.
	Setting(ctx context.Context, name string) ([]byte, error)
	// InitSetting stores value under name unless a value is there already,
	// and returns the value that is stored afterwards.
	InitSetting(ctx context.Context, name string, value []byte) ([]byte, error)
	// Close releases the store.
	Close() error

	AppStore
	UserStore
	CodeStore
	ReplayStore
	ConsoleStore
	EvidenceStore
}

// ReplayStore remembers single-use message ids (SAML AuthnRequest IDs) for
// as long as the message could be accepted, across replicas.
type ReplayStore interface {
	// UseOnce records id until expires and reports whether it was new; an
	// id already recorded and not expired at now is refused (false).
	// Expired ids are dropped on the way.
	UseOnce(ctx context.Context, id string, expires, now time.Time) (bool, error)
}

// Watcher is implemented by stores that can announce changes made by other
// processes (PostgreSQL LISTEN/NOTIFY). The channel receives a value after
// each committed change; it is closed when ctx ends.
type Watcher interface {
	Watch(ctx context.Context) (<-chan struct{}, error)
}
