// Package sqlite is keyroll's single-node [store.Store]: one SQLite file,
// written through the pure-Go modernc.org/sqlite driver.
//
// The database runs in WAL mode with synchronous=FULL, so a committed
// Update survives a crash or power loss. Writes go through a single
// connection and BEGIN IMMEDIATE, which serialises Updates within the
// process and, through SQLite's file locks, against other processes using
// the same file. The file is created readable by its owner only, since it
// holds the (encrypted) private keys.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/keyroll/keyroll/store"
)

// Store is a [store.Store] kept in one SQLite file. It is safe for
// concurrent use.
type Store struct {
	w *sql.DB // one connection, BEGIN IMMEDIATE: every write
	r *sql.DB // a few read-only connections
}

var _ store.Store = (*Store)(nil)

const (
	busyTimeoutMS = 10000
	readConns     = 4
)

// Open opens the store at path, creating the file (mode 0600) and its
// schema if needed. It refuses a database written by a newer keyroll with
// an error wrapping [ErrSchemaTooNew].
func Open(path string) (*Store, error) {
	if err := checkPath(path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	f.Close()
	s := &Store{}
	if s.w, err = openDB(path, "_txlock=immediate&_journal_mode=WAL&_synchronous=FULL", 1); err != nil {
		return nil, err
	}
	if err := migrate(context.Background(), s.w); err != nil {
		s.w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if s.r, err = openDB(path, "_query_only=1&_synchronous=FULL", readConns); err != nil {
		s.w.Close()
		return nil, err
	}
	return s, nil
}

func checkPath(path string) error {
	switch {
	case path == "":
		return errors.New("sqlite: empty database path")
	case strings.ContainsAny(path, "?#"), strings.HasPrefix(path, "file:"), strings.HasPrefix(path, ":"):
		return fmt.Errorf("sqlite: database path %q must be a plain file name (no ?, #, file: or :memory:)", path)
	}
	return nil
}

func openDB(path, params string, conns int) (*sql.DB, error) {
	dsn := fmt.Sprintf("%s?_busy_timeout=%d&_foreign_keys=1&%s", path, busyTimeoutMS, params)
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxLifetime(0)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return db, nil
}

// Close closes the database.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}
