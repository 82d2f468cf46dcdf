package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
	"github.com/keyroll/keyroll/store/internal/rows"
)

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
	return s.write(ctx, "create administrator", func(tx *sql.Tx) error {
		var name string
		err := tx.QueryRowContext(ctx, `SELECT name FROM keyroll_admins WHERE name_fold = ?`, r.NameFold).Scan(&name)
		if err == nil {
			return fmt.Errorf("%w: an administrator named %q exists", store.ErrConflict, name)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO keyroll_admins (name, name_fold, password_hash, created_at)
			VALUES (?, ?, ?, ?)`, r.Name, r.NameFold, r.PasswordHash, r.CreatedAt); err != nil {
			return err
		}
		return insertEvents(ctx, tx, ev)
	})
}

func scanAdmin(sc scanner) (store.Admin, error) {
	var r rows.Admin
	if err := sc.Scan(&r.Name, &r.PasswordHash, &r.CreatedAt); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return store.Admin{}, err
		}
		return store.Admin{}, fmt.Errorf("%w: administrator row: %v", store.ErrCorrupt, err)
	}
	return r.Decode()
}

// Admin returns the administrator with this name, in any case.
func (s *Store) Admin(ctx context.Context, name string) (store.Admin, error) {
	a, err := scanAdmin(s.r.QueryRowContext(ctx, `SELECT name, password_hash, created_at
		FROM keyroll_admins WHERE name_fold = ?`, rows.Fold(name)))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Admin{}, fmt.Errorf("%w: no administrator named %q", store.ErrNotFound, name)
	case err != nil && !errors.Is(err, store.ErrCorrupt):
		return store.Admin{}, fmt.Errorf("sqlite: administrator: %w", err)
	}
	return a, err
}

// Admins returns every administrator, by name.
func (s *Store) Admins(ctx context.Context) ([]store.Admin, error) {
	rs, err := s.r.QueryContext(ctx, `SELECT name, password_hash, created_at FROM keyroll_admins ORDER BY name_fold`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: administrators: %w", err)
	}
	defer rs.Close()
	out := []store.Admin{}
	for rs.Next() {
		a, err := scanAdmin(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rs.Err()
}

// DeleteAdmin removes the administrator and their sessions.
func (s *Store) DeleteAdmin(ctx context.Context, name string, events ...lifecycle.Event) error {
	ev, err := rows.EncodeEvents(events)
	if err != nil {
		return err
	}
	return s.write(ctx, "delete administrator", func(tx *sql.Tx) error {
		fold := rows.Fold(name)
		res, err := tx.ExecContext(ctx, `DELETE FROM keyroll_admins WHERE name_fold = ?`, fold)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, fmt.Errorf("%w: no administrator named %q", store.ErrNotFound, name))
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM keyroll_sessions WHERE admin_fold = ?`, fold); err != nil {
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
	return s.write(ctx, "create session", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM keyroll_sessions WHERE expires_at < ?`, rows.SinceNanos(now)); err != nil {
			return err
		}
		var name string
		err := tx.QueryRowContext(ctx, `SELECT name FROM keyroll_admins WHERE name_fold = ?`, r.AdminFold).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: no administrator named %q", store.ErrNotFound, r.Admin)
		}
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM keyroll_sessions WHERE hash = ?`, r.Hash).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%w: a session with this hash exists", store.ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO keyroll_sessions (hash, admin, admin_fold, created_at, last_seen, expires_at)
			VALUES (?, ?, ?, ?, ?, ?)`, r.Hash, name, r.AdminFold, r.CreatedAt, r.LastSeen, r.ExpiresAt); err != nil {
			return err
		}
		return insertEvents(ctx, tx, ev)
	})
}

// Session returns the session with this token hash.
func (s *Store) Session(ctx context.Context, hash []byte) (store.Session, error) {
	var r rows.Session
	err := s.r.QueryRowContext(ctx, `SELECT hash, admin, created_at, last_seen, expires_at FROM keyroll_sessions WHERE hash = ?`, hash).
		Scan(&r.Hash, &r.Admin, &r.CreatedAt, &r.LastSeen, &r.ExpiresAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Session{}, fmt.Errorf("%w: no such session", store.ErrNotFound)
	case err != nil:
		return store.Session{}, fmt.Errorf("sqlite: session: %w", err)
	}
	return r.Decode(), nil
}

// TouchSession records the session's latest request.
func (s *Store) TouchSession(ctx context.Context, hash []byte, seen time.Time) error {
	n, err := rows.Nanos(seen)
	if err != nil {
		return fmt.Errorf("%w: session: %v", store.ErrConflict, err)
	}
	return s.write(ctx, "touch session", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE keyroll_sessions SET last_seen = ? WHERE hash = ?`, n, hash)
		if err != nil {
			return err
		}
		if k, err := res.RowsAffected(); err != nil || k == 0 {
			return errors.Join(err, fmt.Errorf("%w: no such session", store.ErrNotFound))
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
	return s.write(ctx, "delete session", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM keyroll_sessions WHERE hash = ?`, hash)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, fmt.Errorf("%w: no such session", store.ErrNotFound))
		}
		return insertEvents(ctx, tx, ev)
	})
}
