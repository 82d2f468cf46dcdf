package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/lifecycle"
)

// TestOverride: pinning an application to the next key signs its tokens
// (and only its tokens) with that key; restoring the default signs with the
// primary again; each change is one audit event, a repeat is none.
func TestOverride(t *testing.T) {
	ctx := context.Background()
	e := newOAuthEnv(t)
	app := e.createApp(t, adminapi.CreateAppRequest{Name: "payroll"})
	bystander := e.createApp(t, adminapi.CreateAppRequest{Name: "other"})
	if _, err := e.m.Rotate(ctx, false, "test"); err != nil {
		t.Fatal(err)
	}
	snap := e.m.Snapshot()
	primary, next := snap.Primary, snap.Keys[lifecycle.NextIndex(snap.Keys)]
	res, err := e.c.Override(ctx, "PAYROLL", adminapi.OverrideRequest{Key: strings.ToLower(next.Thumbprint)})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.App.KeyOverride != next.Thumbprint || res.App.SigningKey.KID != next.KID || !res.App.SigningKey.Override ||
		len(res.Events) != 1 || res.Events[0].App != "payroll" || res.Events[0].Thumbprint != next.Thumbprint || res.App.Warning != "" {
		t.Fatalf("override result %+v", res)
	}
	if kid := kidOf(t, e.clientCredentials(t, app)); kid != next.KID {
		t.Errorf("pinned app's token signed by %s, want the next key %s", kid, next.KID)
	}
	if kid := kidOf(t, e.clientCredentials(t, bystander)); kid != primary.KID {
		t.Errorf("other app's token signed by %s, want the primary", kid)
	}
	before := e.state(t)
	if res, err = e.c.Override(ctx, app.App.ClientID, adminapi.OverrideRequest{Next: true}); err != nil || res.Changed || len(res.Events) != 0 {
		t.Errorf("override to the same key again = (%+v, %v), want no change and no event", res, err)
	}
	before.mustEqual(t, "a repeated override", e.state(t))
	if res, err = e.c.RestoreDefault(ctx, "payroll"); err != nil || !res.Changed || res.App.KeyOverride != "" || res.App.SigningKey.KID != primary.KID || len(res.Events) != 1 {
		t.Fatalf("restore-default = (%+v, %v)", res, err)
	}
	if kid := kidOf(t, e.clientCredentials(t, app)); kid != primary.KID {
		t.Errorf("after restore-default the token is signed by %s, want the primary", kid)
	}
	if res, err = e.c.RestoreDefault(ctx, "payroll"); err != nil || res.Changed || len(res.Events) != 0 {
		t.Errorf("restore-default again = (%+v, %v), want no change", res, err)
	}
	events, _ := e.c.Events(ctx, time.Time{}, 0)
	var appEvents []adminapi.EventInfo
	for _, ev := range events {
		if ev.App == "payroll" {
			appEvents = append(appEvents, ev)
		}
	}
	if len(appEvents) != 3 || !strings.Contains(appEvents[1].Reason, "override set to "+next.Thumbprint) || !strings.Contains(appEvents[2].Reason, "removed") {
		t.Errorf("payroll's audit events %+v, want created, override set, override removed", appEvents)
	}
}

// TestOverrideLatestAndNext: --latest picks the newest published key by
// NotBefore; --next the next key.
func TestOverrideLatestAndNext(t *testing.T) {
	ctx := context.Background()
	e := newOAuthEnv(t)
	e.createApp(t, adminapi.CreateAppRequest{Name: "api"})
	if _, err := e.c.Override(ctx, "api", adminapi.OverrideRequest{Next: true}); !isAPI(err, http.StatusConflict, "no next key") {
		t.Errorf("--next with no next key = %v, want 409 saying so", err)
	}
	e.clk.Advance(time.Hour)
	if _, err := e.m.Rotate(ctx, false, "test"); err != nil {
		t.Fatal(err)
	}
	snap := e.m.Snapshot()
	next := snap.Keys[lifecycle.NextIndex(snap.Keys)]
	res, err := e.c.Override(ctx, "api", adminapi.OverrideRequest{Latest: true})
	if err != nil || res.App.KeyOverride != next.Thumbprint {
		t.Errorf("--latest = (%+v, %v), want the next key %s", res, err, next.Thumbprint)
	}
	if _, err := e.c.Override(ctx, "api", adminapi.OverrideRequest{Next: true, Latest: true}); !isAPI(err, http.StatusBadRequest, "exactly one") {
		t.Errorf("two selectors = %v, want 400", err)
	}
}

// TestOverrideRefused: an unknown application or thumbprint, a revoked or
// an expired key: a clear error and nothing changed.
func TestOverrideRefused(t *testing.T) {
	ctx := context.Background()
	e := newOAuthEnv(t)
	e.createApp(t, adminapi.CreateAppRequest{Name: "api"})
	if _, err := e.m.Rotate(ctx, false, "test"); err != nil {
		t.Fatal(err)
	}
	snap := e.m.Snapshot()
	revoked := snap.Keys[lifecycle.NextIndex(snap.Keys)]
	if _, err := e.m.Revoke(ctx, revoked.Thumbprint, "test"); err != nil {
		t.Fatal(err)
	}
	old := *e.m.Snapshot().Primary
	if _, err := e.m.Rotate(ctx, true, "test"); err != nil {
		t.Fatal(err)
	}
	e.clk.Set(e.m.Policy().UnpublishAt(e.m.Snapshot().Keys[0]).Add(time.Second))
	if _, err := e.m.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if k := e.m.Snapshot().Keys[0]; k.KID != old.KID || k.State != lifecycle.Expired {
		t.Fatalf("setup: the old primary is %s, want expired", k.State)
	}
	cases := []struct {
		name, app, key string
		status         int
		says           string
	}{
		{"unknown app", "nosuch", revoked.Thumbprint, 404, `no application is named "nosuch"`},
		{"unknown thumbprint", "api", strings.Repeat("AB", 20), 404, "matches no key"},
		{"not a thumbprint", "api", "zz-top", 404, "matches no key"},
		{"revoked key", "api", revoked.Thumbprint, 409, "is revoked since"},
		{"expired key", "api", old.Thumbprint, 409, "is expired since"},
	}
	before := e.state(t)
	for _, c := range cases {
		_, err := e.c.Override(ctx, c.app, adminapi.OverrideRequest{Key: c.key})
		if !isAPI(err, c.status, c.says) {
			t.Errorf("%s: %v, want HTTP %d saying %q", c.name, err, c.status, c.says)
		}
	}
	if _, err := e.c.RestoreDefault(ctx, "nosuch"); !isAPI(err, 404, "no application") {
		t.Errorf("restore-default of an unknown app: %v", err)
	}
	before.mustEqual(t, "refused overrides", e.state(t))
	res, err := e.c.Override(ctx, "api", adminapi.OverrideRequest{Key: revoked.Thumbprint, AllowUnpublished: true})
	if err != nil || res.App.KeyOverride != revoked.Thumbprint || !strings.Contains(res.App.Warning, "is revoked") {
		t.Errorf("override to a revoked key with allow_unpublished = (%+v, %v), want it kept with a warning", res, err)
	}
}

// TestOverrideFallback: when the override is revoked, tokens are signed by
// the primary, "apps show" warns, and the fallback is audited once, not
// per token.
func TestOverrideFallback(t *testing.T) {
	ctx := context.Background()
	e := newOAuthEnv(t)
	app := e.createApp(t, adminapi.CreateAppRequest{Name: "api"})
	if _, err := e.m.Rotate(ctx, false, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Override(ctx, "api", adminapi.OverrideRequest{Next: true}); err != nil {
		t.Fatal(err)
	}
	pinned := e.m.Snapshot().Keys[1]
	if _, err := e.m.Revoke(ctx, pinned.KID, "test"); err != nil {
		t.Fatal(err)
	}
	primary := e.m.Snapshot().Primary.KID
	for range 5 {
		if kid := kidOf(t, e.clientCredentials(t, app)); kid != primary {
			t.Fatalf("token after the override was revoked signed by %s, want the primary %s", kid, primary)
		}
	}
	info, err := e.c.App(ctx, "api")
	if err != nil || info.SigningKey.Override || !strings.Contains(info.Warning, "override key "+pinned.Thumbprint+" is revoked") {
		t.Errorf("apps show = (%+v, %v), want a fallback warning", info, err)
	}
	events, _ := e.c.Events(ctx, time.Time{}, 0)
	n := 0
	for _, ev := range events {
		if ev.App == "api" && strings.Contains(ev.Reason, "tokens are signed with the primary") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d fallback events after 5 tokens, want 1", n)
	}
	// A new override and a new fallback: audited again.
	if _, err := e.m.Rotate(ctx, false, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Override(ctx, "api", adminapi.OverrideRequest{Next: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Revoke(ctx, e.m.Snapshot().Keys[2].KID, "test"); err != nil {
		t.Fatal(err)
	}
	e.clientCredentials(t, app)
	e.clientCredentials(t, app)
	events, _ = e.c.Events(ctx, time.Time{}, 0)
	if got := countReason(events, "tokens are signed with the primary"); got != 2 {
		t.Errorf("%d fallback events after a second override was revoked, want 2", got)
	}
}

func countReason(events []adminapi.EventInfo, s string) int {
	n := 0
	for _, e := range events {
		if strings.Contains(e.Reason, s) {
			n++
		}
	}
	return n
}

// isAPI reports whether err is an admin API error with this status whose
// message contains says.
func isAPI(err error, status int, says string) bool {
	var ae *adminapi.APIError
	return errors.As(err, &ae) && ae.Status == status && strings.Contains(ae.ErrorInfo.Error, says)
}

// TestAppToken: the admin API issues an application's token without its
// secret, signed with its effective key.
func TestAppToken(t *testing.T) {
	ctx := context.Background()
	e := newOAuthEnv(t)
	app := e.createApp(t, adminapi.CreateAppRequest{Name: "api", Audience: "api://orders"})
	if _, err := e.m.Rotate(ctx, false, "test"); err != nil {
		t.Fatal(err)
	}
	res, err := e.c.Override(ctx, "api", adminapi.OverrideRequest{Next: true})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := e.c.AppToken(ctx, "api")
	if err != nil {
		t.Fatal(err)
	}
	h, c := e.verified(t, tok.AccessToken)
	if h.Kid != res.App.SigningKey.KID || c["sub"] != app.App.ClientID || c["aud"] != "api://orders" || h.Typ != "at+jwt" {
		t.Errorf("admin token header %+v claims %v", h, c)
	}
	if _, err := e.c.AppToken(ctx, "nosuch"); !isAPI(err, 404, "no application") {
		t.Errorf("token for an unknown app: %v", err)
	}
}
