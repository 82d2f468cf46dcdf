// Package readiness judges, from evidence alone, whether each application
// of an issuer is ready for its next key rollover, and which applications
// the promotion of the next key waits for. It is pure: the evidence (key
// fetches rolled up per day, drill history), the keys, the applications,
// the policy and the time come in as data.
//
// # Verdicts
//
// In order of precedence:
//
//   - [NotReady]: the latest drill that decided on the primary or the next
//     key refused it: that key signs, or will.
//   - [Unknown]: no evidence at all: it never fetched the keys through its
//     URL (?appid=) and was never drilled.
//   - [AtRisk]: it is pinned to a key that is going away (retired, no
//     longer published, or the primary while a next key waits).
//   - [Ready]: a drill accepted the next key (the primary when there is no
//     next key), or it fetched a key set holding the next key and some
//     drill found it ready.
//   - [AtRisk]: it has not fetched the next key and that key is promoted
//     within the warning window; or it was never drilled; or no drill ever
//     found it ready.
//   - [Unknown]: otherwise (it has not fetched the next key yet, and the
//     promotion is further away than the window).
package readiness

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// Verdict is an application's readiness for the next rollover.
type Verdict string

// The verdicts, best first.
const (
	Ready    Verdict = "READY"
	AtRisk   Verdict = "AT RISK"
	NotReady Verdict = "NOT READY"
	Unknown  Verdict = "UNKNOWN"
)

// Verdicts lists every verdict, for metrics.
var Verdicts = []Verdict{Ready, AtRisk, NotReady, Unknown}

// GateWindow is how recently an application must have fetched keys for the
// promotion gate to wait for it.
const GateWindow = 30 * 24 * time.Hour

// Input is the evidence and the state it is judged against.
type Input struct {
	Now    time.Time
	Policy lifecycle.Policy
	Keys   []lifecycle.Key // every key
	Apps   []store.Application
	// Fetches are the rollups since at least GateWindow ago.
	Fetches []store.Fetch
	// Drills are every application's drill records, newest first.
	Drills []store.DrillRecord
	// Within is the warning window: an application that has not fetched
	// the next key is at risk once its promotion is this close.
	Within time.Duration
}

// App is one application's readiness.
type App struct {
	App, ClientID, Protocol string
	// Override is the thumbprint the application is pinned to ("" none);
	// OverrideState its key's state and OverrideUntil when that key stops
	// being published (zero when unknown or not scheduled).
	Override      string
	OverrideState string
	OverrideUntil time.Time
	// LastKeyFetch is its latest fetch of the JWKS or the metadata
	// through its URL (zero: none recorded).
	LastKeyFetch time.Time
	// NextKID and PromoteAt name the next key, if any; HasNextKey says
	// whether the application fetched a key set holding it (nil: no next key).
	NextKID    string
	PromoteAt  time.Time
	HasNextKey *bool
	LastDrill  *Drill // its most recent drill, nil if never drilled
	Verdict    Verdict
	Reason     string
}

// Drill summarises a drill record.
type Drill struct {
	ID       int64
	Finished time.Time
	Verdict  string
	// ForCurrentKeys: it tested the current primary or next key.
	ForCurrentKeys bool
}

// evidence is what is known of one application.
type evidence struct {
	lastFetch   time.Time
	fetchedKIDs map[string]time.Time // next kid served → latest such fetch
	drills      []store.DrillRecord  // newest first
}

func gather(in Input) map[string]*evidence {
	ev := map[string]*evidence{}
	get := func(id string) *evidence {
		e := ev[id]
		if e == nil {
			e = &evidence{fetchedKIDs: map[string]time.Time{}}
			ev[id] = e
		}
		return e
	}
	for _, f := range in.Fetches {
		if f.ClientID == "" || !f.Document.HasKeys() {
			continue
		}
		e := get(f.ClientID)
		if f.LastAt.After(e.lastFetch) {
			e.lastFetch = f.LastAt
		}
		if f.NextKID != "" && f.LastAt.After(e.fetchedKIDs[f.NextKID]) {
			e.fetchedKIDs[f.NextKID] = f.LastAt
		}
	}
	for _, d := range in.Drills {
		e := get(d.ClientID)
		e.drills = append(e.drills, d)
	}
	return ev
}

// latestOutcome is the most recent decided outcome of a drill for the key
// with thumbprint tp, and the drill.
func (e *evidence) latestOutcome(tp string) (string, *store.DrillRecord) {
	for i, d := range e.drills {
		for _, k := range d.Keys {
			if k.Thumbprint == tp && k.State != "fresh" && (k.Outcome == "accepted" || k.Outcome == "rejected") {
				return k.Outcome, &e.drills[i]
			}
		}
	}
	return "", nil
}

func (e *evidence) readyDrill() *store.DrillRecord {
	for i, d := range e.drills {
		if d.Verdict == "ready" {
			return &e.drills[i]
		}
	}
	return nil
}

// Evaluate judges every application.
func Evaluate(in Input) []App {
	ev := gather(in)
	var primary, next *lifecycle.Key
	if i := lifecycle.PrimaryIndex(in.Keys); i >= 0 {
		primary = &in.Keys[i]
	}
	if i := lifecycle.NextIndex(in.Keys); i >= 0 {
		next = &in.Keys[i]
	}
	out := make([]App, 0, len(in.Apps))
	for _, a := range in.Apps {
		e := ev[a.ClientID]
		if e == nil {
			e = &evidence{fetchedKIDs: map[string]time.Time{}}
		}
		r := App{App: a.Name, ClientID: a.ClientID, Protocol: string(a.Proto()), Override: a.KeyThumbprint, LastKeyFetch: e.lastFetch}
		if next != nil {
			_, has := e.fetchedKIDs[next.KID]
			r.NextKID, r.PromoteAt, r.HasNextKey = next.KID, next.PromoteAt, &has
		}
		if len(e.drills) > 0 {
			d := e.drills[0]
			r.LastDrill = &Drill{ID: d.ID, Finished: d.Finished, Verdict: d.Verdict}
			for _, k := range d.Keys {
				if (primary != nil && k.Thumbprint == primary.Thumbprint) || (next != nil && k.Thumbprint == next.Thumbprint) {
					r.LastDrill.ForCurrentKeys = true
				}
			}
		}
		r.Verdict, r.Reason = judge(in, &r, e, primary, next)
		out = append(out, r)
	}
	return out
}

func judge(in Input, r *App, e *evidence, primary, next *lifecycle.Key) (Verdict, string) {
	for _, k := range []*lifecycle.Key{next, primary} {
		if k == nil {
			continue
		}
		if o, d := e.latestOutcome(k.Thumbprint); o == "rejected" {
			when := "signs every token now"
			if k.State == lifecycle.Next {
				when = "becomes primary on " + day(k.PromoteAt)
			}
			return NotReady, fmt.Sprintf("the drill of %s refused the %s key %s, which %s", day(d.Finished), k.State, abbrev(k.Thumbprint), when)
		}
	}
	if e.lastFetch.IsZero() && len(e.drills) == 0 {
		return Unknown, "no evidence: it never fetched the keys through its URL (?appid=) and was never drilled"
	}
	if why := pinnedAway(in, r, primary, next); why != "" {
		return AtRisk, why
	}
	target := next
	if target == nil {
		target = primary
	}
	ready := e.readyDrill()
	if target != nil {
		if o, d := e.latestOutcome(target.Thumbprint); o == "accepted" {
			return Ready, fmt.Sprintf("the drill of %s accepted the %s key %s", day(d.Finished), target.State, abbrev(target.Thumbprint))
		}
	}
	if next != nil {
		at, fetched := e.fetchedKIDs[next.KID]
		switch {
		case fetched && ready != nil:
			return Ready, fmt.Sprintf("it fetched the next key %s on %s and the drill of %s found it ready", abbrev(next.Thumbprint), day(at), day(ready.Finished))
		case !fetched && next.PromoteAt.Sub(in.Now) <= in.Within:
			return AtRisk, fmt.Sprintf("it has not fetched the next key %s, which becomes primary on %s", abbrev(next.Thumbprint), day(next.PromoteAt))
		}
	} else if !e.lastFetch.IsZero() && ready != nil {
		return Ready, fmt.Sprintf("it fetched the keys on %s and the drill of %s found it ready", day(e.lastFetch), day(ready.Finished))
	}
	switch {
	case len(e.drills) == 0:
		return AtRisk, "it was never drilled (keyroll drill)"
	case ready == nil:
		return AtRisk, fmt.Sprintf("no drill found it ready (the last, on %s, says %s)", day(e.drills[0].Finished), e.drills[0].Verdict)
	}
	return Unknown, fmt.Sprintf("it has not fetched the next key %s yet; it becomes primary on %s", abbrev(next.Thumbprint), day(next.PromoteAt))
}

// pinnedAway says why the application's override key is going away, or "".
func pinnedAway(in Input, r *App, primary, next *lifecycle.Key) string {
	if r.Override == "" {
		return ""
	}
	i := lifecycle.Find(in.Keys, r.Override)
	if i < 0 {
		return fmt.Sprintf("it is pinned to %s, which is not a key of this issuer: the primary signs instead", abbrev(r.Override))
	}
	k := in.Keys[i]
	r.OverrideState = string(k.State)
	switch {
	case !k.State.Published():
		return fmt.Sprintf("it is pinned to %s, which is %s: the primary signs instead", abbrev(k.Thumbprint), k.State)
	case k.State == lifecycle.Retired:
		r.OverrideUntil = in.Policy.UnpublishAt(k)
		return fmt.Sprintf("it is pinned to the retired key %s, unpublished on %s", abbrev(k.Thumbprint), day(r.OverrideUntil))
	case k.State == lifecycle.Primary && next != nil:
		r.OverrideUntil = k.NotAfter
		return fmt.Sprintf("it is pinned to the primary %s, which retires when the next key %s is promoted on %s", abbrev(k.Thumbprint), abbrev(next.Thumbprint), day(next.PromoteAt))
	case k.State == lifecycle.Primary || k.State == lifecycle.Next:
		r.OverrideUntil = k.NotAfter
	}
	return ""
}

// Hold is the promotion gate's answer: the next key and the applications
// its promotion waits for (fetched keys within GateWindow, but neither
// fetched this key nor passed a drill with it), by name.
func Hold(in Input) (kid string, waiting []string) {
	ni := lifecycle.NextIndex(in.Keys)
	if ni < 0 {
		return "", nil
	}
	next := in.Keys[ni]
	ev := gather(in)
	for _, a := range in.Apps {
		e := ev[a.ClientID]
		if e == nil || e.lastFetch.IsZero() || in.Now.Sub(e.lastFetch) > GateWindow {
			continue
		}
		if _, ok := e.fetchedKIDs[next.KID]; ok {
			continue
		}
		if o, _ := e.latestOutcome(next.Thumbprint); o == "accepted" {
			continue
		}
		waiting = append(waiting, a.Name)
	}
	slices.Sort(waiting)
	return next.KID, waiting
}

// Counts returns how many applications have each verdict.
func Counts(apps []App) map[Verdict]int {
	out := map[Verdict]int{}
	for _, a := range apps {
		out[a.Verdict]++
	}
	return out
}

// ExitCode is keyroll readiness's exit code: 0 when every application is
// ready, 2 when some is not ready, else 1.
func ExitCode(apps []App) int {
	c := Counts(apps)
	switch {
	case c[NotReady] > 0:
		return 2
	case c[AtRisk]+c[Unknown] > 0:
		return 1
	}
	return 0
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

func abbrev(tp string) string {
	if len(tp) <= 12 {
		return tp
	}
	return tp[:4] + "…" + tp[len(tp)-4:]
}

// Names joins application names for messages.
func Names(names []string) string {
	if len(names) > 5 {
		return strings.Join(names[:5], ", ") + fmt.Sprintf(" and %d more", len(names)-5)
	}
	return strings.Join(names, ", ")
}
