package issuer

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/internal/pgtest"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
	"github.com/keyroll/keyroll/store/postgres"
)

// dyingStore is a replica that dies in the middle of a rollover: its update
// function computes the change, then the replica hangs inside the
// transaction until it is killed (its context cancelled).
type dyingStore struct {
	store.Store
	inside chan struct{}
}

func (d *dyingStore) Update(ctx context.Context, fn store.UpdateFunc) (int64, bool, error) {
	return d.Store.Update(ctx, func(ks []lifecycle.Key) (*store.Change, error) {
		c, err := fn(ks)
		if err != nil || c == nil {
			return c, err
		}
		close(d.inside)
		<-ctx.Done()
		return nil, ctx.Err()
	})
}

// TestClusterRace runs three replicas on one PostgreSQL schema. They race
// the same rollovers; one of them is killed mid-rollover. Each rollover has
// one outcome, there is never more than one primary, and every replica
// serves the same JWKS afterwards.
func TestClusterRace(t *testing.T) {
	dsn := pgtest.Schema(t)
	ctx := context.Background()
	sealer := testKEK(t)
	clk := clock.NewFake(start)
	p := lifecycle.DefaultPolicy()
	open := func() store.Store {
		st, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	var ms [3]*Manager
	for i := range ms {
		ms[i] = newManager(t, open(), sealer, clk, p)
	}
	first := ms[0].Snapshot().Primary
	if first == nil {
		t.Fatal("no primary after bootstrap")
	}

	// Replica 0 is replaced by one that dies inside the generation's transaction.
	dying := &dyingStore{Store: open(), inside: make(chan struct{})}
	victim, err := New(Config{Issuer: "https://issuer.test", Store: dying, Sealer: sealer, Policy: p, KeySpec: ms[0].cfg.KeySpec, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	clk.Set(first.NotAfter.Add(-p.GenerationThreshold))
	killCtx, kill := context.WithCancel(ctx)
	victimErr := make(chan error, 1)
	go func() { _, err := victim.Check(killCtx); victimErr <- err }()
	<-dying.inside // the victim holds the lock with its change computed

	var wg sync.WaitGroup
	for _, m := range ms[1:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := m.Check(ctx); err != nil {
				t.Errorf("check: %v", err)
			}
		}()
	}
	kill()
	if err := <-victimErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("killed replica: %v, want context.Canceled", err)
	}
	wg.Wait()
	assertCluster(t, ms[:], 1, 0)

	// Everyone, the dead replica's successor included, races the promotion.
	clk.Advance(p.PromotionThreshold)
	for _, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := m.Check(ctx); err != nil {
				t.Errorf("check: %v", err)
			}
		}()
	}
	wg.Wait()
	assertCluster(t, ms[:], 1, 1)
}

// assertCluster checks the store holds exactly wantGen generations and
// wantProm promotions beyond the bootstrap, one primary, and that every
// replica serves the same JWKS.
func assertCluster(t *testing.T, ms []*Manager, wantGen, wantProm int) {
	t.Helper()
	ctx := context.Background()
	ev, err := ms[0].cfg.Store.Events(ctx, start.Add(1), 0)
	if err != nil {
		t.Fatal(err)
	}
	var gen, prom int
	for _, e := range ev {
		switch {
		case e.From == "" && e.To == lifecycle.Next:
			gen++
		case e.From == lifecycle.Next && e.To == lifecycle.Primary:
			prom++
		}
	}
	if gen != wantGen || prom != wantProm {
		t.Fatalf("events after bootstrap: %d generations, %d promotions; want %d and %d:\n%v", gen, prom, wantGen, wantProm, ev)
	}
	all, _, err := ms[0].cfg.Store.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	primaries := 0
	for _, k := range all {
		if k.State == lifecycle.Primary {
			primaries++
		}
	}
	if primaries != 1 {
		t.Fatalf("%d primaries", primaries)
	}
	for i, m := range ms {
		if err := m.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(m.Snapshot().JWKS, ms[0].Snapshot().JWKS) {
			t.Fatalf("replica %d serves another JWKS:\n%s\nvs\n%s", i, m.Snapshot().JWKS, ms[0].Snapshot().JWKS)
		}
	}
}

// TestClusterSeesChangesAtOnce: a replica learns of another's rotation
// through LISTEN/NOTIFY, without its polling interval passing.
func TestClusterSeesChangesAtOnce(t *testing.T) {
	dsn := pgtest.Schema(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sealer := testKEK(t)
	clk := clock.NewFake(start) // never advanced: no poll tick ever fires
	p := lifecycle.DefaultPolicy()
	var ms [2]*Manager
	for i := range ms {
		st, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		ms[i] = newManager(t, st, sealer, clk, p)
	}
	done := make(chan struct{})
	go func() { ms[1].Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	clk.BlockUntil(1) // replica 1 is listening and asleep
	changed := ms[1].Changed()
	if _, err := ms[0].Rotate(ctx, true, "test"); err != nil {
		t.Fatal(err)
	}
	<-changed
	if !bytes.Equal(ms[1].Snapshot().JWKS, ms[0].Snapshot().JWKS) || ms[1].Snapshot().Primary.KID != ms[0].Snapshot().Primary.KID {
		t.Fatal("replica 1 did not pick up the rotation")
	}
}
