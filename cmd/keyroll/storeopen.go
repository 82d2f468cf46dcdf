package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/keyroll/keyroll/store"
	"github.com/keyroll/keyroll/store/postgres"
	"github.com/keyroll/keyroll/store/sqlite"
)

// defaultStore is the embedded default: SQLite in ./keyroll-data.
const defaultStore = "sqlite:keyroll-data/keyroll.db"

// openStore opens "sqlite:PATH" or a postgres:// URL. For SQLite it also
// returns where the default KEK file lives (beside the database).
func openStore(ctx context.Context, spec string) (s store.Store, kekFile string, err error) {
	switch {
	case strings.HasPrefix(spec, "sqlite:"):
		path := strings.TrimPrefix(spec, "sqlite:")
		if path == "" {
			return nil, "", fmt.Errorf("--store sqlite: needs a path, e.g. sqlite:keyroll-data/keyroll.db")
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, "", fmt.Errorf("create data directory: %w", err)
		}
		st, err := sqlite.Open(path)
		return st, filepath.Join(filepath.Dir(path), "keyroll.kek"), err
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		st, err := postgres.Open(ctx, spec)
		return st, "", err
	default:
		return nil, "", fmt.Errorf("--store %q: want sqlite:PATH or postgres://...", redactDSN(spec))
	}
}

// redactDSN hides a password in a connection string before it is printed.
func redactDSN(s string) string {
	at := strings.LastIndex(s, "@")
	scheme := strings.Index(s, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return s
	}
	userinfo := s[scheme+3 : at]
	if user, _, ok := strings.Cut(userinfo, ":"); ok {
		return s[:scheme+3] + user + ":***" + s[at:]
	}
	return s
}
