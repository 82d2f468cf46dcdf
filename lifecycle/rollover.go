package lifecycle

import (
	"fmt"
	"strings"
	"time"
)

// ActionKind says what an [Action] does.
type ActionKind string

// The kinds of action.
const (
	Generate ActionKind = "generate" // add a fresh key as next (and promote it at once if Action.Promote)
	Promote  ActionKind = "promote"  // make a next key primary; the old primary retires
	Expire   ActionKind = "expire"   // unpublish a key whose certificate or retention window ended
	Revoke   ActionKind = "revoke"   // withdraw a key now
)

// Action is one step the policy or an operator asks for.
type Action struct {
	Kind      ActionKind
	KID       string // the key acted on (Promote, Expire, Revoke)
	Promote   bool   // Generate: promote the new key at once
	Urgent    bool   // skip the promotion threshold
	Transient bool   // Generate: a drill key, never promoted, withdrawn after TransientLifetime
	Reason    string
}

// TransientLifetime bounds how long a transient (drill) key stays
// published, so that a drill that dies cannot leave one behind for long.
const TransientLifetime = time.Hour

func (a Action) String() string {
	s := string(a.Kind)
	if a.KID != "" {
		s += " " + a.KID
	}
	if a.Promote {
		s += " and promote"
	}
	if a.Urgent {
		s += " (urgent)"
	}
	return s + ": " + a.Reason
}

// Hold is the promotion gate's answer, passed in as data: the promotion of
// the next key KID waits for the applications in Waiting (by name). Gated
// says a gate was asked at all. The critical threshold always wins: a held
// key is promoted there, and the promotion's reason says whom it did not
// wait for any longer.
type Hold struct {
	KID     string
	Waiting []string
	Gated   bool
}

// Holds reports whether the hold keeps the key kid from being promoted by
// the promotion threshold.
func (h Hold) Holds(kid string) bool { return h.KID == kid && len(h.Waiting) > 0 }

// PromoteBy is when the next key is promoted at the latest, whatever a gate
// says: when the primary enters the critical threshold. Zero without a
// primary or with automatic rollover off.
func PromoteBy(keys []Key, p Policy) time.Time {
	pi := PrimaryIndex(keys)
	if pi < 0 || !p.AutoRollover {
		return time.Time{}
	}
	return keys[pi].NotAfter.Add(-p.CriticalThreshold)
}

// Due returns the most urgent action the policy requires at now, if any.
// Applying it and calling Due again yields the next one; a key set is settled
// when Due returns false.
func Due(keys []Key, p Policy, now time.Time) (Action, bool) { return DueHeld(keys, p, now, Hold{}) }

// DueHeld is [Due] with the promotion gate's answer: a next key the hold
// holds is not promoted by the promotion threshold, only by the critical
// threshold.
func DueHeld(keys []Key, p Policy, now time.Time, h Hold) (Action, bool) {
	for _, k := range keys {
		switch {
		case (k.State == Next || k.State == Retired) && !now.Before(k.NotAfter):
			return Action{Kind: Expire, KID: k.KID, Reason: "certificate expired " + day(k.NotAfter)}, true
		case k.State == Next && k.Transient && !now.Before(k.CreatedAt.Add(TransientLifetime)):
			return Action{Kind: Expire, KID: k.KID, Reason: "transient key outlived its drill"}, true
		case k.State == Retired && !now.Before(p.UnpublishAt(k)):
			return Action{Kind: Expire, KID: k.KID, Reason: "no token it signed can still be accepted"}, true
		case k.State == Primary && !p.AutoRollover && !now.Before(k.NotAfter):
			return Action{Kind: Expire, KID: k.KID, Reason: "certificate expired " + day(k.NotAfter) + " and automatic rollover is off"}, true
		}
	}
	pi, ni := PrimaryIndex(keys), NextIndex(keys)
	if pi < 0 {
		switch {
		case len(keys) == 0:
			return Action{Kind: Generate, Promote: true, Urgent: true, Reason: "first key of a new issuer"}, true
		case !p.AutoRollover:
			return Action{}, false
		case ni >= 0:
			return Action{Kind: Promote, KID: keys[ni].KID, Urgent: now.Before(keys[ni].CreatedAt.Add(p.PromotionThreshold)), Reason: "there is no primary"}, true
		default:
			return Action{Kind: Generate, Promote: true, Urgent: true, Reason: "there is no primary and no next key"}, true
		}
	}
	if !p.AutoRollover {
		return Action{}, false
	}
	primary := keys[pi]
	left := primary.NotAfter.Sub(now)
	if left <= p.CriticalThreshold {
		reason := fmt.Sprintf("critical threshold: the primary expires %s", day(primary.NotAfter))
		if ni >= 0 && h.Holds(keys[ni].KID) {
			reason += fmt.Sprintf("; promoted although the promotion gate still waited for %s", strings.Join(h.Waiting, ", "))
		}
		if ni >= 0 {
			return Action{Kind: Promote, KID: keys[ni].KID, Urgent: now.Before(keys[ni].CreatedAt.Add(p.PromotionThreshold)), Reason: reason}, true
		}
		return Action{Kind: Generate, Promote: true, Urgent: true, Reason: reason}, true
	}
	if ni >= 0 && !now.Before(keys[ni].PromoteAt) && !h.Holds(keys[ni].KID) {
		reason := "promotion threshold reached"
		if h.Gated && h.KID == keys[ni].KID {
			reason += "; every application the promotion gate watches has the key"
		}
		return Action{Kind: Promote, KID: keys[ni].KID, Reason: reason}, true
	}
	if ni < 0 && left <= p.GenerationThreshold {
		return Action{Kind: Generate, Reason: fmt.Sprintf("generation threshold: the primary expires %s", day(primary.NotAfter))}, true
	}
	return Action{}, false
}

// NextDue returns when [Due] will next return an action, given that nothing
// else changes; now itself when one is due already, and the zero time when
// nothing is ever due (automatic rollover off and no key to unpublish).
func NextDue(keys []Key, p Policy, now time.Time) time.Time {
	return NextDueHeld(keys, p, now, Hold{})
}

// NextDueHeld is [NextDue] with the promotion gate's answer: a held next
// key falls due at the critical threshold.
func NextDueHeld(keys []Key, p Policy, now time.Time, h Hold) time.Time {
	if _, ok := DueHeld(keys, p, now, h); ok {
		return now
	}
	var next time.Time
	consider := func(t time.Time) {
		if t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, k := range keys {
		switch k.State {
		case Next:
			consider(k.NotAfter)
			switch {
			case k.Transient:
				consider(k.CreatedAt.Add(TransientLifetime))
			case p.AutoRollover && !h.Holds(k.KID):
				consider(k.PromoteAt)
			}
		case Retired:
			consider(p.UnpublishAt(k))
		case Primary:
			if !p.AutoRollover {
				consider(k.NotAfter)
				continue
			}
			consider(k.NotAfter.Add(-p.CriticalThreshold))
			if NextIndex(keys) < 0 {
				consider(k.NotAfter.Add(-p.GenerationThreshold))
			}
		}
	}
	return next
}

// Apply performs a on keys at now and returns the new key set (a copy; keys is
// not modified) and the audit events. A Generate action adds fresh, which the
// caller made: new material, a kid never used before, a certificate starting now.
func Apply(keys []Key, a Action, fresh *Key, now time.Time, actor string, p Policy) ([]Key, []Event, error) {
	out := append([]Key(nil), keys...)
	var events []Event
	emit := func(k Key, from State, reason string) {
		events = append(events, Event{Time: now, Actor: actor, KID: k.KID, Thumbprint: k.Thumbprint, From: from, To: k.State, Reason: reason})
	}
	find := func(kid string) (int, error) {
		i := Find(out, kid)
		if i < 0 {
			return -1, fmt.Errorf("%w: %s", ErrUnknownKey, kid)
		}
		return i, nil
	}
	promote := func(i int, urgent bool, reason string) error {
		if out[i].State != Next {
			return fmt.Errorf("lifecycle: cannot promote %s: it is %s, not next", out[i].KID, out[i].State)
		}
		if pi := PrimaryIndex(out); pi >= 0 {
			out[pi].State, out[pi].RetiredAt = Retired, now
			emit(out[pi], Primary, "replaced by "+out[i].KID)
		}
		out[i].State, out[i].PromotedAt = Primary, now
		out[i].Urgent = urgent || now.Before(out[i].CreatedAt.Add(p.PromotionThreshold))
		emit(out[i], Next, reason)
		return nil
	}
	switch a.Kind {
	case Generate:
		if fresh == nil {
			return nil, nil, fmt.Errorf("lifecycle: generate needs a fresh key")
		}
		if Find(out, fresh.KID) >= 0 || (fresh.Thumbprint != "" && Find(out, fresh.Thumbprint) >= 0) {
			return nil, nil, fmt.Errorf("lifecycle: key %s is not fresh: its kid or certificate was used before", fresh.KID)
		}
		k := *fresh
		k.State, k.CreatedAt, k.PromoteAt = Next, now, now.Add(p.PromotionThreshold)
		k.PromotedAt, k.RetiredAt, k.EndedAt, k.Urgent, k.Transient = time.Time{}, time.Time{}, time.Time{}, false, a.Transient
		if a.Transient {
			if a.Promote {
				return nil, nil, fmt.Errorf("lifecycle: a transient key is never promoted")
			}
			k.PromoteAt = time.Time{}
		}
		out = append(out, k)
		emit(k, "", a.Reason)
		if a.Promote {
			if err := promote(len(out)-1, true, a.Reason); err != nil {
				return nil, nil, err
			}
		}
	case Promote:
		i, err := find(a.KID)
		if err != nil {
			return nil, nil, err
		}
		if err := promote(i, a.Urgent, a.Reason); err != nil {
			return nil, nil, err
		}
	case Expire, Revoke:
		i, err := find(a.KID)
		if err != nil {
			return nil, nil, err
		}
		if !out[i].State.Published() {
			return nil, nil, fmt.Errorf("%w: %s is already %s", ErrNotPublished, out[i].KID, out[i].State)
		}
		from := out[i].State
		if from == Primary && a.Kind == Revoke {
			return nil, nil, fmt.Errorf("lifecycle: cannot revoke the primary %s before a replacement is promoted: %w", out[i].KID, ErrNoPrimary)
		}
		out[i].State, out[i].EndedAt = Expired, now
		if a.Kind == Revoke {
			out[i].State = Revoked
		}
		emit(out[i], from, a.Reason)
	default:
		return nil, nil, fmt.Errorf("lifecycle: unknown action %q", a.Kind)
	}
	return out, events, nil
}

// Rotate returns the action for an operator's rotation: a next key now, or
// with urgent a fresh key promoted at once (AD FS Update-AdfsCertificate -Urgent).
func Rotate(keys []Key, urgent bool) (Action, error) {
	if urgent {
		return Action{Kind: Generate, Promote: true, Urgent: true, Reason: "urgent rotation"}, nil
	}
	if ni := NextIndex(keys); ni >= 0 {
		return Action{}, fmt.Errorf("%w: %s (%s), promoted %s; use an urgent rotation to replace the primary now",
			ErrNextExists, keys[ni].KID, keys[ni].Thumbprint, day(keys[ni].PromoteAt))
	}
	return Action{Kind: Generate, Reason: "manual rotation"}, nil
}

// RevokePlan returns the actions that revoke the key named by ref (thumbprint
// or kid). Revoking the primary first promotes a replacement: the next key if
// there is one, else a fresh key, which needs automatic rollover to be on.
func RevokePlan(keys []Key, p Policy, ref string) ([]Action, error) {
	i := Find(keys, ref)
	if i < 0 {
		return nil, fmt.Errorf("%w: %q matches no key's thumbprint or kid", ErrUnknownKey, ref)
	}
	k := keys[i]
	if !k.State.Published() {
		return nil, fmt.Errorf("%w: %s is already %s", ErrNotPublished, k.Thumbprint, k.State)
	}
	revoke := Action{Kind: Revoke, KID: k.KID, Reason: "revoked"}
	if k.State != Primary {
		return []Action{revoke}, nil
	}
	if ni := NextIndex(keys); ni >= 0 {
		return []Action{{Kind: Promote, KID: keys[ni].KID, Urgent: true, Reason: "the primary was revoked"}, revoke}, nil
	}
	if !p.AutoRollover {
		return nil, fmt.Errorf("%w: %s is the primary, there is no next key and automatic rollover is off; rotate first", ErrNoReplacement, k.Thumbprint)
	}
	return []Action{{Kind: Generate, Promote: true, Urgent: true, Reason: "the primary was revoked"}, revoke}, nil
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }
