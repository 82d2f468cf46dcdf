package issuer

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// tamper changes the SQLite store in dir behind the issuer's back (as a
// bad restore or a hand edit would) and bumps its generation.
func tamper(t *testing.T, dir, stmt string, args ...any) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, "keyroll.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(stmt, args...); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE keyroll_meta SET value = value + 1 WHERE name = 'generation'`); err != nil {
		t.Fatal(err)
	}
}

// twoKeys returns a store with a primary and a retired key.
func twoKeys(t *testing.T) (dir string, st store.Store, m *Manager, clk *clock.Fake) {
	dir = t.TempDir()
	st = openSQLite(t, dir)
	t.Cleanup(func() { st.Close() })
	clk = clock.NewFake(start)
	m = newManager(t, st, testKEK(t), clk, lifecycle.DefaultPolicy())
	if _, err := m.Rotate(context.Background(), true, "test"); err != nil {
		t.Fatal(err)
	}
	return dir, st, m, clk
}

func reopen(t *testing.T, st store.Store, m *Manager, clk clock.Clock, reg prometheus.Registerer) (*Manager, error) {
	t.Helper()
	var mt *Metrics
	if reg != nil {
		mt = NewMetrics(reg, clk.Now)
	}
	m2, err := New(Config{Issuer: "https://issuer.test", Store: st, Sealer: m.cfg.Sealer, Policy: m.cfg.Policy, KeySpec: m.cfg.KeySpec, Clock: clk, Metrics: mt})
	if err != nil {
		t.Fatal(err)
	}
	return m2, m2.Open(context.Background())
}

// Fault (a): a store with two primaries started and reported healthy but
// refused every rotation.
func TestTwoPrimariesRefusedAndRepaired(t *testing.T) {
	ctx := context.Background()
	dir, st, m, clk := twoKeys(t)
	reg := prometheus.NewRegistry()
	running, err := reopen(t, st, m, clk, reg)
	if err != nil {
		t.Fatal(err)
	}
	tamper(t, dir, `UPDATE keyroll_keys SET state = 'primary' WHERE state = 'retired'`)

	if _, err := reopen(t, st, m, clk, nil); !errors.Is(err, lifecycle.ErrInconsistent) || !strings.Contains(err.Error(), "2 keys are primary") {
		t.Fatalf("Open on two primaries = %v, want a refusal naming them", err)
	}
	if err := running.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	NewDocuments(running).health(rec, httptest.NewRequest("GET", HealthPath, nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "cannot keep rolling") {
		t.Fatalf("healthz = %d %s, want 503 naming the problem", rec.Code, rec.Body)
	}
	if got := gauge(t, reg, "keyroll_key_state_problems"); got != 1 {
		t.Fatalf("keyroll_key_state_problems = %v, want 1", got)
	}
	if _, err := running.Check(ctx); !errors.Is(err, lifecycle.ErrInconsistent) {
		t.Fatalf("Check = %v, want the inconsistency named", err)
	}

	dry, err := running.Repair(ctx, false, "admin")
	if err != nil || len(dry.Problems) != 1 || len(dry.Events) != 1 || dry.Applied {
		t.Fatalf("dry run = %+v, %v", dry, err)
	}
	if _, err := reopen(t, st, m, clk, nil); err == nil {
		t.Fatal("the dry run changed the store")
	}
	done, err := running.Repair(ctx, true, "admin")
	if err != nil || !done.Applied || done.Events[0].To != lifecycle.Retired {
		t.Fatalf("repair = %+v, %v", done, err)
	}
	if running.Snapshot().StateErr != nil || gauge(t, reg, "keyroll_key_state_problems") != 0 {
		t.Fatalf("after repair: %v", running.Snapshot().StateErr)
	}
	if _, err := running.Rotate(ctx, false, "test"); err != nil {
		t.Fatalf("rotate after repair: %v", err)
	}
	events, _ := st.Events(ctx, time.Time{}, 0)
	if last := events[len(events)-2]; last.Actor != "admin" || !strings.HasPrefix(last.Reason, "repair:") {
		t.Fatalf("repair not audited: %+v", last)
	}
}

// Fault (b): one damaged sealed key of a retired key stopped every replica
// at its next start.
func TestDamagedRetiredKeyReported(t *testing.T) {
	ctx := context.Background()
	dir, st, m, clk := twoKeys(t)
	tamper(t, dir, `UPDATE keyroll_keys SET sealed = ? WHERE state = 'retired'`, make([]byte, 64))
	var retired lifecycle.Key
	for _, k := range m.Snapshot().Keys {
		if k.State == lifecycle.Retired {
			retired = k
		}
	}
	reg := prometheus.NewRegistry()
	m2, err := reopen(t, st, m, clk, reg)
	if err != nil {
		t.Fatalf("Open with a damaged retired key: %v", err)
	}
	if m2.Damaged(retired.KID) == "" || gauge(t, reg, "keyroll_damaged_private_keys") != 1 {
		t.Fatalf("damaged retired key not reported")
	}
	if _, err := reopen(t, st, m, clk, nil); err != nil {
		t.Fatal(err)
	}
	events, _ := st.Events(ctx, time.Time{}, 0)
	n := 0
	for _, e := range events {
		if e.KID == retired.KID && strings.Contains(e.Reason, "does not open") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d audit events for the damaged key, want exactly 1", n)
	}

	tamper(t, dir, `UPDATE keyroll_keys SET sealed = ? WHERE state = 'primary'`, make([]byte, 64))
	_, err = reopen(t, st, m, clk, nil)
	var de *DamagedError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), m.Snapshot().Primary.Thumbprint) || !strings.Contains(err.Error(), "backup") {
		t.Fatalf("Open with a damaged primary = %v, want a refusal naming its thumbprint and the remedy", err)
	}
}

func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
