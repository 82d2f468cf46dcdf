package sqlite

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
	"github.com/keyroll/keyroll/store/storetest"
)

// TestReopen: everything committed survives Close and Open.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, _, err := s.Update(ctx, storetest.Add(storetest.Key(1), storetest.Key(2))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.InitSetting(ctx, "secret", []byte("v")); err != nil {
		t.Fatal(err)
	}
	keys, gen, _ := s.Keys(ctx)
	events, _ := s.Events(ctx, storetest.Key(0).CreatedAt, 0)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, path)
	keys2, gen2, err := s.Keys(ctx)
	if err != nil || gen2 != gen || len(keys2) != 2 || keys2[1].KID != keys[1].KID {
		t.Errorf("after reopen Keys = (%v, %d, %v), want %v at generation %d", keys2, gen2, err, keys, gen)
	}
	if events2, _ := s.Events(ctx, storetest.Key(0).CreatedAt, 0); len(events2) != len(events) || len(events) != 2 {
		t.Errorf("after reopen %d events, want %d (2)", len(events2), len(events))
	}
	if v, err := s.Setting(ctx, "secret"); err != nil || string(v) != "v" {
		t.Errorf("after reopen Setting = (%q, %v)", v, err)
	}
	if b, err := s.Sealed(ctx, "kid-002"); err != nil || string(b) != string(storetest.Sealed("kid-002")) {
		t.Errorf("after reopen Sealed = (%q, %v)", b, err)
	}
}

func TestFileModeAndPragmas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	s := open(t, path)
	if _, _, err := s.Update(t.Context(), storetest.Add(storetest.Key(1))); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v (%v), want 0600", filepath.Base(p), fi.Mode().Perm(), err)
		}
	}
	var mode string
	var sync int
	if err := s.w.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q (%v), want wal", mode, err)
	}
	if err := s.w.QueryRow("PRAGMA synchronous").Scan(&sync); err != nil || sync != 2 {
		t.Errorf("synchronous = %d (%v), want 2 (FULL)", sync, err)
	}
}

// TestCorruptRows: rows that cannot be decoded make Keys and Events fail
// with ErrCorrupt naming the key and the problem.
func TestCorruptRows(t *testing.T) {
	cases := []struct{ sql, want string }{
		{`UPDATE keyroll_keys SET state = 'lost' WHERE kid = 'kid-002'`, `"kid-002" (seq 2): unknown state "lost"`},
		{`UPDATE keyroll_keys SET kid = '' WHERE kid = 'kid-002'`, `empty kid`},
		{`UPDATE keyroll_keys SET not_after = not_before - 1 WHERE kid = 'kid-001'`, `"kid-001" (seq 1): not_after is before not_before`},
		{`UPDATE keyroll_keys SET cert = x'' WHERE kid = 'kid-001'`, `empty certificate`},
		{`UPDATE keyroll_keys SET urgent = 'maybe' WHERE kid = 'kid-001'`, `key row 1`},
		{`UPDATE keyroll_events SET to_state = 'lost'`, `event for key "kid-001": unknown to state "lost"`},
		{`DELETE FROM keyroll_meta WHERE name = 'generation'`, `generation counter is missing`},
	}
	for _, c := range cases {
		s := open(t, filepath.Join(t.TempDir(), "keys.db"))
		if _, _, err := s.Update(t.Context(), storetest.Add(storetest.Key(1), storetest.Key(2))); err != nil {
			t.Fatal(err)
		}
		if _, err := s.w.Exec(c.sql); err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		if strings.Contains(c.sql, "keyroll_events") {
			_, err := s.Events(t.Context(), storetest.Key(0).CreatedAt, 0)
			checkCorrupt(t, c.sql, err, c.want)
			continue
		}
		_, _, err := s.Keys(t.Context())
		checkCorrupt(t, c.sql, err, c.want)
		_, _, err = s.Update(t.Context(), func([]lifecycle.Key) (*store.Change, error) {
			t.Error("Update called its function on a corrupt store")
			return nil, nil
		})
		checkCorrupt(t, c.sql, err, c.want)
	}
}

func checkCorrupt(t *testing.T, sql string, err error, want string) {
	t.Helper()
	if !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), want) {
		t.Errorf("after %s: error %v, want ErrCorrupt with %q", sql, err, want)
	}
}

func TestSchemaTooNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec(`UPDATE keyroll_meta SET value = value + 1 WHERE name = 'schema_version'`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(path)
	want := fmt.Sprintf("found version %d", schemaVersion+1)
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), want) {
		t.Errorf("Open of a newer schema = %v, want ErrSchemaTooNew with %q", err, want)
	}
}

func TestBadPaths(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "not.db")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("this is not a database\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"", ":memory:", "file:x.db", filepath.Join(dir, "a?b"),
		filepath.Join(dir, "missing", "keys.db"), notDB} {
		if s, err := Open(p); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

// TestTwoHandles: two Stores on one file (as two processes would be)
// serialise their updates through SQLite's locks.
func TestTwoHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	stores := []*Store{open(t, path), open(t, path)}
	addIfDue := func(keys []lifecycle.Key) (*store.Change, error) {
		if len(keys) >= 5 {
			return nil, nil
		}
		return storetest.Add(storetest.Key(len(keys)))(keys)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if _, _, err := stores[i%2].Update(t.Context(), addIfDue); err != nil {
				t.Errorf("Update: %v", err)
			}
		})
	}
	wg.Wait()
	keys, gen, err := stores[0].Keys(t.Context())
	if err != nil || len(keys) != 5 || gen != 5 {
		t.Errorf("Keys = (%d keys, generation %d, %v), want 5 keys at generation 5", len(keys), gen, err)
	}
}

// TestMigrateFromVersion1: a database written by a keyroll with schema
// version 1 opens, keeps its keys and events (key events, App empty) and
// takes applications.
func TestMigrateFromVersion1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	saved := migrations
	migrations = migrations[:1]
	schemaVersion = 1
	s, err := Open(path)
	migrations, schemaVersion = saved, len(saved)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec(`INSERT INTO keyroll_events (time, actor, kid, thumbprint, from_state, to_state, reason)
		VALUES (1, 'policy', 'kid-1', 'AB', 'next', 'primary', 'promotion threshold reached')`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, path)
	events, err := s.Events(t.Context(), time.Time{}, 0)
	if err != nil || len(events) != 1 || events[0].App != "" || events[0].To != lifecycle.Primary {
		t.Errorf("after migration Events = (%+v, %v), want the one key event", events, err)
	}
	if err := s.CreateApp(t.Context(), storetest.App(1)); err != nil {
		t.Errorf("CreateApp after migration: %v", err)
	}
}
