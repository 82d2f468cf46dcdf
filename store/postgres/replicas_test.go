package postgres

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyroll/keyroll/internal/pgtest"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
	"github.com/keyroll/keyroll/store/storetest"
)

// TestReplicasRace: replicas racing to promote the one next key serialise
// through the advisory lock; exactly one of them promotes it.
func TestReplicasRace(t *testing.T) {
	dsn := pgtest.Schema(t)
	replicas := []*Store{open(t, dsn), open(t, dsn)}
	if _, _, err := replicas[0].Update(t.Context(), storetest.Add(storetest.Key(1))); err != nil {
		t.Fatal(err)
	}
	promoteIfDue := func(keys []lifecycle.Key) (*store.Change, error) {
		if lifecycle.PrimaryIndex(keys) >= 0 {
			return nil, nil
		}
		keys[0].State = lifecycle.Primary
		return &store.Change{Keys: keys, Events: []lifecycle.Event{{Time: keys[0].CreatedAt,
			Actor: "policy", KID: keys[0].KID, From: lifecycle.Next, To: lifecycle.Primary}}}, nil
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			_, changed, err := replicas[i%2].Update(t.Context(), promoteIfDue)
			if err != nil {
				t.Errorf("Update: %v", err)
			}
			if changed {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	events, err := replicas[1].Events(t.Context(), time.Time{}, 0)
	if wins.Load() != 1 || err != nil || len(events) != 2 {
		t.Errorf("%d replicas promoted; %d events (%v); want 1 promotion and 2 events", wins.Load(), len(events), err)
	}
}

// TestConcurrentOpen: three replicas opening a fresh schema at once all
// succeed and leave one schema.
func TestConcurrentOpen(t *testing.T) {
	dsn := pgtest.Schema(t)
	stores := make([]*Store, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = Open(t.Context(), dsn) })
	}
	wg.Wait()
	for i, s := range stores {
		if errs[i] != nil {
			t.Errorf("Open %d: %v", i, errs[i])
			continue
		}
		defer s.Close()
	}
	if t.Failed() {
		return
	}
	if _, _, err := stores[2].Update(t.Context(), storetest.Add(storetest.Key(1))); err != nil {
		t.Fatal(err)
	}
	if gen, err := stores[0].Generation(t.Context()); gen != 1 || err != nil {
		t.Errorf("Generation = (%d, %v), want 1", gen, err)
	}
}

func TestSchemaTooNew(t *testing.T) {
	dsn := pgtest.Schema(t)
	s := open(t, dsn)
	exec(t, s, `UPDATE keyroll_meta SET value = 7 WHERE name = 'schema_version'`)
	_, err := Open(t.Context(), dsn)
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), "found version 7") {
		t.Errorf("Open of a newer schema = %v, want ErrSchemaTooNew naming version 7", err)
	}
}

func TestCorruptRow(t *testing.T) {
	s := open(t, pgtest.Schema(t))
	if _, _, err := s.Update(t.Context(), storetest.Add(storetest.Key(1), storetest.Key(2))); err != nil {
		t.Fatal(err)
	}
	exec(t, s, `UPDATE keyroll_keys SET state = 'lost' WHERE kid = 'kid-002'`)
	_, _, err := s.Keys(t.Context())
	if !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), `"kid-002" (seq 2): unknown state "lost"`) {
		t.Errorf("Keys = %v, want ErrCorrupt naming kid-002 and its state", err)
	}
}

func TestClosed(t *testing.T) {
	s, err := Open(t.Context(), pgtest.Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, _, err := s.Keys(t.Context()); !errors.Is(err, errClosed) {
		t.Errorf("Keys after Close = %v, want errClosed", err)
	}
}

func TestOpenBadDSN(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for _, dsn := range []string{"postgres://[::1", "postgres://nobody@127.0.0.1:1/x?connect_timeout=2"} {
		if s, err := Open(ctx, dsn); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", dsn)
		}
	}
}

// TestMigrateFromVersion1: a schema written by a keyroll with schema
// version 1 opens, keeps its events (key events, App empty) and takes
// applications.
func TestMigrateFromVersion1(t *testing.T) {
	dsn := pgtest.Schema(t)
	saved := migrations
	migrations, schemaVersion = migrations[:1], 1
	s, err := Open(t.Context(), dsn)
	migrations, schemaVersion = saved, len(saved)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, s, `INSERT INTO keyroll_events (time, actor, kid, thumbprint, from_state, to_state, reason)
		VALUES (1, 'policy', 'kid-1', 'AB', 'next', 'primary', 'promotion threshold reached')`)
	s.Close()
	s = open(t, dsn)
	events, err := s.Events(t.Context(), time.Time{}, 0)
	if err != nil || len(events) != 1 || events[0].App != "" || events[0].To != lifecycle.Primary {
		t.Errorf("after migration Events = (%+v, %v), want the one key event", events, err)
	}
	if err := s.CreateApp(t.Context(), storetest.App(1)); err != nil {
		t.Errorf("CreateApp after migration: %v", err)
	}
}
