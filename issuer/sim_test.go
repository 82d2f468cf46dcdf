package issuer

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// TestSimulateTenYears drives the issuer through ten simulated years of
// automatic rollovers with random urgent rotations, revocations and
// restarts, and checks the rollover invariants after every step.
func TestSimulateTenYears(t *testing.T) { simulate(t, false) }

// TestSimulateTenYearsGated is the same simulation with the evidence
// promotion gate on and four applications: one that fetches the keys at
// every step, one that fetches now and then (promotions wait for it), one
// that fetches through a stale cache (promotions wait for it until the
// critical threshold) and one that never fetches (never waited for). The
// invariants are the same; besides, the gate never lets the primary reach
// its expiry, and no policy promotion comes before its promotion threshold.
func TestSimulateTenYearsGated(t *testing.T) { simulate(t, true) }

func simulate(t *testing.T, gated bool) {
	// Deterministic: a fixed seed; KEYROLL_SIM_SEED explores others.
	seed := uint64(20260101)
	if v := os.Getenv("KEYROLL_SIM_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("KEYROLL_SIM_SEED: %v", err)
		}
		seed = n
	}
	t.Logf("seed %d (set KEYROLL_SIM_SEED to try another)", seed)
	rng := rand.New(rand.NewPCG(seed, 2026))
	ctx := context.Background()
	dir := t.TempDir()
	sealer := testKEK(t)
	clk := clock.NewFake(start)
	p := lifecycle.DefaultPolicy()
	st := openSQLite(t, dir)
	open := newManager
	if gated {
		open = newGatedManager
	}
	m := open(t, st, sealer, clk, p)
	defer func() { st.Close() }()
	var steady, lagging, stale string
	if gated {
		for _, name := range []string{"steady", "lagging", "stale", "never-fetches"} {
			app, _, err := m.CreateApp(ctx, AppSpec{Name: name}, "sim")
			if err != nil {
				t.Fatal(err)
			}
			switch name {
			case "steady":
				steady = app.ClientID
			case "lagging":
				lagging = app.ClientID
			case "stale":
				stale = app.ClientID
			}
		}
	}
	var held, forced int

	sim := newSimState()
	end := start.AddDate(10, 0, 0)
	var rollovers, urgent, revokes, restarts int
	for clk.Now().Before(end) {
		clk.Advance(time.Duration(6+rng.IntN(90)) * time.Hour)
		if gated {
			fetchNow(t, m, steady)
			if rng.IntN(4) == 0 {
				fetchNow(t, m, lagging)
			}
			// stale keeps fetching through a cache that never serves it
			// a next key: every promotion waits for it until critical.
			if err := m.Store().RecordFetches(ctx, []store.Fetch{{Day: clk.Now(), ClientID: stale,
				Document: store.DocMetadata, Count: 1, LastAt: clk.Now()}}); err != nil {
				t.Fatal(err)
			}
		}
		ev, err := m.Check(ctx)
		if err != nil {
			t.Fatalf("%s: check: %v", clk.Now(), err)
		}
		for _, e := range ev {
			if e.To == lifecycle.Primary && strings.Contains(e.Reason, "promotion gate still waited") {
				forced++
			}
		}
		if h := m.Hold(); gated && h.Holds(h.KID) {
			if slices.Contains(h.Waiting, "never-fetches") {
				t.Fatalf("%s: the gate waits for an application that never fetched keys: %v", clk.Now(), h.Waiting)
			}
			if i := lifecycle.Find(m.Snapshot().Keys, h.KID); i >= 0 && !clk.Now().Before(m.Snapshot().Keys[i].PromoteAt) {
				held++ // due by the promotion threshold, and waiting
			}
		}
		operatorUrgent := false
		switch r := rng.IntN(200); {
		case r < 2:
			if _, err := m.Rotate(ctx, true, "sim"); err != nil {
				t.Fatalf("urgent rotate: %v", err)
			}
			urgent++
			operatorUrgent = true
		case r < 4:
			pub := m.Snapshot().Published
			k := pub[rng.IntN(len(pub))]
			if _, err := m.Revoke(ctx, k.Thumbprint, "sim"); err != nil {
				t.Fatalf("revoke %s (%s): %v", k.KID, k.State, err)
			}
			sim.revoked[k.KID] = true
			revokes++
			operatorUrgent = true
		case r < 7:
			st.Close()
			st = openSQLite(t, dir)
			m = open(t, st, sealer, clk, p)
			restarts++
		}
		rollovers += sim.check(t, m, clk.Now(), operatorUrgent)
	}
	t.Logf("10 years: %d promotions, %d urgent rotations, %d revocations, %d restarts, %d keys", rollovers, urgent, revokes, restarts, len(sim.seen))
	if gated {
		t.Logf("promotion gate: held at %d checks, %d promotions forced by the critical threshold", held, forced)
		if held == 0 || forced == 0 {
			t.Fatalf("the gate never held (%d) or was never overruled (%d): the simulation does not exercise it", held, forced)
		}
	}
	if rollovers < 10 {
		t.Fatalf("only %d promotions in ten years", rollovers)
	}
}

// simState remembers what the simulation observed.
type simState struct {
	seen       map[string]lifecycle.Key // every key ever seen, as first seen
	lastSigned map[string]time.Time     // last time each key was observed as primary
	revoked    map[string]bool
	lastPrim   string
}

func newSimState() *simState {
	return &simState{seen: map[string]lifecycle.Key{}, lastSigned: map[string]time.Time{}, revoked: map[string]bool{}}
}

// check asserts the invariants at now and returns 1 if the primary changed.
func (s *simState) check(t *testing.T, m *Manager, now time.Time, operatorUrgent bool) int {
	t.Helper()
	snap := m.Snapshot()
	all, _, err := m.cfg.Store.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Exactly one primary.
	var primaries []lifecycle.Key
	for _, k := range all {
		if k.State == lifecycle.Primary {
			primaries = append(primaries, k)
		}
	}
	if len(primaries) != 1 {
		t.Fatalf("%s: %d primaries", now, len(primaries))
	}
	prim := primaries[0]
	if !now.Before(prim.NotAfter) {
		t.Fatalf("%s: the primary %s expired on %s", now, prim.KID, prim.NotAfter)
	}
	// Published for at least the promotion threshold before signing, unless urgent.
	if !prim.Urgent && s.lastPrim != "" && prim.PromotedAt.Sub(prim.CreatedAt) < m.cfg.Policy.PromotionThreshold {
		t.Fatalf("%s: %s signs after %s of publication", now, prim.KID, prim.PromotedAt.Sub(prim.CreatedAt))
	}
	s.lastSigned[prim.KID] = now
	// No key lost, none altered.
	present := map[string]bool{}
	for _, k := range all {
		present[k.KID] = true
		if first, ok := s.seen[k.KID]; ok {
			if first.Thumbprint != k.Thumbprint || string(first.Cert) != string(k.Cert) {
				t.Fatalf("%s: key %s changed its certificate", now, k.KID)
			}
		} else {
			s.seen[k.KID] = k
		}
	}
	for kid := range s.seen {
		if !present[kid] {
			t.Fatalf("%s: key %s was lost", now, kid)
		}
	}
	// A key that signed stays published until its tokens can no longer be
	// accepted anywhere (unless it was revoked).
	window := m.cfg.Policy.RetentionWindow()
	for _, k := range all {
		signed, ok := s.lastSigned[k.KID]
		mustUntil := signed.Add(window)
		if k.NotAfter.Before(mustUntil) {
			mustUntil = k.NotAfter
		}
		if ok && !k.State.Published() && !s.revoked[k.KID] && now.Before(mustUntil) {
			t.Fatalf("%s: %s unpublished (%s) but tokens it signed at %s may be accepted until %s", now, k.KID, k.State, signed, mustUntil)
		}
	}
	// The JWKS publishes exactly the published keys.
	var doc struct {
		Keys []struct{ Kid string } `json:"keys"`
	}
	if err := json.Unmarshal(snap.JWKS, &doc); err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, k := range doc.Keys {
		got = append(got, k.Kid)
	}
	for _, k := range lifecycle.PublishedKeys(all) {
		want = append(want, k.KID)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("%s: JWKS has %v, published keys are %v", now, got, want)
	}
	if prim.KID != s.lastPrim {
		// Only an operator's urgent rotation or revocation (or the very
		// first key) may promote a key that was not published long enough.
		if prim.Urgent && !operatorUrgent && s.lastPrim != "" {
			t.Fatalf("%s: %s was promoted urgently without an operator asking", now, prim.KID)
		}
		s.lastPrim = prim.KID
		return 1
	}
	return 0
}
