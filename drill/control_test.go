package drill_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/drill"
	"github.com/keyroll/keyroll/drill/drilltest"
	"github.com/keyroll/keyroll/verify"
)

// controls lists the control calls as "name:outcome".
func controls(rep *drill.Report) []string {
	var out []string
	for _, c := range rep.Controls {
		out = append(out, c.Name+":"+string(c.Outcome))
	}
	return out
}

// TestDrillOpenAPI: an API that accepts every request accepts every key
// too, which proves nothing: inconclusive, exit 2, with the controls as
// evidence.
func TestDrillOpenAPI(t *testing.T) {
	e := newEnv(t).rotate(t, false)
	e.createApp(t, adminapi.CreateAppRequest{Name: "open-api", Audience: "api://open"})
	rep, progress := e.run(t, context.Background(), drill.Config{App: "open-api", API: serve(t, drilltest.Open()), FreshKey: true})
	wantVerdict(t, rep, drill.Inconclusive, 2, progress)
	if got := controls(rep); !slices.Equal(got, []string{"no token:accepted", "unknown key:accepted"}) {
		t.Errorf("controls %v", got)
	}
	if got := outcomes(rep); !slices.Equal(got, []string{"next:accepted", "primary:accepted", "fresh:accepted"}) {
		t.Errorf("results %v", got)
	}
	want := "the API accepts requests without a valid token (HTTP 200 with no token, HTTP 200 with a token signed by an unpublished key); " +
		"the drill cannot tell whether it checks keys"
	if rep.Reason != want {
		t.Errorf("reason %q\nwant   %q", rep.Reason, want)
	}
	js, _ := json.Marshal(rep)
	contains(t, "the JSON report", string(js), `"controls":[{"name":"no token","result":"accepted","evidence":{"status":200`)
	contains(t, "progress", progress, "control: calling the API with no token … accepted (200)",
		"control: calling the API with a token signed by a key the issuer never published … accepted (200)")
	e.clean(t, "open-api", "")
}

// TestDrillUnverifiedAPI: an API that reads the token's claims without
// checking its signature refuses no token but takes one signed by an
// unpublished key with the application's claims.
func TestDrillUnverifiedAPI(t *testing.T) {
	e := newEnv(t).rotate(t, false)
	e.createApp(t, adminapi.CreateAppRequest{Name: "lax-api", Audience: "api://lax"})
	api := serve(t, drilltest.API(drilltest.Unverified(e.url, "api://lax", time.Now)))
	rep, progress := e.run(t, context.Background(), drill.Config{App: "lax-api", API: api})
	wantVerdict(t, rep, drill.Inconclusive, 2, progress)
	if got := controls(rep); !slices.Equal(got, []string{"no token:rejected", "unknown key:accepted"}) {
		t.Fatalf("controls %v", got)
	}
	forged := rep.Controls[1].Evidence
	if !strings.HasPrefix(forged.TokenKID, "drill-unpublished-") || slices.ContainsFunc(rep.Results, func(r drill.Result) bool { return r.KID == forged.TokenKID }) {
		t.Errorf("the forged token's kid %q", forged.TokenKID)
	}
	// The same iss, aud, exp (else refused) and sub (the greeting) as the
	// application's tokens.
	if forged.Body == "" || forged.Body != rep.Results[0].Evidence.Body {
		t.Errorf("the forged token was answered %q, the application's %q", forged.Body, rep.Results[0].Evidence.Body)
	}
	contains(t, "the reason", rep.Reason, "the API accepts requests without a valid token (HTTP 200 with a token signed by an unpublished key)")
	e.clean(t, "lax-api", "")
}

// TestDrillFreshKeyThrottled: an API using the verify library with
// Microsoft's 5-minute unknown-key window, which a token with an unknown
// kid has just spent, rejects the fresh key at first; after the throttle
// window the drill tests it again and it is accepted: ready.
func TestDrillFreshKeyThrottled(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t).rotate(t, false)
	e.createApp(t, adminapi.CreateAppRequest{Name: "lib-api", Audience: "api://lib"})
	clk := clock.NewFake(time.Now())
	v, err := verify.New(e.url, verify.Discovery(e.url), verify.WithAudience("api://lib"), verify.WithClock(clk), verify.WithMinRefreshInterval(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	api := serve(t, drilltest.LibraryAPI(v))
	spend := func() { // the first fetches the keys, the second spends the window
		for _, kid := range []string{"spent-1", "spent-2"} {
			tok := b64url(`{"alg":"RS256","kid":"`+kid+`"}`) + "." + b64url(`{}`) + ".c2ln"
			if _, err := v.Verify(ctx, tok); !errors.Is(err, verify.ErrUnknownKey) {
				t.Fatalf("unknown kid %s: %v", kid, err)
			}
		}
	}
	spend()

	// A timer that fires without the throttle window passing: the retry
	// is rejected too, so this application really throttles.
	rep, progress := e.run(t, ctx, drill.Config{App: "lib-api", API: api, FreshKey: true})
	wantVerdict(t, rep, drill.NotReady, 1, progress)
	e.clean(t, "lib-api", "")

	spend()
	var waited []time.Duration
	after := func(d time.Duration) <-chan time.Time {
		waited = append(waited, d)
		clk.Advance(d)
		return immediately(d)
	}
	rep, progress = e.run(t, ctx, drill.Config{App: "lib-api", API: api, FreshKey: true, After: after})
	wantVerdict(t, rep, drill.Ready, 0, progress)
	if !slices.Equal(waited, []time.Duration{drill.DefaultRefreshWait}) {
		t.Errorf("waited %v, want once the default %v", waited, drill.DefaultRefreshWait)
	}
	fresh := rep.Results[len(rep.Results)-1]
	if fresh.State != "fresh" || fresh.Outcome != drill.Accepted || len(fresh.Earlier) != 1 || fresh.Earlier[0].Status != 401 {
		t.Errorf("fresh result %+v", fresh)
	}
	contains(t, "progress", progress, "waiting 5m10s for the application's refresh throttle before testing again the fresh key "+drill.Abbrev(fresh.Thumbprint)+", a key published moments ago … done",
		"retrying the fresh key "+drill.Abbrev(fresh.Thumbprint)+" … accepted (200)")
	e.clean(t, "lib-api", "")
}

// TestDrillInterruptedWaiting: Ctrl-C while waiting for the refresh
// throttle still restores the override and withdraws the fresh key.
func TestDrillInterruptedWaiting(t *testing.T) {
	e := newEnv(t).rotate(t, false)
	e.createApp(t, adminapi.CreateAppRequest{Name: "startup-api", Audience: "api://startup"})
	check, err := drilltest.Startup(context.Background(), e.url, "api://startup")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	after := func(time.Duration) <-chan time.Time { cancel(); return nil }
	rep, progress := e.run(t, ctx, drill.Config{App: "startup-api", API: serve(t, drilltest.API(check)), FreshKey: true, RefreshWait: time.Hour, After: after})
	wantVerdict(t, rep, drill.Interrupted, 2, progress)
	contains(t, "progress", progress, "waiting 1h0m0s for the application's refresh throttle before testing again the fresh key ", "a key published moments ago … interrupted",
		"cleanup: restored application startup-api: no override", "cleanup: withdrew the fresh transient key")
	e.clean(t, "startup-api", "")
}

// panickyAdmin panics minting a token once the application is pinned.
type panickyAdmin struct {
	*adminapi.Client
	pinned bool
}

func (p *panickyAdmin) Override(ctx context.Context, app string, req adminapi.OverrideRequest) (*adminapi.OverrideResult, error) {
	p.pinned = true
	return p.Client.Override(ctx, app, req)
}

func (p *panickyAdmin) AppToken(ctx context.Context, app string) (*adminapi.TokenResponse, error) {
	if p.pinned {
		panic("injected panic")
	}
	return p.Client.AppToken(ctx, app)
}

// TestDrillPanic: a panic in the middle of a test still restores the
// application's override; the drill reports failed.
func TestDrillPanic(t *testing.T) {
	e := newEnv(t).rotate(t, false)
	e.createApp(t, adminapi.CreateAppRequest{Name: "lib-api", Audience: "api://lib"})
	api := serve(t, drilltest.LibraryAPI(e.libraryVerifier(t, "api://lib")))
	rep, progress := e.run(t, context.Background(), drill.Config{Admin: &panickyAdmin{Client: e.admin}, App: "lib-api", API: api})
	wantVerdict(t, rep, drill.Failed, 2, progress)
	contains(t, "the reason", rep.Reason, "the drill could not run: internal error: injected panic")
	contains(t, "progress", progress, "cleanup: restored application lib-api: no override")
	e.clean(t, "lib-api", "")
}

func b64url(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
