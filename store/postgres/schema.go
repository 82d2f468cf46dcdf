package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrSchemaTooNew: the database was written by a newer keyroll whose schema
// this one does not understand.
var ErrSchemaTooNew = errors.New("postgres: database schema is newer than this keyroll supports")

// migrations[i] takes the schema from version i to version i+1. Append only.
var migrations = []string{
	`CREATE TABLE keyroll_keys (
		kid         TEXT PRIMARY KEY,
		seq         BIGINT NOT NULL UNIQUE,
		alg         TEXT NOT NULL,
		thumbprint  TEXT NOT NULL UNIQUE,
		cert        BYTEA NOT NULL,
		not_before  BIGINT NOT NULL,
		not_after   BIGINT NOT NULL,
		state       TEXT NOT NULL,
		created_at  BIGINT NOT NULL,
		promote_at  BIGINT NOT NULL,
		promoted_at BIGINT NOT NULL,
		retired_at  BIGINT NOT NULL,
		ended_at    BIGINT NOT NULL,
		urgent      BOOLEAN NOT NULL,
		transient   BOOLEAN NOT NULL,
		sealed      BYTEA NOT NULL
	);
	CREATE TABLE keyroll_events (
		id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		time       BIGINT NOT NULL,
		actor      TEXT NOT NULL,
		kid        TEXT NOT NULL,
		thumbprint TEXT NOT NULL,
		from_state TEXT NOT NULL,
		to_state   TEXT NOT NULL,
		reason     TEXT NOT NULL
	);
	CREATE INDEX keyroll_events_time ON keyroll_events (time, id);
	CREATE TABLE keyroll_settings (name TEXT PRIMARY KEY, value BYTEA NOT NULL);
	INSERT INTO keyroll_meta (name, value) VALUES ('generation', 0);`,

	// 2: applications, test users, authorization codes; application events.
	`ALTER TABLE keyroll_events ADD COLUMN app TEXT NOT NULL DEFAULT '';
	CREATE TABLE keyroll_apps (
		client_id        TEXT PRIMARY KEY,
		name             TEXT NOT NULL,
		name_fold        TEXT NOT NULL UNIQUE,
		secret_hash      BYTEA,
		redirect_uris    TEXT NOT NULL,
		audience         TEXT NOT NULL,
		token_lifetime   BIGINT NOT NULL,
		key_thumbprint   TEXT NOT NULL,
		fallback_audited TEXT NOT NULL,
		created_at       BIGINT NOT NULL,
		updated_at       BIGINT NOT NULL
	);
	CREATE TABLE keyroll_users (
		username      TEXT NOT NULL,
		username_fold TEXT PRIMARY KEY,
		password_hash TEXT NOT NULL,
		created_at    BIGINT NOT NULL
	);
	CREATE TABLE keyroll_codes (
		hash         BYTEA PRIMARY KEY,
		client_id    TEXT NOT NULL,
		redirect_uri TEXT NOT NULL,
		challenge    TEXT NOT NULL,
		nonce        TEXT NOT NULL,
		username     TEXT NOT NULL,
		scope        TEXT NOT NULL,
		auth_time    BIGINT NOT NULL,
		expires_at   BIGINT NOT NULL
	);
	CREATE INDEX keyroll_codes_expires ON keyroll_codes (expires_at);`,

	// 3: application protocols (SAML, WS-Federation) and their settings;
	// single-use message ids (SAML AuthnRequest replay).
	`ALTER TABLE keyroll_apps ADD COLUMN protocol TEXT NOT NULL DEFAULT 'oidc';
	ALTER TABLE keyroll_apps ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
	CREATE TABLE keyroll_used_ids (
		id         TEXT PRIMARY KEY,
		expires_at BIGINT NOT NULL
	);
	CREATE INDEX keyroll_used_ids_expires ON keyroll_used_ids (expires_at);`,

	// 4: web console administrators and their sessions (only the SHA-256
	// of a session token is kept).
	`CREATE TABLE keyroll_admins (
		name          TEXT NOT NULL,
		name_fold     TEXT PRIMARY KEY,
		password_hash TEXT NOT NULL,
		created_at    BIGINT NOT NULL
	);
	CREATE TABLE keyroll_sessions (
		hash       BYTEA PRIMARY KEY,
		admin      TEXT NOT NULL,
		admin_fold TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		last_seen  BIGINT NOT NULL,
		expires_at BIGINT NOT NULL
	);
	CREATE INDEX keyroll_sessions_admin ON keyroll_sessions (admin_fold);
	CREATE INDEX keyroll_sessions_expires ON keyroll_sessions (expires_at);`,

	// 5: fleet readiness evidence: key fetches rolled up per day and
	// client, and drill history.
	`CREATE TABLE keyroll_fetches (
		day          BIGINT NOT NULL,
		client_id    TEXT NOT NULL,
		client       TEXT NOT NULL,
		document     TEXT NOT NULL,
		count        BIGINT NOT NULL,
		not_modified BIGINT NOT NULL,
		last_at      BIGINT NOT NULL,
		generation   BIGINT NOT NULL,
		next_kid     TEXT NOT NULL,
		PRIMARY KEY (day, client_id, client, document)
	);
	CREATE TABLE keyroll_drills (
		id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		client_id TEXT NOT NULL,
		app       TEXT NOT NULL,
		mode      TEXT NOT NULL,
		target    TEXT NOT NULL,
		verdict   TEXT NOT NULL,
		reason    TEXT NOT NULL,
		started   BIGINT NOT NULL,
		finished  BIGINT NOT NULL,
		keys      TEXT NOT NULL,
		report    BYTEA NOT NULL
	);
	CREATE INDEX keyroll_drills_app ON keyroll_drills (client_id, id);`,
}

// schemaVersion is the schema version this package writes.
var schemaVersion = len(migrations)

// migrate brings the schema up to schemaVersion in one transaction under
// the advisory lock, or refuses a database from a newer keyroll.
func migrate(ctx context.Context, conn *pgx.Conn) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer rollback(tx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS keyroll_meta
		(name TEXT PRIMARY KEY, value BIGINT NOT NULL)`); err != nil {
		return err
	}
	var v int64
	err = tx.QueryRow(ctx, `SELECT value FROM keyroll_meta WHERE name = 'schema_version'`).Scan(&v)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	if v > int64(schemaVersion) {
		return fmt.Errorf("%w: found version %d, this keyroll knows up to %d; upgrade keyroll", ErrSchemaTooNew, v, schemaVersion)
	}
	for ; v < int64(schemaVersion); v++ {
		if _, err := tx.Exec(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migrate to schema version %d: %w", v+1, err)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO keyroll_meta (name, value) VALUES ('schema_version', $1)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, v); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// rollback ends tx if it is still open; after Commit it does nothing.
func rollback(tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = tx.Rollback(ctx)
}
