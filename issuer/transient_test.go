package issuer

import (
	"context"
	"testing"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/lifecycle"
)

func TestTransientKeyPublishedAndWithdrawn(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(start)
	st := openSQLite(t, t.TempDir())
	defer st.Close()
	m := newManager(t, st, testKEK(t), clk, lifecycle.DefaultPolicy())
	k, err := m.PublishTransient(ctx, "drill")
	if err != nil {
		t.Fatal(err)
	}
	if !k.Transient || len(m.Snapshot().Published) != 2 {
		t.Fatalf("transient %+v, published %d", k, len(m.Snapshot().Published))
	}
	if _, err := m.Signer(ctx, k.KID); err != nil {
		t.Fatalf("a published transient key cannot sign: %v", err)
	}
	// A normal rotation still makes a next key: the transient one does not count.
	if _, err := m.Rotate(ctx, false, "test"); err != nil {
		t.Fatalf("rotate with a transient key published: %v", err)
	}
	if err := m.WithdrawTransient(ctx, k.Thumbprint, "drill"); err != nil {
		t.Fatal(err)
	}
	if err := m.WithdrawTransient(ctx, k.Thumbprint, "drill"); err != nil {
		t.Fatalf("second withdrawal: %v", err)
	}
	for _, p := range m.Snapshot().Published {
		if p.KID == k.KID {
			t.Fatal("withdrawn transient key still published")
		}
	}
	if err := m.WithdrawTransient(ctx, m.Snapshot().Primary.KID, "drill"); err == nil {
		t.Fatal("withdrew the primary as if it were transient")
	}
	// A drill that dies leaves its key for at most TransientLifetime.
	k2, _ := m.PublishTransient(ctx, "drill")
	clk.Advance(lifecycle.TransientLifetime)
	if _, err := m.Check(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Snapshot().Published {
		if p.KID == k2.KID {
			t.Fatal("abandoned transient key still published after its lifetime")
		}
	}
}
