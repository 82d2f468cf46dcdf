package issuer

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/keys"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

func newGatedManager(t testing.TB, st store.Store, sealer *keys.Sealer, clk clock.Clock, p lifecycle.Policy) *Manager {
	t.Helper()
	m, err := New(Config{Issuer: "https://issuer.test", Store: st, Sealer: sealer, Policy: p, KeySpec: keys.Spec{Alg: "ES256"},
		Clock: clk, PromotionGate: GateEvidence})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m
}

// fetchNow records that the application fetched the JWKS now, served the
// manager's current snapshot.
func fetchNow(t testing.TB, m *Manager, clientID string) {
	t.Helper()
	s := m.Snapshot()
	if err := m.Store().RecordFetches(context.Background(), []store.Fetch{{Day: m.Now(), ClientID: clientID,
		Document: store.DocJWKS, Count: 1, LastAt: m.Now(), Generation: s.Generation, NextKID: s.NextKID}}); err != nil {
		t.Fatal(err)
	}
}

func promotionEvents(t *testing.T, m *Manager) (waits, promotions []lifecycle.Event) {
	t.Helper()
	ev, err := m.Store().Events(context.Background(), time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ev {
		switch {
		case e.From == lifecycle.Next && e.To == lifecycle.Next:
			waits = append(waits, e)
		case e.From == lifecycle.Next && e.To == lifecycle.Primary && e.Actor == "policy":
			promotions = append(promotions, e)
		}
	}
	return waits, promotions
}

// TestPromotionGate: with the evidence gate the next key waits past its
// promotion threshold for an application that fetches keys but has not
// fetched it, not for one that never fetches; the wait is audited once;
// the key is promoted as soon as the application has it, or at the
// critical threshold at the latest.
func TestPromotionGate(t *testing.T) {
	for _, fetches := range []bool{true, false} {
		name := map[bool]string{true: "released", false: "critical"}[fetches]
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			clk := clock.NewFake(start)
			st := openSQLite(t, t.TempDir())
			defer st.Close()
			p := lifecycle.DefaultPolicy()
			m := newGatedManager(t, st, testKEK(t), clk, p)
			orders, _, err := m.CreateApp(ctx, AppSpec{Name: "orders"}, "test")
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := m.CreateApp(ctx, AppSpec{Name: "never-fetches"}, "test"); err != nil {
				t.Fatal(err)
			}
			primary := *m.Snapshot().Primary
			clk.Set(primary.NotAfter.Add(-p.GenerationThreshold))
			fetchNow(t, m, orders.ClientID) // the set without the next key
			if _, err := m.Check(ctx); err != nil {
				t.Fatal(err)
			}
			next := m.Snapshot().Keys[lifecycle.NextIndex(m.Snapshot().Keys)]
			by := primary.NotAfter.Add(-p.CriticalThreshold)
			for _, at := range []time.Time{next.PromoteAt, next.PromoteAt.Add(time.Hour), next.PromoteAt.Add(48 * time.Hour)} {
				clk.Set(at)
				if _, err := m.Check(ctx); err != nil {
					t.Fatal(err)
				}
				if s := m.Snapshot(); s.Primary.KID != primary.KID {
					t.Fatalf("%s: promoted while orders had not fetched the next key", at)
				}
			}
			if h := m.Hold(); h.KID != next.KID || !slices.Equal(h.Waiting, []string{"orders"}) {
				t.Fatalf("Hold = %+v, want the next key waiting for orders", h)
			}
			if due := lifecycle.NextDueHeld(m.Snapshot().Keys, p, m.Now(), m.Hold()); !due.Equal(by) {
				t.Fatalf("next due %s, want the critical threshold %s", due, by)
			}
			waits, _ := promotionEvents(t, m)
			if len(waits) != 1 || !strings.Contains(waits[0].Reason, "waits (promotion gate) for orders") || !strings.Contains(waits[0].Reason, by.Format(time.RFC3339)) {
				t.Fatalf("wait events: %+v", waits)
			}
			if fetches {
				fetchNow(t, m, orders.ClientID)
				clk.Advance(time.Hour)
			} else {
				clk.Set(by)
			}
			if _, err := m.Check(ctx); err != nil {
				t.Fatal(err)
			}
			if s := m.Snapshot(); s.Primary.KID != next.KID {
				t.Fatalf("not promoted at %s", clk.Now())
			}
			_, promos := promotionEvents(t, m)
			want := "every application the promotion gate watches has the key"
			if !fetches {
				want = "promoted although the promotion gate still waited for orders"
			}
			if len(promos) != 2 || !strings.Contains(promos[1].Reason, want) { // the first key, then this one
				t.Fatalf("promotion events %+v, want one saying %q", promos, want)
			}
		})
	}
}
