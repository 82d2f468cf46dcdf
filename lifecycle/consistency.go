package lifecycle

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ErrInconsistent is wrapped by every [StateError]: the key set is in a
// state the policy cannot keep rolling from.
var ErrInconsistent = errors.New("the key set cannot keep rolling")

// ProblemKind names one way a key set can be stuck.
type ProblemKind string

// The problems [Problems] finds.
const (
	TwoPrimaries    ProblemKind = "several-primaries" // more than one primary key
	NoPrimary       ProblemKind = "no-primary"        // keys exist but none is primary
	StuckNext       ProblemKind = "unpromotable-next" // a next key expires before its promotion
	SeveralNextKeys ProblemKind = "several-next"      // more than one (non-transient) next key
)

// Problem is one reason a key set cannot keep rolling.
type Problem struct {
	Kind        ProblemKind
	Thumbprints []string // the keys concerned
	Text        string   // what is wrong, in words an operator can act on
}

func (p Problem) String() string { return p.Text }

// StateError lists the problems of a key set. It wraps [ErrInconsistent].
type StateError struct{ Problems []Problem }

func (e *StateError) Error() string {
	texts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		texts[i] = p.Text
	}
	return ErrInconsistent.Error() + ": " + strings.Join(texts, "; ") + " (keyroll keys repair shows the fix)"
}

// Unwrap returns ErrInconsistent.
func (e *StateError) Unwrap() error { return ErrInconsistent }

// Problems returns every reason the key set cannot keep rolling: more than
// one primary (no change could ever be stored), keys but no primary, a
// next key whose certificate ends before its promotion date, or more than
// one next key waiting for promotion. Transient (drill) keys are never
// promoted and are not counted as next keys.
func Problems(keys []Key) []Problem {
	var out []Problem
	var primaries, nexts []string
	for _, k := range keys {
		switch {
		case k.State == Primary:
			primaries = append(primaries, k.Thumbprint)
		case k.State == Next && !k.Transient:
			nexts = append(nexts, k.Thumbprint)
			if !k.PromoteAt.IsZero() && !k.NotAfter.After(k.PromoteAt) {
				out = append(out, Problem{Kind: StuckNext, Thumbprints: []string{k.Thumbprint},
					Text: fmt.Sprintf("next key %s can never be promoted: its certificate ends %s, before its promotion on %s", k.Thumbprint, day(k.NotAfter), day(k.PromoteAt))})
			}
		}
	}
	if len(primaries) > 1 {
		out = append(out, Problem{Kind: TwoPrimaries, Thumbprints: primaries,
			Text: fmt.Sprintf("%d keys are primary (%s); the store refuses every change until one is", len(primaries), strings.Join(primaries, ", "))})
	}
	if len(primaries) == 0 && len(keys) > 0 {
		out = append(out, Problem{Kind: NoPrimary, Text: fmt.Sprintf("there are %d keys but no primary: nothing can sign", len(keys))})
	}
	if len(nexts) > 1 {
		out = append(out, Problem{Kind: SeveralNextKeys, Thumbprints: nexts,
			Text: fmt.Sprintf("%d next keys wait for promotion (%s); only one may", len(nexts), strings.Join(nexts, ", "))})
	}
	return out
}

// Consistent returns a *StateError for the problems of keys, or nil. With
// selfHealing, a missing primary the policy fixes on its own (automatic
// rollover on, or no key at all) is not a problem.
func Consistent(keys []Key, p Policy, now time.Time, selfHealing bool) error {
	var ps []Problem
	for _, pr := range Problems(keys) {
		if pr.Kind == NoPrimary && selfHealing {
			if a, ok := Due(keys, p, now); ok && (a.Kind == Promote || (a.Kind == Generate && a.Promote)) {
				continue
			}
		}
		ps = append(ps, pr)
	}
	if len(ps) == 0 {
		return nil
	}
	return &StateError{Problems: ps}
}

// Repair returns the smallest change that makes keys consistent, with its
// audit events: of several primaries the one promoted last stays primary and
// the others retire (still published, so what they signed stays valid); a
// next key that can never be promoted, or every next key but the oldest,
// expires; then, if there is no primary, the remaining next key is promoted,
// or else fresh (a new key the caller made) is added and promoted. needFresh
// reports that a fresh key is needed and was not given; nothing is returned
// then. keys is not modified.
func Repair(keys []Key, fresh *Key, p Policy, now time.Time, actor string) (out []Key, events []Event, needFresh bool, err error) {
	out = append([]Key(nil), keys...)
	emit := func(k Key, from State, reason string) {
		events = append(events, Event{Time: now, Actor: actor, KID: k.KID, Thumbprint: k.Thumbprint, From: from, To: k.State, Reason: "repair: " + reason})
	}
	// Several primaries: keep the one promoted last (then the latest certificate).
	keep := -1
	for i, k := range out {
		if k.State != Primary {
			continue
		}
		if keep < 0 || k.PromotedAt.After(out[keep].PromotedAt) ||
			(k.PromotedAt.Equal(out[keep].PromotedAt) && !k.NotAfter.Before(out[keep].NotAfter)) {
			keep = i
		}
	}
	for i, k := range out {
		if k.State == Primary && i != keep {
			out[i].State, out[i].RetiredAt = Retired, now
			emit(out[i], Primary, "one of several primaries; "+out[keep].Thumbprint+" stays primary")
		}
	}
	// Next keys: drop those that can never be promoted, then all but the oldest.
	var nexts []int
	for i, k := range out {
		if k.State != Next || k.Transient {
			continue
		}
		if !k.PromoteAt.IsZero() && !k.NotAfter.After(k.PromoteAt) {
			out[i].State, out[i].EndedAt = Expired, now
			emit(out[i], Next, "its certificate ends before its promotion date")
			continue
		}
		nexts = append(nexts, i)
	}
	slices.SortStableFunc(nexts, func(a, b int) int { return out[a].CreatedAt.Compare(out[b].CreatedAt) })
	for _, i := range nexts[min(1, len(nexts)):] {
		out[i].State, out[i].EndedAt = Expired, now
		emit(out[i], Next, "only one next key may wait; "+out[nexts[0]].Thumbprint+" stays")
	}
	if keep >= 0 || len(out) == 0 {
		return out, events, false, nil
	}
	var act Action
	switch {
	case len(nexts) > 0 && now.Before(out[nexts[0]].NotAfter):
		act = Action{Kind: Promote, KID: out[nexts[0]].KID, Urgent: true, Reason: "repair: there is no primary"}
	case fresh == nil:
		return nil, nil, true, nil
	default:
		act = Action{Kind: Generate, Promote: true, Urgent: true, Reason: "repair: there is no primary"}
	}
	out, more, err := Apply(out, act, fresh, now, actor, p)
	if err != nil {
		return nil, nil, false, err
	}
	return out, append(events, more...), false, nil
}
