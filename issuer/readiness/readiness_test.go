package readiness

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func fixture() Input {
	p := lifecycle.DefaultPolicy()
	keys := []lifecycle.Key{
		{KID: "old", Thumbprint: "AAAA000000000000000000000000000000000001", State: lifecycle.Retired, RetiredAt: now.Add(-24 * time.Hour), NotAfter: now.AddDate(0, 0, 10)},
		{KID: "prim", Thumbprint: "BBBB000000000000000000000000000000000002", State: lifecycle.Primary, NotAfter: now.AddDate(0, 0, 15)},
		{KID: "next", Thumbprint: "CCCC000000000000000000000000000000000003", State: lifecycle.Next, CreatedAt: now.Add(-time.Hour), PromoteAt: now.AddDate(0, 0, 4), NotAfter: now.AddDate(1, 0, 0)},
	}
	return Input{Now: now, Policy: p, Keys: keys, Within: 7 * 24 * time.Hour}
}

func app(name string) store.Application { return store.Application{Name: name, ClientID: "id-" + name} }

func fetched(name, nextKID string, at time.Time) store.Fetch {
	return store.Fetch{Day: store.FetchDay(at), ClientID: "id-" + name, Document: store.DocJWKS, Count: 1, LastAt: at, NextKID: nextKID}
}

func drilled(name, verdict string, at time.Time, keys ...store.DrillKey) store.DrillRecord {
	return store.DrillRecord{ClientID: "id-" + name, Verdict: verdict, Finished: at, Keys: keys}
}

func key(tp, state, outcome string) store.DrillKey {
	return store.DrillKey{Thumbprint: tp, State: state, Outcome: outcome}
}

func TestEvaluate(t *testing.T) {
	in := fixture()
	old, prim, next := in.Keys[0].Thumbprint, in.Keys[1].Thumbprint, in.Keys[2].Thumbprint
	pinnedOld := app("pinned")
	pinnedOld.KeyThumbprint = old
	in.Apps = []store.Application{app("drilled-next"), app("fetched"), app("stale"), app("refused"), app("refused-then-fixed"),
		app("silent"), pinnedOld, app("never-drilled"), app("far")}
	in.Fetches = []store.Fetch{
		fetched("fetched", "next", now.Add(-time.Minute)),
		fetched("stale", "", now.Add(-48*time.Hour)),
		fetched("never-drilled", "next", now.Add(-time.Minute)),
		fetched("pinned", "next", now.Add(-time.Minute)),
	}
	// Newest first.
	in.Drills = []store.DrillRecord{
		drilled("refused-then-fixed", "ready", now.Add(-time.Hour), key(next, "next", "accepted"), key(prim, "primary", "accepted")),
		drilled("refused-then-fixed", "not ready", now.Add(-2*time.Hour), key(next, "next", "rejected"), key(prim, "primary", "accepted")),
		drilled("drilled-next", "ready", now.Add(-time.Hour), key(next, "next", "accepted"), key(prim, "primary", "accepted")),
		drilled("refused", "not ready", now.Add(-time.Hour), key(next, "next", "rejected"), key(prim, "primary", "accepted")),
		drilled("fetched", "ready", now.AddDate(0, -1, 0), key(old, "primary", "accepted")),
		drilled("stale", "ready", now.AddDate(0, -1, 0), key(old, "primary", "accepted")),
		drilled("pinned", "ready", now.AddDate(0, -1, 0), key(old, "primary", "accepted")),
		drilled("far", "ready", now.AddDate(0, -1, 0), key(old, "primary", "accepted")),
	}
	want := map[string]struct {
		v      Verdict
		reason string
	}{
		"drilled-next":       {Ready, "accepted the next key"},
		"fetched":            {Ready, "fetched the next key"},
		"stale":              {AtRisk, "has not fetched the next key CCCC…0003, which becomes primary on 2026-03-05"},
		"refused":            {NotReady, "refused the next key CCCC…0003, which becomes primary on 2026-03-05"},
		"refused-then-fixed": {Ready, "accepted the next key"},
		"silent":             {Unknown, "no evidence"},
		"pinned":             {AtRisk, "pinned to the retired key AAAA…0001, unpublished on"},
		"never-drilled":      {AtRisk, "never drilled"},
		"far":                {AtRisk, "has not fetched"},
	}
	got := Evaluate(in)
	for _, a := range got {
		w := want[a.App]
		if a.Verdict != w.v || !strings.Contains(a.Reason, w.reason) {
			t.Errorf("%s: %s (%s), want %s (…%s…)", a.App, a.Verdict, a.Reason, w.v, w.reason)
		}
	}
	if ExitCode(got) != 2 {
		t.Errorf("exit code %d with an app not ready", ExitCode(got))
	}
	// Further from the promotion than the window, not fetching is not yet a risk.
	in.Within = time.Hour
	for _, a := range Evaluate(in) {
		if a.App == "far" && a.Verdict != Unknown {
			t.Errorf("far with a 1h window: %s (%s)", a.Verdict, a.Reason)
		}
	}
}

func TestHold(t *testing.T) {
	in := fixture()
	next := in.Keys[2]
	in.Apps = []store.Application{app("fetched"), app("drilled"), app("lagging"), app("silent"), app("gone-quiet")}
	in.Fetches = []store.Fetch{
		fetched("fetched", "next", now.Add(-time.Minute)),
		fetched("drilled", "", now.Add(-time.Hour)),
		fetched("lagging", "", now.Add(-time.Hour)),
		fetched("gone-quiet", "", now.Add(-GateWindow-time.Hour)),
	}
	in.Drills = []store.DrillRecord{drilled("drilled", "ready", now, key(next.Thumbprint, "next", "accepted"))}
	kid, waiting := Hold(in)
	if kid != "next" || !slices.Equal(waiting, []string{"lagging"}) {
		t.Fatalf("Hold = %s, %v; want next, [lagging]", kid, waiting)
	}
	in.Keys = in.Keys[:2]
	if kid, waiting := Hold(in); kid != "" || waiting != nil {
		t.Fatalf("Hold without a next key = %q, %v", kid, waiting)
	}
}
