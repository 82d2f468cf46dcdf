package throttle

import (
	"context"
	"testing"
	"time"
)

func TestGrowingWaits(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var audits []string
	g := NewGuard("sign-in", func() time.Time { return now }, func(_ context.Context, r string) { audits = append(audits, r) })
	ctx := context.Background()
	var waits []time.Duration
	for range 8 {
		if w := g.Wait("alice", "192.0.2.1"); w > 0 {
			now = now.Add(w)
		}
		waits = append(waits, g.Failed(ctx, "alice", "192.0.2.1"))
	}
	want := []time.Duration{0, 0, 0, 0, 0, time.Second, 2 * time.Second, 4 * time.Second}
	for i := range want {
		if waits[i] != want[i] {
			t.Fatalf("waits = %v, want %v", waits, want)
		}
	}
	if len(audits) != 1 {
		t.Fatalf("audits = %q, want one when throttling started", audits)
	}
	if g.Wait("alice", "192.0.2.9") == 0 {
		t.Fatal("the account is not throttled from another address")
	}
	if g.Wait("bob", "192.0.2.9") != 0 {
		t.Fatal("another account from another address is throttled")
	}
	g.Succeeded("alice")
	if g.Wait("alice", "192.0.2.9") != 0 {
		t.Fatal("a success did not reset the account")
	}
	now = now.Add(2 * time.Hour)
	if _, started := g.accounts.Fail("alice"); started {
		t.Fatal("old failures were not forgotten")
	}
}

func TestAddressThrottledAcrossAccounts(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g := NewGuard("sign-in", func() time.Time { return now }, nil)
	for i := range AddressPolicy.Free + 1 {
		g.Failed(context.Background(), string(rune('a'+i)), "198.51.100.7")
	}
	if g.Wait("zed", "198.51.100.7") == 0 {
		t.Fatal("a guessing address is not throttled for a fresh account")
	}
}
