package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/keyroll/keyroll/store"
	"github.com/keyroll/keyroll/store/internal/rows"
)

// uniqueViolation is PostgreSQL's SQLSTATE for a duplicate key.
const uniqueViolation = "23505"

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == uniqueViolation
}

// CreateUser stores a new test user.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	r, err := rows.EncodeUser(u)
	if err != nil {
		return err
	}
	err = s.withConn(ctx, func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, `INSERT INTO keyroll_users (username, username_fold, password_hash, created_at)
			VALUES ($1, $2, $3, $4)`, r.Username, r.UsernameFold, r.PasswordHash, r.CreatedAt)
		return err
	})
	switch {
	case isUniqueViolation(err):
		return fmt.Errorf("%w: a user named %q exists", store.ErrConflict, u.Username)
	case err != nil:
		return fmt.Errorf("postgres: create user: %w", err)
	}
	return nil
}

func scanUser(row pgx.Row) (store.User, error) {
	var r rows.User
	if err := row.Scan(&r.Username, &r.PasswordHash, &r.CreatedAt); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return store.User{}, err
		}
		return store.User{}, fmt.Errorf("%w: user row: %v", store.ErrCorrupt, err)
	}
	return r.Decode()
}

// User returns the user with this name, in any case.
func (s *Store) User(ctx context.Context, username string) (u store.User, err error) {
	err = s.withConn(ctx, func(conn *pgx.Conn) error {
		u, err = scanUser(conn.QueryRow(ctx, `SELECT username, password_hash, created_at
			FROM keyroll_users WHERE username_fold = $1`, rows.Fold(username)))
		return err
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.User{}, fmt.Errorf("%w: no user named %q", store.ErrNotFound, username)
	case err != nil && !errors.Is(err, store.ErrCorrupt):
		return store.User{}, fmt.Errorf("postgres: user: %w", err)
	}
	return u, err
}

// Users returns every user, by name.
func (s *Store) Users(ctx context.Context) (out []store.User, err error) {
	err = s.withConn(ctx, func(conn *pgx.Conn) error {
		rs, err := conn.Query(ctx, `SELECT username, password_hash, created_at FROM keyroll_users ORDER BY username_fold`)
		if err != nil {
			return err
		}
		defer rs.Close()
		out = []store.User{}
		for rs.Next() {
			u, err := scanUser(rs)
			if err != nil {
				return err
			}
			out = append(out, u)
		}
		return rs.Err()
	})
	if err != nil && !errors.Is(err, store.ErrCorrupt) {
		return nil, fmt.Errorf("postgres: users: %w", err)
	}
	return out, err
}

// DeleteUser removes the user and their pending codes.
func (s *Store) DeleteUser(ctx context.Context, username string) error {
	err := s.withConn(ctx, func(conn *pgx.Conn) error {
		return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			var name string
			err := tx.QueryRow(ctx, `DELETE FROM keyroll_users WHERE username_fold = $1 RETURNING username`, rows.Fold(username)).Scan(&name)
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `DELETE FROM keyroll_codes WHERE username = $1`, name)
			return err
		})
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%w: no user named %q", store.ErrNotFound, username)
	case err != nil:
		return fmt.Errorf("postgres: delete user: %w", err)
	}
	return nil
}

const codeColumns = `hash, client_id, redirect_uri, challenge, nonce, username, scope, auth_time, expires_at`

// PutCode stores a new authorization code, dropping expired ones.
func (s *Store) PutCode(ctx context.Context, c store.AuthCode, now time.Time) error {
	r, err := rows.EncodeCode(c)
	if err != nil {
		return err
	}
	err = s.withConn(ctx, func(conn *pgx.Conn) error {
		return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `DELETE FROM keyroll_codes WHERE expires_at < $1`, rows.SinceNanos(now)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO keyroll_codes (`+codeColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
				r.Hash, r.ClientID, r.RedirectURI, r.Challenge, r.Nonce, r.Username, r.Scope, r.AuthTime, r.ExpiresAt)
			return err
		})
	})
	switch {
	case isUniqueViolation(err):
		return fmt.Errorf("%w: an authorization code with this hash exists", store.ErrConflict)
	case err != nil:
		return fmt.Errorf("postgres: store authorization code: %w", err)
	}
	return nil
}

// ConsumeCode removes and returns the code with this hash in one DELETE …
// RETURNING statement: of concurrent callers, exactly one gets the row.
func (s *Store) ConsumeCode(ctx context.Context, hash []byte) (store.AuthCode, error) {
	var r rows.Code
	err := s.withConn(ctx, func(conn *pgx.Conn) error {
		return conn.QueryRow(ctx, `DELETE FROM keyroll_codes WHERE hash = $1 RETURNING `+codeColumns, hash).Scan(
			&r.Hash, &r.ClientID, &r.RedirectURI, &r.Challenge, &r.Nonce, &r.Username, &r.Scope, &r.AuthTime, &r.ExpiresAt)
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.AuthCode{}, fmt.Errorf("%w: authorization code (never issued, expired or already used)", store.ErrNotFound)
	case err != nil:
		return store.AuthCode{}, fmt.Errorf("postgres: consume authorization code: %w", err)
	}
	return r.Decode(), nil
}
