package drill_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/drill"
	"github.com/keyroll/keyroll/drill/drilltest"
)

// TestDrillPinnedAPI: an API that pins the primary's thumbprint rejects the
// next and the retired key; the verdict names the next key and the day it
// becomes primary.
func TestDrillPinnedAPI(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t).withRetired(t)
	e.createApp(t, adminapi.CreateAppRequest{Name: "pinned-api", Audience: "api://pinned"})
	check, err := drilltest.Pinned(e.url, "api://pinned", e.m.Snapshot().Primary.Cert, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	next, retired := e.key(t, "next"), e.key(t, "retired")
	rep, progress := e.run(t, ctx, drill.Config{App: "pinned-api", API: serve(t, drilltest.API(check))})
	wantVerdict(t, rep, drill.NotReady, 1, progress)
	if got := outcomes(rep); !slices.Equal(got, []string{"next:rejected", "primary:accepted", "retired:rejected"}) {
		t.Fatalf("results %v", got)
	}
	if want := "rejects the next key " + drill.Abbrev(next.Thumbprint) + ", which becomes primary on " +
		next.PromoteAt.UTC().Format(time.DateOnly) + "; its tokens will be refused from then"; rep.Reasons[0] != want {
		t.Errorf("first reason %q\nwant           %q", rep.Reasons[0], want)
	}
	contains(t, "the reason", rep.Reason, "rejects the retired key "+drill.Abbrev(retired.Thumbprint),
		"until it is unpublished on "+retired.UnpublishAt.UTC().Format(time.DateOnly))
	for _, r := range rep.Results {
		ev := r.Evidence
		if r.Outcome == drill.Rejected && (ev.Status != 401 || !strings.Contains(ev.WWWAuthenticate, "invalid_token") || ev.TokenKID != r.KID) {
			t.Errorf("rejection of the %s key has evidence %+v", r.State, ev)
		}
		if (r.Accepted == nil) || *r.Accepted != (r.Outcome == drill.Accepted) {
			t.Errorf("%s: accepted %v with outcome %s", r.State, r.Accepted, r.Outcome)
		}
	}
	contains(t, "progress", progress, "pinning app to next key "+drill.Abbrev(next.Thumbprint)+" … rejected (401)",
		"primary key", "… accepted (200)", "cleanup: restored application pinned-api: no override")
	e.clean(t, "pinned-api", "")
}

// TestDrillStartupJWKS: an API that read the JWKS once at start-up takes
// every pre-published key, but not a fresh one; its override (the next key)
// is put back both times.
func TestDrillStartupJWKS(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t).rotate(t, false)
	e.createApp(t, adminapi.CreateAppRequest{Name: "startup-api", Audience: "api://startup"})
	pinned, err := e.admin.Override(ctx, "startup-api", adminapi.OverrideRequest{Next: true})
	if err != nil {
		t.Fatal(err)
	}
	prev := pinned.App.KeyOverride
	check, err := drilltest.Startup(ctx, e.url, "api://startup")
	if err != nil {
		t.Fatal(err)
	}
	api := serve(t, drilltest.API(check))

	rep, progress := e.run(t, ctx, drill.Config{App: "startup-api", API: api})
	wantVerdict(t, rep, drill.Ready, 0, progress)
	if got := outcomes(rep); !slices.Equal(got, []string{"next:accepted", "primary:accepted"}) || rep.PreviousOverride != prev {
		t.Fatalf("results %v, previous override %q", got, rep.PreviousOverride)
	}
	e.clean(t, "startup-api", prev)

	rep, progress = e.run(t, ctx, drill.Config{App: "startup-api", API: api, FreshKey: true})
	wantVerdict(t, rep, drill.NotReady, 1, progress)
	if got := outcomes(rep); !slices.Equal(got, []string{"next:accepted", "primary:accepted", "fresh:rejected"}) {
		t.Fatalf("results %v", got)
	}
	fresh := rep.Results[2]
	if rep.Reason != "does not refresh on an unknown key: an emergency rollover would make it refuse every token at once" ||
		fresh.Evidence.Status != 401 || len(fresh.Thumbprint) != 40 || len(fresh.Earlier) != 1 || fresh.Earlier[0].Status != 401 {
		t.Errorf("reason %q, fresh result %+v", rep.Reason, fresh)
	}
	contains(t, "progress", progress, "publishing a fresh transient key … "+fresh.Thumbprint,
		"waiting 5m10s for the application's refresh throttle before testing again the fresh key "+drill.Abbrev(fresh.Thumbprint)+", a key published moments ago … done",
		"retrying the fresh key "+drill.Abbrev(fresh.Thumbprint)+" … rejected (401)",
		"cleanup: restored application startup-api: override "+prev, "cleanup: withdrew the fresh transient key "+fresh.Thumbprint)
	e.clean(t, "startup-api", prev)
}

// TestDrillLibraryAPI: an API using keyroll's verify library takes every
// key, a fresh one included; an override to the retired key is put back.
func TestDrillLibraryAPI(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t).withRetired(t)
	e.createApp(t, adminapi.CreateAppRequest{Name: "lib-api", Audience: "api://lib"})
	retired := e.key(t, "retired")
	if _, err := e.admin.Override(ctx, "lib-api", adminapi.OverrideRequest{Key: retired.Thumbprint}); err != nil {
		t.Fatal(err)
	}
	api := serve(t, drilltest.LibraryAPI(e.libraryVerifier(t, "api://lib")))
	for _, fresh := range []bool{false, true} {
		rep, progress := e.run(t, ctx, drill.Config{App: "lib-api", API: api, FreshKey: fresh})
		wantVerdict(t, rep, drill.Ready, 0, progress)
		want := []string{"next:accepted", "primary:accepted", "retired:accepted"}
		if fresh {
			want = append(want, "fresh:accepted")
		}
		if got := outcomes(rep); !slices.Equal(got, want) {
			t.Fatalf("fresh %v: results %v", fresh, got)
		}
		for _, c := range rep.Controls {
			if c.Outcome != drill.Rejected || c.Evidence.Status != 401 {
				t.Errorf("control %s: %+v", c.Name, c)
			}
		}
		if len(rep.Controls) != 2 {
			t.Errorf("controls %+v", rep.Controls)
		}
		contains(t, "the reason", rep.Reason, "accepts every published key (next, primary, retired)")
		if fresh {
			contains(t, "the reason", rep.Reason, "and a fresh key")
		}
		e.clean(t, "lib-api", retired.Thumbprint)
	}
}

// TestDrillWeb: a web application signing users in with the library
// verifies every key's ID tokens, a fresh one included, with a temporary
// test user the drill deletes, or a given one it keeps.
func TestDrillWeb(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t).withRetired(t)
	url, _ := e.webApp(t, "portal", func(clientID string) drilltest.Check {
		return drilltest.Library(e.libraryVerifier(t, clientID))
	})
	rep, progress := e.run(t, ctx, drill.Config{App: "portal", Web: url, FreshKey: true, Expect: "Signed in as keyroll-drill-"})
	wantVerdict(t, rep, drill.Ready, 0, progress)
	if got := outcomes(rep); !slices.Equal(got, []string{"next:accepted", "primary:accepted", "retired:accepted", "fresh:accepted"}) {
		t.Fatalf("results %v", got)
	}
	for _, r := range rep.Results {
		hops := r.Evidence.Hops
		if len(hops) != 5 || r.Evidence.URL != url || r.Evidence.Status != 200 {
			t.Fatalf("%s key: %d hops, ended %d on %s: %+v", r.State, len(hops), r.Evidence.Status, r.Evidence.URL, hops)
		}
		if hops[2].Method != "POST" || hops[2].Status != 303 || !strings.Contains(hops[2].Location, "code=REDACTED") {
			t.Errorf("%s key: the form submission hop is %+v, want POST 303 with the code redacted", r.State, hops[2])
		}
	}
	users, err := e.admin.Users(ctx)
	if err != nil || len(users) != 0 {
		t.Errorf("test users left: %+v %v", users, err)
	}
	contains(t, "progress", progress, "creating temporary test user keyroll-drill-", "cleanup: deleted the temporary test user keyroll-drill-")
	e.clean(t, "portal", "")

	if _, err := e.admin.CreateUser(ctx, "alice", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	rep, progress = e.run(t, ctx, drill.Config{App: "portal", Web: url, User: "alice", Password: "correct horse battery", Expect: "Signed in as alice."})
	wantVerdict(t, rep, drill.Ready, 0, progress)
	if js, _ := json.Marshal(rep); strings.Contains(string(js), "correct horse") {
		t.Error("the report shows the password")
	}
	if users, _ := e.admin.Users(ctx); len(users) != 1 || users[0].Username != "alice" {
		t.Errorf("users after a drill with a given user: %+v", users)
	}
	e.clean(t, "portal", "")
}

// TestDrillWebPinned: a web application that pins the primary fails
// sign-in with the other keys; the evidence is its error page.
func TestDrillWebPinned(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t).rotate(t, false)
	primary := e.m.Snapshot().Primary.Cert
	url, _ := e.webApp(t, "legacy-portal", func(clientID string) drilltest.Check {
		c, err := drilltest.Pinned(e.url, clientID, primary, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		return c
	})
	rep, progress := e.run(t, ctx, drill.Config{App: "legacy-portal", Web: url, FreshKey: true})
	wantVerdict(t, rep, drill.NotReady, 1, progress)
	if got := outcomes(rep); !slices.Equal(got, []string{"next:rejected", "primary:accepted", "fresh:rejected"}) {
		t.Fatalf("results %v", got)
	}
	ev := rep.Results[0].Evidence
	if ev.Status != 401 || ev.Title != "Sign-in failed" || !strings.Contains(ev.Note, "after sign-in the application answered HTTP 401") {
		t.Errorf("evidence of the rejection: %+v", ev)
	}
	contains(t, "the reason", rep.Reason, "sign-in will fail from then", "an emergency rollover would break sign-in at once")
	e.clean(t, "legacy-portal", "")
}
