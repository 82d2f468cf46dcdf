package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
	"github.com/keyroll/keyroll/store/internal/rows"
)

const (
	appColumns = `client_id, name, name_fold, secret_hash, redirect_uris, audience, token_lifetime,
		key_thumbprint, fallback_audited, created_at, updated_at, protocol, settings`
	insertApp = `INSERT INTO keyroll_apps (` + appColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	updateApp = `UPDATE keyroll_apps SET name = ?, name_fold = ?, secret_hash = ?, redirect_uris = ?, audience = ?,
		token_lifetime = ?, key_thumbprint = ?, fallback_audited = ?, updated_at = ?, protocol = ?, settings = ? WHERE client_id = ?`
)

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanApp(sc scanner) (store.Application, error) {
	var r rows.App
	if err := sc.Scan(&r.ClientID, &r.Name, &r.NameFold, &r.SecretHash, &r.RedirectURIs, &r.Audience,
		&r.TokenLifetime, &r.KeyThumbprint, &r.FallbackAudited, &r.CreatedAt, &r.UpdatedAt, &r.Protocol, &r.Settings); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return store.Application{}, err
		}
		return store.Application{}, fmt.Errorf("%w: application row: %v", store.ErrCorrupt, err)
	}
	return r.Decode()
}

// CreateApp stores a new application and its audit events.
func (s *Store) CreateApp(ctx context.Context, app store.Application, events ...lifecycle.Event) error {
	r, err := rows.EncodeApp(app)
	if err != nil {
		return err
	}
	ev, err := rows.EncodeEvents(events)
	if err != nil {
		return err
	}
	return s.write(ctx, "create application", func(tx *sql.Tx) error {
		if err := appTaken(ctx, tx, r.ClientID, r.NameFold, ""); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, insertApp, r.ClientID, r.Name, r.NameFold, r.SecretHash, r.RedirectURIs,
			r.Audience, r.TokenLifetime, r.KeyThumbprint, r.FallbackAudited, r.CreatedAt, r.UpdatedAt, r.Protocol, r.Settings); err != nil {
			return err
		}
		return insertEvents(ctx, tx, ev)
	})
}

// appTaken reports ErrConflict when another application (not self) has
// clientID or a name folding to nameFold. Writes are serialised, so the
// check holds until commit.
func appTaken(ctx context.Context, tx *sql.Tx, clientID, nameFold, self string) error {
	var id, name string
	err := tx.QueryRowContext(ctx, `SELECT client_id, name FROM keyroll_apps
		WHERE (client_id = ? OR name_fold = ?) AND client_id <> ? LIMIT 1`, clientID, nameFold, self).Scan(&id, &name)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	case id == clientID:
		return fmt.Errorf("%w: client id %s is taken", store.ErrConflict, clientID)
	}
	return fmt.Errorf("%w: an application named %q exists", store.ErrConflict, name)
}

// App returns the application with this client id.
func (s *Store) App(ctx context.Context, clientID string) (store.Application, error) {
	a, err := scanApp(s.r.QueryRowContext(ctx, `SELECT `+appColumns+` FROM keyroll_apps WHERE client_id = ?`, clientID))
	return a, appErr(err, "client id", clientID)
}

// AppByName returns the application with this name, in any case.
func (s *Store) AppByName(ctx context.Context, name string) (store.Application, error) {
	a, err := scanApp(s.r.QueryRowContext(ctx, `SELECT `+appColumns+` FROM keyroll_apps WHERE name_fold = ?`, rows.Fold(name)))
	return a, appErr(err, "name", name)
}

func appErr(err error, by, v string) error {
	switch {
	case err == nil, errors.Is(err, store.ErrCorrupt):
		return err
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%w: no application with %s %q", store.ErrNotFound, by, v)
	}
	return fmt.Errorf("sqlite: application: %w", err)
}

// Apps returns every application, by name.
func (s *Store) Apps(ctx context.Context) ([]store.Application, error) {
	rs, err := s.r.QueryContext(ctx, `SELECT `+appColumns+` FROM keyroll_apps ORDER BY name_fold`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: applications: %w", err)
	}
	defer rs.Close()
	out := []store.Application{}
	for rs.Next() {
		a, err := scanApp(rs)
		if err != nil {
			return nil, appErr(err, "", "")
		}
		out = append(out, a)
	}
	return out, rs.Err()
}

// UpdateApp runs fn on the application and the current keys inside one
// write transaction and commits its result.
func (s *Store) UpdateApp(ctx context.Context, clientID string, fn store.AppFunc) (app store.Application, changed bool, err error) {
	var fnErr error // returned as it is
	err = s.write(ctx, "update application", func(tx *sql.Tx) error {
		old, err := scanApp(tx.QueryRowContext(ctx, `SELECT `+appColumns+` FROM keyroll_apps WHERE client_id = ?`, clientID))
		if err != nil {
			return appErr(err, "client id", clientID)
		}
		app = old
		keys, _, err := readKeys(ctx, tx)
		if err != nil {
			return err
		}
		next, events, err := fn(old, keys)
		if err != nil || next == nil {
			fnErr = err
			return err
		}
		if err := rows.CheckAppUpdate(old, next); err != nil {
			return err
		}
		r, err := rows.EncodeApp(*next)
		if err != nil {
			return err
		}
		ev, err := rows.EncodeEvents(events)
		if err != nil {
			return err
		}
		if err := appTaken(ctx, tx, "", r.NameFold, clientID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, updateApp, r.Name, r.NameFold, r.SecretHash, r.RedirectURIs, r.Audience,
			r.TokenLifetime, r.KeyThumbprint, r.FallbackAudited, r.UpdatedAt, r.Protocol, r.Settings, r.ClientID); err != nil {
			return err
		}
		if app, err = r.Decode(); err != nil {
			return err
		}
		changed = true
		return insertEvents(ctx, tx, ev)
	})
	if fnErr != nil {
		return store.Application{}, false, fnErr
	}
	if err != nil {
		return store.Application{}, false, err
	}
	return app, changed, nil
}

// DeleteApp removes the application and its pending codes.
func (s *Store) DeleteApp(ctx context.Context, clientID string, events ...lifecycle.Event) error {
	ev, err := rows.EncodeEvents(events)
	if err != nil {
		return err
	}
	return s.write(ctx, "delete application", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM keyroll_apps WHERE client_id = ?`, clientID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, fmt.Errorf("%w: no application with client id %q", store.ErrNotFound, clientID))
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM keyroll_codes WHERE client_id = ?`, clientID); err != nil {
			return err
		}
		return insertEvents(ctx, tx, ev)
	})
}

// write runs f in one write transaction and commits it. Errors that wrap
// a store sentinel are returned as they are; others are prefixed with what.
func (s *Store) write(ctx context.Context, what string, f func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		if isSentinel(err) {
			return err
		}
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: %s: commit: %w", what, err)
	}
	return nil
}

func isSentinel(err error) bool {
	return errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrCorrupt)
}
