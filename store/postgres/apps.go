package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
	"github.com/keyroll/keyroll/store/internal/rows"
)

const (
	appColumns = `client_id, name, name_fold, secret_hash, redirect_uris, audience, token_lifetime,
		key_thumbprint, fallback_audited, created_at, updated_at, protocol, settings`
	insertApp = `INSERT INTO keyroll_apps (` + appColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`
	updateApp = `UPDATE keyroll_apps SET name = $1, name_fold = $2, secret_hash = $3, redirect_uris = $4, audience = $5,
		token_lifetime = $6, key_thumbprint = $7, fallback_audited = $8, updated_at = $9, protocol = $10, settings = $11
		WHERE client_id = $12`
)

func scanApp(row pgx.Row) (store.Application, error) {
	var r rows.App
	if err := row.Scan(&r.ClientID, &r.Name, &r.NameFold, &r.SecretHash, &r.RedirectURIs, &r.Audience,
		&r.TokenLifetime, &r.KeyThumbprint, &r.FallbackAudited, &r.CreatedAt, &r.UpdatedAt, &r.Protocol, &r.Settings); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
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
	return s.appWrite(ctx, "create application", func(tx pgx.Tx) error {
		if err := appTaken(ctx, tx, r.ClientID, r.NameFold, ""); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, insertApp, r.ClientID, r.Name, r.NameFold, r.SecretHash, r.RedirectURIs,
			r.Audience, r.TokenLifetime, r.KeyThumbprint, r.FallbackAudited, r.CreatedAt, r.UpdatedAt, r.Protocol, r.Settings); err != nil {
			return err
		}
		return insertEvents(ctx, tx, ev)
	})
}

// appTaken reports ErrConflict when another application (not self) has
// clientID or a name folding to nameFold. It runs under the advisory lock,
// so the check holds until commit.
func appTaken(ctx context.Context, tx pgx.Tx, clientID, nameFold, self string) error {
	var id, name string
	err := tx.QueryRow(ctx, `SELECT client_id, name FROM keyroll_apps
		WHERE (client_id = $1 OR name_fold = $2) AND client_id <> $3 LIMIT 1`, clientID, nameFold, self).Scan(&id, &name)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return err
	case id == clientID:
		return fmt.Errorf("%w: client id %s is taken", store.ErrConflict, clientID)
	}
	return fmt.Errorf("%w: an application named %q exists", store.ErrConflict, name)
}

// App returns the application with this client id.
func (s *Store) App(ctx context.Context, clientID string) (a store.Application, err error) {
	err = s.withConn(ctx, func(conn *pgx.Conn) error {
		a, err = scanApp(conn.QueryRow(ctx, `SELECT `+appColumns+` FROM keyroll_apps WHERE client_id = $1`, clientID))
		return err
	})
	return a, appErr(err, "client id", clientID)
}

// AppByName returns the application with this name, in any case.
func (s *Store) AppByName(ctx context.Context, name string) (a store.Application, err error) {
	err = s.withConn(ctx, func(conn *pgx.Conn) error {
		a, err = scanApp(conn.QueryRow(ctx, `SELECT `+appColumns+` FROM keyroll_apps WHERE name_fold = $1`, rows.Fold(name)))
		return err
	})
	return a, appErr(err, "name", name)
}

func appErr(err error, by, v string) error {
	switch {
	case err == nil, errors.Is(err, store.ErrCorrupt):
		return err
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%w: no application with %s %q", store.ErrNotFound, by, v)
	}
	return fmt.Errorf("postgres: application: %w", err)
}

// Apps returns every application, by name.
func (s *Store) Apps(ctx context.Context) (out []store.Application, err error) {
	err = s.withConn(ctx, func(conn *pgx.Conn) error {
		rs, err := conn.Query(ctx, `SELECT `+appColumns+` FROM keyroll_apps ORDER BY name_fold`)
		if err != nil {
			return err
		}
		defer rs.Close()
		out = []store.Application{}
		for rs.Next() {
			a, err := scanApp(rs)
			if err != nil {
				return err
			}
			out = append(out, a)
		}
		return rs.Err()
	})
	if err != nil && !errors.Is(err, store.ErrCorrupt) {
		return nil, fmt.Errorf("postgres: applications: %w", err)
	}
	return out, err
}

// UpdateApp runs fn on the application and the current keys in one
// transaction under the advisory lock (so no key changes meanwhile) and
// commits its result.
func (s *Store) UpdateApp(ctx context.Context, clientID string, fn store.AppFunc) (app store.Application, changed bool, err error) {
	var fnErr error // returned as it is
	err = s.appWrite(ctx, "update application", func(tx pgx.Tx) error {
		old, err := scanApp(tx.QueryRow(ctx, `SELECT `+appColumns+` FROM keyroll_apps WHERE client_id = $1`, clientID))
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
			return errNothing
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
		if _, err := tx.Exec(ctx, updateApp, r.Name, r.NameFold, r.SecretHash, r.RedirectURIs, r.Audience,
			r.TokenLifetime, r.KeyThumbprint, r.FallbackAudited, r.UpdatedAt, r.Protocol, r.Settings, r.ClientID); err != nil {
			return err
		}
		if app, err = r.Decode(); err != nil {
			return err
		}
		changed = true
		return insertEvents(ctx, tx, ev)
	})
	switch {
	case errors.Is(err, errNothing) && fnErr != nil:
		return store.Application{}, false, fnErr
	case errors.Is(err, errNothing):
		return app, false, nil
	case err != nil:
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
	return s.appWrite(ctx, "delete application", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM keyroll_apps WHERE client_id = $1`, clientID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: no application with client id %q", store.ErrNotFound, clientID)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM keyroll_codes WHERE client_id = $1`, clientID); err != nil {
			return err
		}
		return insertEvents(ctx, tx, ev)
	})
}

// appWrite runs f under the advisory lock and commits. Errors that wrap a
// store sentinel (or errNothing) are returned as they are; others are
// prefixed with what.
func (s *Store) appWrite(ctx context.Context, what string, f func(pgx.Tx) error) error {
	err := s.locked(ctx, f)
	if err == nil || isSentinel(err) || errors.Is(err, errNothing) {
		return err
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

func isSentinel(err error) bool {
	return errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrCorrupt)
}
