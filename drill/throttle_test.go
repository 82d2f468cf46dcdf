package drill_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/drill"
	"github.com/keyroll/keyroll/drill/drilltest"
	"github.com/keyroll/keyroll/guard"
)

// guarded serves a test API behind keyroll guard with its default
// settings (one key fetch per 10 s window for unknown kids) on clk.
func (e *env) guarded(t *testing.T, audience string, clk clock.Clock) string {
	t.Helper()
	up, err := url.Parse(serve(t, drilltest.Open()))
	if err != nil {
		t.Fatal(err)
	}
	g, err := guard.New(guard.Config{Issuer: e.url, Audience: []string{audience}, Upstream: up, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, g.Handler())
}

// waiter is a Config.After that moves clk on by the wait and fires at
// once, and counts the waits.
type waiter struct {
	clk    *clock.Fake
	waited []time.Duration
}

func (w *waiter) after(d time.Duration) <-chan time.Time {
	w.waited = append(w.waited, d)
	w.clk.Advance(d)
	return immediately(d)
}

// TestDrillGuardTwice: two drills in a row against keyroll guard with
// its default settings, with keys rotate between, both say READY. The
// first drill's unpublished-key control spends the guard's 10 s window,
// so the second drill's first token under the next key (published a
// moment ago) is refused as throttled; the drill tests it again after the
// refresh wait and the guard, which does refresh, takes it. It is so
// whether the drill knows the key is new (published within the wait) or
// only that an earlier drill just ended (keys that look an hour old).
func TestDrillGuardTwice(t *testing.T) {
	for _, c := range []struct {
		name string
		skew time.Duration // the drill's clock against the issuer's
		why  string
	}{
		{"recent key", 0, "published "},
		{"after a drill", time.Hour, "after an earlier drill, whose calls may have spent the application's refresh window"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t)
			e.createApp(t, adminapi.CreateAppRequest{Name: "guarded-api", Audience: "api://guarded"})
			w := &waiter{clk: clock.NewFake(time.Now())}
			api := e.guarded(t, "api://guarded", w.clk)
			now := func() time.Time { return time.Now().Add(c.skew) }

			rep, progress := e.run(t, ctx, drill.Config{App: "guarded-api", API: api, Now: now, After: w.after})
			wantVerdict(t, rep, drill.Ready, 0, progress)
			if got := controls(rep); !slices.Equal(got, []string{"no token:rejected", "unknown key:rejected"}) {
				t.Fatalf("controls %v", got)
			}
			e.clean(t, "guarded-api", "")

			e.rotate(t, false)
			next := e.key(t, "next")
			rep, progress = e.run(t, ctx, drill.Config{App: "guarded-api", API: api, FreshKey: true, Now: now, After: w.after})
			wantVerdict(t, rep, drill.Ready, 0, progress)
			if got := outcomes(rep); !slices.Equal(got, []string{"next:accepted", "primary:accepted", "fresh:accepted"}) {
				t.Fatalf("results %v", got)
			}
			first := rep.Results[0]
			if len(first.Earlier) != 1 || first.Earlier[0].Status != 401 || !strings.Contains(first.Earlier[0].WWWAuthenticate, "throttled") ||
				!strings.Contains(first.Retried, c.why) {
				t.Errorf("the next key's first attempt %+v, retried %q: want a 401 for a throttled refresh, retried because %q", first.Earlier, first.Retried, c.why)
			}
			if !slices.Equal(w.waited, []time.Duration{drill.DefaultRefreshWait}) {
				t.Errorf("waited %v, want once the default %v", w.waited, drill.DefaultRefreshWait)
			}
			contains(t, "progress", progress, "before testing again the next key "+drill.Abbrev(next.Thumbprint)+", ",
				"retrying the next key "+drill.Abbrev(next.Thumbprint)+" … accepted (200)")
			e.clean(t, "guarded-api", "")
		})
	}
}

// TestDrillNeverRefreshes: an API that read the keys once still gets NOT
// READY for a next key published after it started, retried or not.
func TestDrillNeverRefreshes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.createApp(t, adminapi.CreateAppRequest{Name: "startup-api", Audience: "api://startup"})
	check, err := drilltest.Startup(ctx, e.url, "api://startup")
	if err != nil {
		t.Fatal(err)
	}
	api := serve(t, drilltest.API(check))
	rep, progress := e.run(t, ctx, drill.Config{App: "startup-api", API: api})
	wantVerdict(t, rep, drill.Ready, 0, progress)

	e.rotate(t, false)
	w := &waiter{clk: clock.NewFake(time.Now())}
	rep, progress = e.run(t, ctx, drill.Config{App: "startup-api", API: api, After: w.after})
	wantVerdict(t, rep, drill.NotReady, 1, progress)
	next := rep.Results[0]
	if next.State != "next" || next.Outcome != drill.Rejected || len(next.Earlier) != 1 || len(w.waited) != 1 {
		t.Errorf("next key %+v after %v waits: want rejected twice, one wait", next, w.waited)
	}
	contains(t, "the reason", rep.Reason, "rejects the next key "+drill.Abbrev(next.Thumbprint))
	e.clean(t, "startup-api", "")

	// An old key, no drill history to read: a rejection is final at once.
	w.waited = nil
	hidden := struct{ drill.Admin }{e.admin} // no History, no Recorder
	later := func() time.Time { return time.Now().Add(time.Hour) }
	rep, progress = e.run(t, ctx, drill.Config{Admin: hidden, App: "startup-api", API: api, Now: later, After: w.after})
	wantVerdict(t, rep, drill.NotReady, 1, progress)
	if len(w.waited) != 0 || len(rep.Results[0].Earlier) != 0 {
		t.Errorf("waited %v, earlier %+v: a rejection nothing explains is not retried", w.waited, rep.Results[0].Earlier)
	}
	e.clean(t, "startup-api", "")
}
