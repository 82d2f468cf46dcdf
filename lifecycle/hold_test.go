package lifecycle

import (
	"strings"
	"testing"
	"time"
)

// TestHold: a held next key is not promoted by the promotion threshold,
// only by the critical threshold, and the reason says whom it did not wait for.
func TestHold(t *testing.T) {
	p := DefaultPolicy()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	keys := []Key{
		{KID: "p", State: Primary, NotAfter: t0.Add(20 * Day), PromotedAt: t0.Add(-300 * Day)},
		{KID: "n", State: Next, CreatedAt: t0, PromoteAt: t0.Add(p.PromotionThreshold), NotAfter: t0.Add(365 * Day)},
	}
	h := Hold{KID: "n", Waiting: []string{"billing"}, Gated: true}
	afterPromote := t0.Add(p.PromotionThreshold + time.Hour)
	if a, ok := DueHeld(keys, p, afterPromote, h); ok {
		t.Fatalf("held key promoted: %v", a)
	}
	critical := PromoteBy(keys, p)
	if !critical.Equal(t0.Add(18 * Day)) {
		t.Fatalf("PromoteBy = %s", critical)
	}
	if got := NextDueHeld(keys, p, afterPromote, h); !got.Equal(critical) {
		t.Fatalf("NextDueHeld = %s, want the critical threshold %s", got, critical)
	}
	a, ok := DueHeld(keys, p, critical, h)
	if !ok || a.Kind != Promote || a.KID != "n" || !strings.Contains(a.Reason, "promoted although the promotion gate still waited for billing") {
		t.Fatalf("at the critical threshold: %v %v", a, ok)
	}
	a, ok = DueHeld(keys, p, afterPromote, Hold{KID: "n", Gated: true})
	if !ok || !strings.Contains(a.Reason, "every application the promotion gate watches has the key") {
		t.Fatalf("released: %v %v", a, ok)
	}
	// A hold for another key holds nothing.
	if _, ok := DueHeld(keys, p, afterPromote, Hold{KID: "other", Waiting: []string{"x"}}); !ok {
		t.Fatal("a hold for another key kept n from its promotion")
	}
	ev := ForecastHeld(keys, p, afterPromote, t0.Add(30*Day), h)
	if len(ev) < 2 || ev[0].KID != "p" && ev[1].KID != "n" || !ev[0].Time.Equal(critical) {
		t.Fatalf("forecast with the hold: %v", ev)
	}
}
