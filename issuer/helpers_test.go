package issuer

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/keys"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
	"github.com/keyroll/keyroll/store/sqlite"
)

// These few lines repeat issuer/issuertest on purpose: these are internal
// tests (package issuer, they reach the manager's unexported state), and
// issuertest imports issuer, so they cannot import it. Every other
// package's tests use issuertest.

var start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func testKEK(t testing.TB) *keys.Sealer {
	t.Helper()
	kek := make([]byte, keys.KEKSize)
	rand.Read(kek)
	s, err := keys.NewSealer(kek)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func openSQLite(t testing.TB, dir string) store.Store {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(dir, "keyroll.db"))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// newManager opens a manager on st with the given policy and ES256 keys
// (fast to generate; the algorithm does not matter to the policy).
func newManager(t testing.TB, st store.Store, sealer *keys.Sealer, clk clock.Clock, p lifecycle.Policy) *Manager {
	t.Helper()
	m, err := New(Config{Issuer: "https://issuer.test", Store: st, Sealer: sealer, Policy: p, KeySpec: keys.Spec{Alg: "ES256"}, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m
}
