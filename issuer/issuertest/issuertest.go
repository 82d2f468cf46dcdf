// Package issuertest starts keyroll issuers for tests: a manager on a
// fresh SQLite store with a random KEK, and its HTTP surface. It is
// imported only by tests: every package's tests that need a real issuer
// make it here (issuer's own internal tests cannot, since this package
// imports issuer; they keep a copy of these few lines).
package issuertest

import (
	"context"
	"crypto/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
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

// TempSQLite opens a SQLite store in a fresh temporary directory and
// closes it when the test ends.
func TempSQLite(t testing.TB) store.Store {
	t.Helper()
	st := OpenSQLite(t, t.TempDir())
	t.Cleanup(func() { st.Close() })
	return st
}

// NewManager opens a manager for issuerURL on st with policy p, keys of
// alg (ES256 when empty: fast to generate) and clock clk.
func NewManager(t testing.TB, issuerURL string, st store.Store, sealer *keys.Sealer, clk clock.Clock, p lifecycle.Policy, alg string) *issuer.Manager {
	t.Helper()
	return Open(t, issuer.Config{Issuer: issuerURL, Store: st, Sealer: sealer, Policy: p, KeySpec: keys.Spec{Alg: alg}, Clock: clk})
}

// Open makes and opens a manager from cfg, filling in what the test left
// out: issuer https://issuer.test, a TempSQLite store, a fresh KEK (unless
// a Backend is set), the default policy and ES256 keys. A nil Clock is
// the wall clock.
func Open(t testing.TB, cfg issuer.Config) *issuer.Manager {
	t.Helper()
	if cfg.Issuer == "" {
		cfg.Issuer = "https://issuer.test"
	}
	if cfg.Store == nil {
		cfg.Store = TempSQLite(t)
	}
	if cfg.Sealer == nil && cfg.Backend == nil {
		cfg.Sealer = KEK(t)
	}
	if reflect.ValueOf(cfg.Policy).IsZero() {
		cfg.Policy = lifecycle.DefaultPolicy()
	}
	if cfg.KeySpec.Alg == "" {
		cfg.KeySpec.Alg = "ES256"
	}
	m, err := issuer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m
}

// Serve opens a manager (as Open) whose issuer URL is the address of a
// new httptest server, and serves handler(m) there, usually server.New
// (which this package cannot import: that package's tests use this one).
// The handler is in place before the server accepts a request.
func Serve(t testing.TB, cfg issuer.Config, handler func(*issuer.Manager) http.Handler) (*issuer.Manager, *httptest.Server) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Issuer = "http://" + l.Addr().String()
	ok := false
	defer func() {
		if !ok {
			l.Close()
		}
	}()
	m := Open(t, cfg)
	ts := &httptest.Server{Listener: l, Config: &http.Server{Handler: handler(m)}}
	ts.Start()
	t.Cleanup(ts.Close)
	ok = true
	return m, ts
}
