package issuer

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

type countingStore struct {
	store.Store
	generations atomic.Int64
}

func (c *countingStore) Generation(ctx context.Context) (int64, error) {
	c.generations.Add(1)
	return c.Store.Generation(ctx)
}

// TestUnknownKidFloodIsThrottled: lookups of random kids (access tokens at
// UserInfo name them) make the replica re-read the store at most once per
// minMissRefresh.
func TestUnknownKidFloodIsThrottled(t *testing.T) {
	clk := clock.NewFake(start)
	st := openSQLite(t, t.TempDir())
	defer st.Close()
	m := newManager(t, st, testKEK(t), clk, lifecycle.DefaultPolicy())
	cs := &countingStore{Store: st}
	m.cfg.Store, m.ks = cs, cs
	flood := func(n int) {
		for i := 0; i < n; i++ {
			if _, cert := m.PublishedKey(context.Background(), fmt.Sprintf("random-%d", i)); cert != nil {
				t.Fatal("an unknown kid was found")
			}
		}
	}
	if _, cert := m.PublishedKey(context.Background(), m.Snapshot().Primary.KID); cert == nil {
		t.Fatal("the primary's kid was not found")
	}
	if n := cs.generations.Load(); n != 0 {
		t.Fatalf("a known kid read the store %d times", n)
	}
	flood(100)
	if n := cs.generations.Load(); n != 1 {
		t.Fatalf("100 unknown kids at one instant: %d store reads, want 1", n)
	}
	clk.Advance(minMissRefresh)
	flood(100)
	if n := cs.generations.Load(); n != 2 {
		t.Fatalf("after %s: %d store reads, want 2", minMissRefresh, n)
	}
}
