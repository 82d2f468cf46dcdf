// Package pgtest gives tests a PostgreSQL database to work in.
//
// Tests that need PostgreSQL call [DSN] or [Schema]. They run when the
// KEYROLL_TEST_POSTGRES environment variable holds a connection URL (or when
// CI=true, which implies a server at [CIDefault]); otherwise they are skipped
// with a message saying how to run them. Under CI=true an unreachable server
// fails the test instead of skipping it, so CI never passes by accident.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvVar names the environment variable holding the test database URL.
const EnvVar = "KEYROLL_TEST_POSTGRES"

// CIDefault is the database URL used under CI=true when [EnvVar] is unset.
const CIDefault = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// connectTimeout bounds the reachability check and schema statements.
const connectTimeout = 10 * time.Second

// DSN returns the URL of the test database, skipping the test when none is
// configured and failing it under CI=true when the server cannot be reached.
func DSN(t testing.TB) string {
	t.Helper()
	ci := os.Getenv("CI") == "true"
	dsn := os.Getenv(EnvVar)
	if dsn == "" && !ci {
		t.Skip("PostgreSQL tests skipped: set " + EnvVar + "=postgres://... to run them")
	}
	if dsn == "" {
		dsn = CIDefault
	}
	if err := ping(dsn); err != nil {
		if ci {
			t.Fatalf("PostgreSQL unreachable under CI=true: %v", err)
		}
		t.Skipf("PostgreSQL tests skipped: %s is set but the server is unreachable: %v", EnvVar, err)
	}
	return dsn
}

func ping(dsn string) error {
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.Ping(ctx)
}

// Schema creates a fresh, uniquely named schema in the test database, drops
// it (with everything in it) when the test ends, and returns a URL whose
// connections use it as their search_path. The connections also carry the
// schema name as their application_name, so a test can find its own
// sessions in pg_stat_activity.
func Schema(t testing.TB) string {
	t.Helper()
	dsn := DSN(t)
	name := "keyroll_test_" + randomHex(8)
	if err := execAdmin(dsn, "CREATE SCHEMA "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create schema %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := execAdmin(dsn, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("pgtest: drop schema %s: %v", name, err)
		}
	})
	out, err := withSearchPath(dsn, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return out
}

// withSearchPath adds search_path=schema (and application_name=schema) to
// a postgres:// URL; pgx sends unknown URL parameters to the server as
// run-time parameters.
func withSearchPath(dsn, schema string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("%s must be a postgres:// URL", EnvVar)
	}
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("application_name", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func execAdmin(dsn, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
