package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keyroll/keyroll/internal/pgtest"
	"github.com/keyroll/keyroll/store/storetest"
)

// await fails the test unless ch delivers a signal within a generous bound.
func await(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case _, ok := <-ch:
		if !ok {
			t.Fatalf("%s: watch channel closed", what)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: no signal within 30s", what)
	}
}

// awaitClosed fails the test unless ch is closed within a generous bound.
func awaitClosed(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("watch channel not closed within 30s")
		}
	}
}

// TestWatch: a replica hears another replica's update.
func TestWatch(t *testing.T) {
	dsn := pgtest.Schema(t)
	a, b := open(t, dsn), open(t, dsn)
	ctx, cancel := context.WithCancel(t.Context())
	ch, err := a.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Update(t.Context(), storetest.Add(storetest.Key(1))); err != nil {
		t.Fatal(err)
	}
	await(t, ch, "after another replica's Update")
	if gen, err := a.Generation(t.Context()); gen != 1 || err != nil {
		t.Errorf("after the signal Generation = (%d, %v), want 1", gen, err)
	}
	cancel()
	awaitClosed(t, ch)
}

// TestWatchReconnect: a watcher whose connection is killed reconnects,
// signals (it may have missed changes) and hears later updates.
func TestWatchReconnect(t *testing.T) {
	dsn := pgtest.Schema(t)
	a, b := open(t, dsn), open(t, dsn)
	ch, err := a.Watch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var killed int
	err = b.withConn(t.Context(), func(conn *pgx.Conn) error {
		return conn.QueryRow(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE application_name = current_setting('application_name') AND query = 'LISTEN keyroll_keys'`).Scan(&killed)
	})
	if err != nil || killed != 1 {
		t.Fatalf("terminated %d listening sessions (%v), want 1", killed, err)
	}
	await(t, ch, "after reconnecting")
	if _, _, err := b.Update(t.Context(), storetest.Add(storetest.Key(1))); err != nil {
		t.Fatal(err)
	}
	await(t, ch, "after an Update following the reconnect")
}

// TestWatchStoreClose: closing the Store closes its watch channels.
func TestWatchStoreClose(t *testing.T) {
	s, err := Open(t.Context(), pgtest.Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	ch, err := s.Watch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	awaitClosed(t, ch)
}
