package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrSchemaTooNew: the database was written by a newer keyroll whose schema
// this one does not understand.
var ErrSchemaTooNew = errors.New("sqlite: database schema is newer than this keyroll supports")

// migrations[i] takes the schema from version i to version i+1. Append only.
var migrations = []string{
	`CREATE TABLE keyroll_keys (
		kid         TEXT PRIMARY KEY,
		seq         INTEGER NOT NULL UNIQUE,
		alg         TEXT NOT NULL,
		thumbprint  TEXT NOT NULL UNIQUE,
		cert        BLOB NOT NULL,
		not_before  INTEGER NOT NULL,
		not_after   INTEGER NOT NULL,
		state       TEXT NOT NULL,
		created_at  INTEGER NOT NULL,
		promote_at  INTEGER NOT NULL,
		promoted_at INTEGER NOT NULL,
		retired_at  INTEGER NOT NULL,
		ended_at    INTEGER NOT NULL,
		urgent      INTEGER NOT NULL,
		transient   INTEGER NOT NULL,
		sealed      BLOB NOT NULL
	);
	CREATE TABLE keyroll_events (
		id         INTEGER PRIMARY KEY AUTOINCREMENT,
		time       INTEGER NOT NULL,
		actor      TEXT NOT NULL,
		kid        TEXT NOT NULL,
		thumbprint TEXT NOT NULL,
		from_state TEXT NOT NULL,
		to_state   TEXT NOT NULL,
		reason     TEXT NOT NULL
	);
	CREATE INDEX keyroll_events_time ON keyroll_events (time, id);
	CREATE TABLE keyroll_settings (name TEXT PRIMARY KEY, value BLOB NOT NULL);
	INSERT INTO keyroll_meta (name, value) VALUES ('generation', 0);`,

	// 2: applications, test users, authorization codes; application events.
	`ALTER TABLE keyroll_events ADD COLUMN app TEXT NOT NULL DEFAULT '';
	CREATE TABLE keyroll_apps (
		client_id        TEXT PRIMARY KEY,
		name             TEXT NOT NULL,
		name_fold        TEXT NOT NULL UNIQUE,
		secret_hash      BLOB,
		redirect_uris    TEXT NOT NULL,
		audience         TEXT NOT NULL,
		token_lifetime   INTEGER NOT NULL,
		key_thumbprint   TEXT NOT NULL,
		fallback_audited TEXT NOT NULL,
		created_at       INTEGER NOT NULL,
		updated_at       INTEGER NOT NULL
	);
	CREATE TABLE keyroll_users (
		username      TEXT NOT NULL,
		username_fold TEXT PRIMARY KEY,
		password_hash TEXT NOT NULL,
		created_at    INTEGER NOT NULL
	);
	CREATE TABLE keyroll_codes (
		hash         BLOB PRIMARY KEY,
		client_id    TEXT NOT NULL,
		redirect_uri TEXT NOT NULL,
		challenge    TEXT NOT NULL,
		nonce        TEXT NOT NULL,
		username     TEXT NOT NULL,
		scope        TEXT NOT NULL,
		auth_time    INTEGER NOT NULL,
		expires_at   INTEGER NOT NULL
	);
	CREATE INDEX keyroll_codes_expires ON keyroll_codes (expires_at);`,

	// 3: application protocols (SAML, WS-Federation) and their settings;
	// single-use message ids (SAML AuthnRequest replay).
	`ALTER TABLE keyroll_apps ADD COLUMN protocol TEXT NOT NULL DEFAULT 'oidc';
	ALTER TABLE keyroll_apps ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
	CREATE TABLE keyroll_used_ids (
		id         TEXT PRIMARY KEY,
		expires_at INTEGER NOT NULL
	);
	CREATE INDEX keyroll_used_ids_expires ON keyroll_used_ids (expires_at);`,

	// 4: web console administrators and their sessions (only the SHA-256
	// of a session token is kept).
	`CREATE TABLE keyroll_admins (
		name          TEXT NOT NULL,
		name_fold     TEXT PRIMARY KEY,
		password_hash TEXT NOT NULL,
		created_at    INTEGER NOT NULL
	);
	CREATE TABLE keyroll_sessions (
		hash       BLOB PRIMARY KEY,
		admin      TEXT NOT NULL,
		admin_fold TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		last_seen  INTEGER NOT NULL,
		expires_at INTEGER NOT NULL
	);
	CREATE INDEX keyroll_sessions_admin ON keyroll_sessions (admin_fold);
	CREATE INDEX keyroll_sessions_expires ON keyroll_sessions (expires_at);`,

	// 5: fleet readiness evidence: key fetches rolled up per day and
	// client, and drill history.
	`CREATE TABLE keyroll_fetches (
		day          INTEGER NOT NULL,
		client_id    TEXT NOT NULL,
		client       TEXT NOT NULL,
		document     TEXT NOT NULL,
		count        INTEGER NOT NULL,
		not_modified INTEGER NOT NULL,
		last_at      INTEGER NOT NULL,
		generation   INTEGER NOT NULL,
		next_kid     TEXT NOT NULL,
		PRIMARY KEY (day, client_id, client, document)
	);
	CREATE TABLE keyroll_drills (
		id        INTEGER PRIMARY KEY AUTOINCREMENT,
		client_id TEXT NOT NULL,
		app       TEXT NOT NULL,
		mode      TEXT NOT NULL,
		target    TEXT NOT NULL,
		verdict   TEXT NOT NULL,
		reason    TEXT NOT NULL,
		started   INTEGER NOT NULL,
		finished  INTEGER NOT NULL,
		keys      TEXT NOT NULL,
		report    BLOB NOT NULL
	);
	CREATE INDEX keyroll_drills_app ON keyroll_drills (client_id, id);`,
}

// schemaVersion is the schema version this package writes.
var schemaVersion = len(migrations)

// migrate brings the schema up to schemaVersion inside one write
// transaction, or refuses a database from a newer keyroll.
func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS keyroll_meta
		(name TEXT PRIMARY KEY, value INTEGER NOT NULL)`); err != nil {
		return err
	}
	var v int
	err = tx.QueryRowContext(ctx, `SELECT value FROM keyroll_meta WHERE name = 'schema_version'`).Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if v > schemaVersion {
		return fmt.Errorf("%w: found version %d, this keyroll knows up to %d; upgrade keyroll", ErrSchemaTooNew, v, schemaVersion)
	}
	for ; v < schemaVersion; v++ {
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migrate to schema version %d: %w", v+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO keyroll_meta (name, value) VALUES ('schema_version', ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, v); err != nil {
		return err
	}
	return tx.Commit()
}
