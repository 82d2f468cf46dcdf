// Package postgres is keyroll's replicated [store.Store]: any number of
// issuer replicas share one PostgreSQL database.
//
// Every Update takes a transaction-scoped advisory lock before it reads the
// keys, so updates from all replicas run one at a time and each sees the
// previous one's result; the update function's "still due?" check then makes
// a stale replica lose cleanly. A committed update sends NOTIFY keyroll_keys,
// which [Store.Watch] turns into a change signal for the other replicas.
//
// The tables (keyroll_keys, keyroll_events, keyroll_settings, keyroll_meta)
// live in the first schema of the connection's search_path; add
// search_path=myschema to the URL to choose another one.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/keyroll/keyroll/store"
)

// Store is a [store.Store] and [store.Watcher] kept in PostgreSQL. It is
// safe for concurrent use.
type Store struct {
	cfg    *pgx.ConnConfig // for the watchers' dedicated connections
	pool   *pgxpool.Pool
	closed atomic.Bool

	life     context.Context // ends with Close; stops watchers
	stop     context.CancelFunc
	watchers sync.WaitGroup
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.Watcher = (*Store)(nil)
)

// poolSize bounds the connections a Store holds, watchers aside.
const poolSize = 4

// lockKey is the advisory lock every Update and every schema migration
// takes: "keyroll" in ASCII.
const lockKey int64 = 0x6b6579726f6c6c

// errClosed is returned by a store that has been closed.
var errClosed = errors.New("postgres: store is closed")

// Open connects to the database at dsn (a postgres:// URL or key=value
// string) and creates or migrates the schema. Replicas may open at once:
// migration runs under the advisory lock. It refuses a database written by a
// newer keyroll with an error wrapping [ErrSchemaTooNew].
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	cfg.MaxConns = poolSize
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{cfg: cfg.ConnConfig, pool: pool}
	s.life, s.stop = context.WithCancel(context.Background())
	err = s.withConn(ctx, func(conn *pgx.Conn) error { return migrate(ctx, conn) })
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	return s, nil
}

// withConn runs f on a pooled connection. A connection left inside a
// transaction or broken is closed rather than reused.
func (s *Store) withConn(ctx context.Context, f func(*pgx.Conn) error) error {
	if s.closed.Load() {
		return errClosed
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		if s.closed.Load() {
			return errClosed
		}
		return err
	}
	defer conn.Release()
	return f(conn.Conn())
}

// Close stops the watchers and closes the connections.
func (s *Store) Close() error {
	s.closed.Store(true)
	s.stop()
	s.watchers.Wait()
	s.pool.Close()
	return nil
}
