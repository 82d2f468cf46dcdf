package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
	"github.com/keyroll/keyroll/store/internal/rows"
)

// consoleWrite runs f in one transaction (no advisory lock: console rows
// do not touch keys) and commits. Errors that wrap a store sentinel are
// returned as they are; others are prefixed with what.
func (s *Store) consoleWrite(ctx context.Context, what string, f func(pgx.Tx) error) error {
	err := s.withConn(ctx, func(conn *pgx.Conn) error { return pgx.BeginFunc(ctx, conn, f) })
	switch {
	case err == nil || isSentinel(err):
		return err
	case isUniqueViolation(err):
		return fmt.Errorf("%w: %s: %v", store.ErrConflict, what, err)
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

// CreateAdmin stores a new console administrator and its events.
func (s *Store) CreateAdmin(ctx context.Context, a store.Admin, events ...lifecycle.Event) error {
	r, err := rows.EncodeAdmin(a)
	if err != nil {
		return err
	}
	ev, err := rows.EncodeEvents(events)
	if err != nil {
		return err
	}
	err = s.consoleWrite(ctx, "create administrator", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO keyroll_admins (name, name_fold, password_hash, created_at)
			VALUES ($1, $2, $3, $4)`, r.Name, r.NameFold, r.PasswordHash, r.CreatedAt); err != nil {
			return err
		}
		return insertEvents(ctx, tx, ev)
	})
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("%w: an administrator named %q exists", store.ErrConflict, a.Name)
	}
	return err
}

func scanAdmin(row pgx.Row) (store.Admin, error) {
	var r rows.Admin
	if err := row.Scan(&r.Name, &r.PasswordHash, &r.CreatedAt); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return store.Admin{}, err
		}
		return store.Admin{}, fmt.Errorf("%w: administrator row: %v", store.ErrCorrupt, err)
	}
	return r.Decode()
}

// Admin returns the administrator with this name, in any case.
func (s *Store) Admin(ctx context.Context, name string) (a store.Admin, err error) {
	err = s.withConn(ctx, func(conn *pgx.Conn) error {
		a, err = scanAdmin(conn.QueryRow(ctx, `SELECT name, password_hash, created_at
			FROM keyroll_admins WHERE name_fold = $1`, rows.Fold(name)))
		return err
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.Admin{}, fmt.Errorf("%w: no administrator named %q", store.ErrNotFound, name)
	case err != nil && !errors.Is(err, store.ErrCorrupt):
		return store.Admin{}, fmt.Errorf("postgres: administrator: %w", err)
	}
	return a, err
}

// Admins returns every administrator, by name.
func (s *Store) Admins(ctx context.Context) (out []store.Admin, err error) {
	err = s.withConn(ctx, func(conn *pgx.Conn) error {
		rs, err := conn.Query(ctx, `SELECT name, password_hash, created_at FROM keyroll_admins ORDER BY name_fold`)
		if err != nil {
			return err
		}
		defer rs.Close()
		out = []store.Admin{}
		for rs.Next() {
			a, err := scanAdmin(rs)
			if err != nil {
				return err
			}
			out = append(out, a)
		}
		return rs.Err()
	})
	if err != nil && !errors.Is(err, store.ErrCorrupt) {
		return nil, fmt.Errorf("postgres: administrators: %w", err)
	}
	return out, err
}

// DeleteAdmin removes the administrator and their sessions.
func (s *Store) DeleteAdmin(ctx context.Context, name string, events ...lifecycle.Event) error {
	ev, err := rows.EncodeEvents(events)
	if err != nil {
		return err
	}
	return s.consoleWrite(ctx, "delete administrator", func(tx pgx.Tx) error {
		fold := rows.Fold(name)
		tag, err := tx.Exec(ctx, `DELETE FROM keyroll_admins WHERE name_fold = $1`, fold)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: no administrator named %q", store.ErrNotFound, name)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM keyroll_sessions WHERE admin_fold = $1`, fold); err != nil {
			return err
		}
		return insertEvents(ctx, tx, ev)
	})
}

// CreateSession stores a new session, dropping those past their end.
func (s *Store) CreateSession(ctx context.Context, sess store.Session, now time.Time, events ...lifecycle.Event) error {
	r, err := rows.EncodeSession(sess)
	if err != nil {
		return err
	}
	ev, err := rows.EncodeEvents(events)
	if err != nil {
		return err
	}
	return s.consoleWrite(ctx, "create session", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM keyroll_sessions WHERE expires_at < $1`, rows.SinceNanos(now)); err != nil {
			return err
		}
		// FOR SHARE keeps the administrator from being deleted until commit.
		var name string
		err := tx.QueryRow(ctx, `SELECT name FROM keyroll_admins WHERE name_fold = $1 FOR SHARE`, r.AdminFold).Scan(&name)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: no administrator named %q", store.ErrNotFound, r.Admin)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO keyroll_sessions (hash, admin, admin_fold, created_at, last_seen, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, r.Hash, name, r.AdminFold, r.CreatedAt, r.LastSeen, r.ExpiresAt); err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("%w: a session with this hash exists", store.ErrConflict)
			}
			return err
		}
		return insertEvents(ctx, tx, ev)
	})
}

// Session returns the session with this token hash.
func (s *Store) Session(ctx context.Context, hash []byte) (store.Session, error) {
	var r rows.Session
	err := s.withConn(ctx, func(conn *pgx.Conn) error {
		return conn.QueryRow(ctx, `SELECT hash, admin, created_at, last_seen, expires_at FROM keyroll_sessions WHERE hash = $1`, hash).
			Scan(&r.Hash, &r.Admin, &r.CreatedAt, &r.LastSeen, &r.ExpiresAt)
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.Session{}, fmt.Errorf("%w: no such session", store.ErrNotFound)
	case err != nil:
		return store.Session{}, fmt.Errorf("postgres: session: %w", err)
	}
	return r.Decode(), nil
}

// TouchSession records the session's latest request.
func (s *Store) TouchSession(ctx context.Context, hash []byte, seen time.Time) error {
	n, err := rows.Nanos(seen)
	if err != nil {
		return fmt.Errorf("%w: session: %v", store.ErrConflict, err)
	}
	return s.consoleWrite(ctx, "touch session", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE keyroll_sessions SET last_seen = $1 WHERE hash = $2`, n, hash)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: no such session", store.ErrNotFound)
		}
		return nil
	})
}

// DeleteSession removes the session and records the events.
func (s *Store) DeleteSession(ctx context.Context, hash []byte, events ...lifecycle.Event) error {
	ev, err := rows.EncodeEvents(events)
	if err != nil {
		return err
	}
	return s.consoleWrite(ctx, "delete session", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM keyroll_sessions WHERE hash = $1`, hash)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: no such session", store.ErrNotFound)
		}
		return insertEvents(ctx, tx, ev)
	})
}
