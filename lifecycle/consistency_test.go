package lifecycle

import (
	"errors"
	"testing"
)

func TestProblemsAndRepair(t *testing.T) {
	p := DefaultPolicy()
	now := date("2026-03-01")
	f := &keyFactory{}
	keys, _ := settle(t, nil, p, now.AddDate(0, -2, 0), f)
	if Consistent(keys, p, now, false) != nil {
		t.Fatalf("a settled key set is inconsistent: %v", Consistent(keys, p, now, false))
	}
	second := *f.make(now.AddDate(0, -1, 0), p)
	second.State, second.PromotedAt = Primary, now.AddDate(0, -1, 0)
	stuck := *f.make(now, p)
	stuck.State, stuck.CreatedAt, stuck.PromoteAt, stuck.NotAfter = Next, now, now.Add(5*Day), now.Add(Day)
	bad := append(append([]Key(nil), keys...), second, stuck)

	err := Consistent(bad, p, now, true)
	var se *StateError
	if !errors.As(err, &se) || !errors.Is(err, ErrInconsistent) {
		t.Fatalf("Consistent = %v, want a StateError", err)
	}
	kinds := map[ProblemKind]bool{}
	for _, pr := range se.Problems {
		kinds[pr.Kind] = true
	}
	if !kinds[TwoPrimaries] || !kinds[StuckNext] || len(se.Problems) != 2 {
		t.Fatalf("problems = %+v, want two primaries and an unpromotable next key", se.Problems)
	}

	fixed, events, needFresh, err := Repair(bad, nil, p, now, "admin")
	if err != nil || needFresh {
		t.Fatalf("Repair: %v (needFresh %v)", err, needFresh)
	}
	if err := Consistent(fixed, p, now, false); err != nil {
		t.Fatalf("after repair: %v", err)
	}
	if len(events) != 2 || fixed[PrimaryIndex(fixed)].KID != second.KID {
		t.Fatalf("repair events = %v; primary %s, want the one promoted last (%s)", events, fixed[PrimaryIndex(fixed)].KID, second.KID)
	}

	// No primary at all, automatic rollover off: a fresh key is needed.
	p.AutoRollover = false
	none := append([]Key(nil), fixed...)
	for i := range none {
		if none[i].State == Primary {
			none[i].State = Expired
		}
	}
	if Consistent(none, p, now, true) == nil {
		t.Fatal("no primary with rollover off passes")
	}
	if _, _, needFresh, _ := Repair(none, nil, p, now, "admin"); !needFresh {
		t.Fatal("Repair without a primary or next key does not ask for a fresh key")
	}
	out, _, _, err := Repair(none, f.make(now, p), p, now, "admin")
	if err != nil || Consistent(out, p, now, false) != nil {
		t.Fatalf("Repair with a fresh key: %v, %v", err, Consistent(out, p, now, false))
	}
}
