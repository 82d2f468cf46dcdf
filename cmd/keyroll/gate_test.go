package main

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/adminapi"
)

// TestServePromotionGate runs serve with the evidence gate and thresholds
// in seconds: an application that fetched keys before the next key was
// published, and not since, holds the promotion past its threshold until
// the critical threshold; keys list and /metrics say so, and the
// promotion's audit event says it was forced.
func TestServePromotionGate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for about 20 s")
	}
	s := startServe(t, func(string) string { return "" }, "--store", "sqlite:"+filepath.Join(t.TempDir(), "keyroll.db"), "--key-alg", "ES256",
		"--promotion-gate", "evidence", "--certificate-duration", "40s", "--generation-threshold", "30s", "--promotion-threshold", "3s",
		"--critical-threshold", "20s", "--rollover-interval", "1s", "--max-token-lifetime", "1s", "--refresh-interval", "1s", "--clock-skew", "0s",
		"--poll-interval", "1s")
	admin := &adminapi.Client{BaseURL: s.url}
	ctx := context.Background()
	if _, errs, code := runIn(t, "", "apps", "create", "orders", "--audience", "api://orders", "--server", s.url); code != 0 {
		t.Fatal(errs)
	}
	app, err := admin.App(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	get(t, app.URLs.JWKS)                              // the key set before the next key
	if _, err := admin.Readiness(ctx, 0); err != nil { // writes the recorded fetches now
		t.Fatal(err)
	}

	// Poll the admin API (no fixed sleeps) until the state is reached.
	until := func(what string, limit time.Duration, ok func([]adminapi.KeyInfo) bool) []adminapi.KeyInfo {
		t.Helper()
		deadline := time.Now().Add(limit)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			ks, err := admin.Keys(ctx)
			if err == nil && ok(ks) {
				return ks
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s within %s: %+v (%v)", what, limit, ks, err)
			}
			<-tick.C
		}
	}
	ks := until("held next key", 30*time.Second, func(ks []adminapi.KeyInfo) bool {
		for _, k := range ks {
			if k.State == "next" && slices.Equal(k.PromotionWaitsFor, []string{"orders"}) && time.Now().After(*k.PromoteAt) {
				return true
			}
		}
		return false
	})
	var next, primary adminapi.KeyInfo
	for _, k := range ks {
		switch k.State {
		case "next":
			next = k
		case "primary":
			primary = k
		}
	}
	if next.PromoteBy == nil || !next.PromoteBy.Equal(primary.NotAfter.Add(-20*time.Second)) {
		t.Fatalf("promote_by %v, want the critical threshold %s", next.PromoteBy, primary.NotAfter.Add(-20*time.Second))
	}
	out, _, _ := runIn(t, "", "keys", "list", "--server", s.url)
	if !strings.Contains(out, "promotion of "+next.KID+" waits for orders; at the latest") {
		t.Errorf("keys list does not say what the promotion waits for:\n%s", out)
	}
	if m := string(get(t, s.url+"/metrics")); !strings.Contains(m, "keyroll_promotion_waiting_applications 1") ||
		!strings.Contains(m, `keyroll_promotion_waiting_for{app="orders",kid="`+next.KID+`"} 1`) {
		t.Errorf("/metrics does not show the wait")
	}

	until("promotion at the critical threshold", 30*time.Second, func(ks []adminapi.KeyInfo) bool {
		for _, k := range ks {
			if k.KID == next.KID && k.State == "primary" {
				return true
			}
		}
		return false
	})
	ev, err := admin.Events(ctx, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var waited, forced bool
	for _, e := range ev {
		if e.KID != next.KID {
			continue
		}
		if e.From == "next" && e.To == "next" && strings.Contains(e.Reason, "waits (promotion gate) for orders") {
			waited = true
		}
		if e.To == "primary" {
			forced = strings.Contains(e.Reason, "critical threshold") && strings.Contains(e.Reason, "promotion gate still waited for orders")
			if e.Time.Before(next.PromoteBy.Add(-time.Second)) {
				t.Errorf("promoted at %s, before the critical threshold %s", e.Time, next.PromoteBy)
			}
		}
	}
	if !waited || !forced {
		t.Errorf("audit events (waited %v, forced %v): %+v", waited, forced, ev)
	}
}
