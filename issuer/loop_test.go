package issuer

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// failingStore is a store that has gone read-only: every Update fails.
type failingStore struct {
	store.Store
	updates atomic.Int64
}

func (f *failingStore) Update(context.Context, store.UpdateFunc) (int64, bool, error) {
	f.updates.Add(1)
	return 0, false, errors.New("disk full")
}

// TestRunBacksOffWhenChecksFail: a due rollover whose check keeps failing
// is retried after 1 s, 2 s, 4 s, ... — not in a tight loop.
func TestRunBacksOffWhenChecksFail(t *testing.T) {
	clk := clock.NewFake(start)
	st := openSQLite(t, t.TempDir())
	defer st.Close()
	p := lifecycle.DefaultPolicy()
	m := newManager(t, st, testKEK(t), clk, p)
	fs := &failingStore{Store: st}
	m.cfg.Store, m.ks = fs, fs
	clk.Set(m.Snapshot().Primary.NotAfter.Add(-p.GenerationThreshold)) // a generation is due

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	clk.BlockUntil(1) // first check failed; the loop sleeps
	if n := fs.updates.Load(); n != 1 {
		t.Fatalf("%d update attempts before any time passed, want 1", n)
	}
	for i, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		clk.Advance(wait - time.Millisecond)
		clk.BlockUntil(1)
		if n := fs.updates.Load(); n != int64(i+1) {
			t.Fatalf("retried before the %s backoff: %d attempts", wait, n)
		}
		clk.Advance(time.Millisecond)
		clk.BlockUntil(1)
		if n := fs.updates.Load(); n != int64(i+2) {
			t.Fatalf("not retried after %s: %d attempts", wait, n)
		}
	}
}
