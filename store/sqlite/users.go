package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/keyroll/keyroll/store"
	"github.com/keyroll/keyroll/store/internal/rows"
)

// CreateUser stores a new test user.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	r, err := rows.EncodeUser(u)
	if err != nil {
		return err
	}
	return s.write(ctx, "create user", func(tx *sql.Tx) error {
		var name string
		err := tx.QueryRowContext(ctx, `SELECT username FROM keyroll_users WHERE username_fold = ?`, r.UsernameFold).Scan(&name)
		if err == nil {
			return fmt.Errorf("%w: a user named %q exists", store.ErrConflict, name)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO keyroll_users (username, username_fold, password_hash, created_at)
			VALUES (?, ?, ?, ?)`, r.Username, r.UsernameFold, r.PasswordHash, r.CreatedAt)
		return err
	})
}

func scanUser(sc scanner) (store.User, error) {
	var r rows.User
	if err := sc.Scan(&r.Username, &r.PasswordHash, &r.CreatedAt); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return store.User{}, err
		}
		return store.User{}, fmt.Errorf("%w: user row: %v", store.ErrCorrupt, err)
	}
	return r.Decode()
}

// User returns the user with this name, in any case.
func (s *Store) User(ctx context.Context, username string) (store.User, error) {
	u, err := scanUser(s.r.QueryRowContext(ctx, `SELECT username, password_hash, created_at
		FROM keyroll_users WHERE username_fold = ?`, rows.Fold(username)))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.User{}, fmt.Errorf("%w: no user named %q", store.ErrNotFound, username)
	case err != nil && !errors.Is(err, store.ErrCorrupt):
		return store.User{}, fmt.Errorf("sqlite: user: %w", err)
	}
	return u, err
}

// Users returns every user, by name.
func (s *Store) Users(ctx context.Context) ([]store.User, error) {
	rs, err := s.r.QueryContext(ctx, `SELECT username, password_hash, created_at FROM keyroll_users ORDER BY username_fold`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: users: %w", err)
	}
	defer rs.Close()
	out := []store.User{}
	for rs.Next() {
		u, err := scanUser(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rs.Err()
}

// DeleteUser removes the user and their pending codes.
func (s *Store) DeleteUser(ctx context.Context, username string) error {
	return s.write(ctx, "delete user", func(tx *sql.Tx) error {
		var name string
		err := tx.QueryRowContext(ctx, `DELETE FROM keyroll_users WHERE username_fold = ? RETURNING username`, rows.Fold(username)).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: no user named %q", store.ErrNotFound, username)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM keyroll_codes WHERE username = ?`, name)
		return err
	})
}

const codeColumns = `hash, client_id, redirect_uri, challenge, nonce, username, scope, auth_time, expires_at`

// PutCode stores a new authorization code, dropping expired ones.
func (s *Store) PutCode(ctx context.Context, c store.AuthCode, now time.Time) error {
	r, err := rows.EncodeCode(c)
	if err != nil {
		return err
	}
	return s.write(ctx, "store authorization code", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM keyroll_codes WHERE expires_at < ?`, rows.SinceNanos(now)); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM keyroll_codes WHERE hash = ?`, r.Hash).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%w: an authorization code with this hash exists", store.ErrConflict)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO keyroll_codes (`+codeColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.Hash, r.ClientID, r.RedirectURI, r.Challenge, r.Nonce, r.Username, r.Scope, r.AuthTime, r.ExpiresAt)
		return err
	})
}

// ConsumeCode removes and returns the code with this hash in one DELETE …
// RETURNING statement: of concurrent callers, one gets the code.
func (s *Store) ConsumeCode(ctx context.Context, hash []byte) (store.AuthCode, error) {
	var r rows.Code
	err := s.w.QueryRowContext(ctx, `DELETE FROM keyroll_codes WHERE hash = ? RETURNING `+codeColumns, hash).Scan(
		&r.Hash, &r.ClientID, &r.RedirectURI, &r.Challenge, &r.Nonce, &r.Username, &r.Scope, &r.AuthTime, &r.ExpiresAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.AuthCode{}, fmt.Errorf("%w: authorization code (never issued, expired or already used)", store.ErrNotFound)
	case err != nil:
		return store.AuthCode{}, fmt.Errorf("sqlite: consume authorization code: %w", err)
	}
	return r.Decode(), nil
}
