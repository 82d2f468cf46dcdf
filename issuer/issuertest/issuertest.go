// Package issuertest starts keyroll issuers for tests: a manager on a
// fresh SQLite store with a random KEK, and its HTTP surface. It is
// imported only by tests.
package issuertest

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/keys"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
	"github.com/keyroll/keyroll/store/sqlite"
)

// Start is the fake clock's start in tests that need a fixed date.
var Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// KEK returns a sealer under a fresh random key-encryption key.
func KEK(t testing.TB) *keys.Sealer {
	t.Helper()
	kek := make([]byte, keys.KEKSize)
	rand.Read(kek)
	s, err := keys.NewSealer(kek)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// OpenSQLite opens (creating) the SQLite store keyroll.db in dir.
func OpenSQLite(t testing.TB, dir string) store.Store {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(dir, "keyroll.db"))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// NewManager opens a manager for issuerURL on st with policy p, keys of
// alg (ES256 when empty: fast to generate) and clock clk.
func NewManager(t testing.TB, issuerURL string, st store.Store, sealer *keys.Sealer, clk clock.Clock, p lifecycle.Policy, alg string) *issuer.Manager {
	t.Helper()
	if alg == "" {
		alg = "ES256"
	}
	m, err := issuer.New(issuer.Config{Issuer: issuerURL, Store: st, Sealer: sealer, Policy: p, KeySpec: keys.Spec{Alg: alg}, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m
}
