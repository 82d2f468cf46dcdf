package sqlite

// This file is identical, but for its package clause, in store/sqlite and
// store/postgres: both backends store keys and events the same way.
// TestRowCodecInSync (in store/postgres) checks that the copies agree.

import (
	"fmt"
	"math"
	"reflect"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// keyRow is a key as stored: times are Unix nanoseconds, 0 for the zero time.
type keyRow struct {
	Seq                              int64
	KID, Alg, Thumbprint, State      string
	Cert                             []byte
	NotBefore, NotAfter, CreatedAt   int64
	PromoteAt, PromotedAt, RetiredAt int64
	EndedAt                          int64
	Urgent, Transient                bool
}

// eventRow is an audit event as stored.
type eventRow struct {
	Time                             int64
	Actor, KID, Thumbprint, From, To string
	Reason                           string
}

// nanos encodes t as Unix nanoseconds; the zero time is 0.
func nanos(t time.Time) (int64, error) {
	if t.IsZero() {
		return 0, nil
	}
	if t.Before(minTime) || t.After(maxTime) {
		return 0, fmt.Errorf("time %s is outside the storable range %d–%d", t.UTC().Format(time.RFC3339), minTime.Year(), maxTime.Year())
	}
	return t.UnixNano(), nil
}

var (
	minTime = time.Unix(0, math.MinInt64).UTC()
	maxTime = time.Unix(0, math.MaxInt64).UTC()
)

// fromNanos decodes Unix nanoseconds to a UTC time; 0 is the zero time.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// keyProblem says what makes k unstorable, or "".
func keyProblem(k lifecycle.Key) string {
	switch {
	case k.KID == "":
		return "empty kid"
	case !k.State.Valid():
		return fmt.Sprintf("unknown state %q", k.State)
	case k.Alg == "":
		return "empty alg"
	case k.Thumbprint == "":
		return "empty thumbprint"
	case len(k.Cert) == 0:
		return "empty certificate"
	case k.NotAfter.Before(k.NotBefore):
		return "not_after is before not_before"
	}
	return ""
}

func encodeKey(k lifecycle.Key) (keyRow, error) {
	if p := keyProblem(k); p != "" {
		return keyRow{}, fmt.Errorf("%w: key %q: %s", store.ErrConflict, k.KID, p)
	}
	r := keyRow{KID: k.KID, Alg: k.Alg, Thumbprint: k.Thumbprint, State: string(k.State),
		Cert: k.Cert, Urgent: k.Urgent, Transient: k.Transient}
	times := []struct {
		dst *int64
		t   time.Time
	}{{&r.NotBefore, k.NotBefore}, {&r.NotAfter, k.NotAfter}, {&r.CreatedAt, k.CreatedAt},
		{&r.PromoteAt, k.PromoteAt}, {&r.PromotedAt, k.PromotedAt}, {&r.RetiredAt, k.RetiredAt}, {&r.EndedAt, k.EndedAt}}
	for _, x := range times {
		n, err := nanos(x.t)
		if err != nil {
			return keyRow{}, fmt.Errorf("%w: key %q: %v", store.ErrConflict, k.KID, err)
		}
		*x.dst = n
	}
	return r, nil
}

func (r keyRow) decode() (lifecycle.Key, error) {
	k := lifecycle.Key{KID: r.KID, Alg: r.Alg, Thumbprint: r.Thumbprint, Cert: r.Cert,
		NotBefore: fromNanos(r.NotBefore), NotAfter: fromNanos(r.NotAfter), State: lifecycle.State(r.State),
		CreatedAt: fromNanos(r.CreatedAt), PromoteAt: fromNanos(r.PromoteAt), PromotedAt: fromNanos(r.PromotedAt),
		RetiredAt: fromNanos(r.RetiredAt), EndedAt: fromNanos(r.EndedAt), Urgent: r.Urgent, Transient: r.Transient}
	if p := keyProblem(k); p != "" {
		return lifecycle.Key{}, fmt.Errorf("%w: key %q (seq %d): %s", store.ErrCorrupt, r.KID, r.Seq, p)
	}
	return k, nil
}

// eventProblem says what makes e unstorable, or "".
func eventProblem(e lifecycle.Event) string {
	switch {
	case e.From != "" && !e.From.Valid():
		return fmt.Sprintf("unknown from state %q", e.From)
	case !e.To.Valid():
		return fmt.Sprintf("unknown to state %q", e.To)
	}
	return ""
}

func encodeEvent(e lifecycle.Event) (eventRow, error) {
	if p := eventProblem(e); p != "" {
		return eventRow{}, fmt.Errorf("%w: event for key %q: %s", store.ErrConflict, e.KID, p)
	}
	n, err := nanos(e.Time)
	if err != nil {
		return eventRow{}, fmt.Errorf("%w: event for key %q: %v", store.ErrConflict, e.KID, err)
	}
	return eventRow{Time: n, Actor: e.Actor, KID: e.KID, Thumbprint: e.Thumbprint,
		From: string(e.From), To: string(e.To), Reason: e.Reason}, nil
}

func (r eventRow) decode() (lifecycle.Event, error) {
	e := lifecycle.Event{Time: fromNanos(r.Time), Actor: r.Actor, KID: r.KID, Thumbprint: r.Thumbprint,
		From: lifecycle.State(r.From), To: lifecycle.State(r.To), Reason: r.Reason}
	if p := eventProblem(e); p != "" {
		return lifecycle.Event{}, fmt.Errorf("%w: event for key %q: %s", store.ErrCorrupt, r.KID, p)
	}
	return e, nil
}

// checkChange refuses what store.Diff lets through but the tables cannot
// hold: sealed bytes for a key that is not new, a thumbprint used twice.
func checkChange(c *store.Change, added []lifecycle.Key) error {
	isNew := make(map[string]bool, len(added))
	for _, k := range added {
		isNew[k.KID] = true
	}
	for kid := range c.Sealed {
		if !isNew[kid] {
			return fmt.Errorf("%w: sealed private key given for %q, which is not a new key", store.ErrConflict, kid)
		}
	}
	seen := make(map[string]string, len(c.Keys))
	for _, k := range c.Keys {
		if other, ok := seen[k.Thumbprint]; ok {
			return fmt.Errorf("%w: keys %q and %q share thumbprint %s", store.ErrConflict, other, k.KID, k.Thumbprint)
		}
		seen[k.Thumbprint] = k.KID
	}
	return nil
}

// cloneKeys deep-copies keys so that an update function that edits its
// argument in place cannot also edit the copy Diff compares against.
func cloneKeys(keys []lifecycle.Key) []lifecycle.Key {
	out := make([]lifecycle.Key, len(keys))
	for i, k := range keys {
		k.Cert = append([]byte(nil), k.Cert...)
		out[i] = k
	}
	return out
}

// plan is a checked change, encoded for writing.
type plan struct {
	added   []keyRow
	sealed  [][]byte // sealed[i] belongs to added[i]
	updated []keyRow
	events  []eventRow
}

// makePlan checks c against the keys it was computed from and encodes it.
func makePlan(old []lifecycle.Key, c *store.Change) (plan, error) {
	added, updated, err := store.Diff(old, c)
	if err != nil {
		return plan{}, err
	}
	if err := checkChange(c, added); err != nil {
		return plan{}, err
	}
	var p plan
	for _, k := range added {
		r, err := encodeKey(k)
		if err != nil {
			return plan{}, err
		}
		p.added = append(p.added, r)
		p.sealed = append(p.sealed, c.Sealed[k.KID])
	}
	prev := make(map[string]lifecycle.Key, len(old))
	for _, k := range old {
		prev[k.KID] = k
	}
	for _, k := range updated {
		r, err := encodeKey(k)
		if err != nil {
			return plan{}, err
		}
		if was, err := encodeKey(prev[k.KID]); err == nil && reflect.DeepEqual(was, r) {
			continue // the same instants in another time zone
		}
		p.updated = append(p.updated, r)
	}
	for _, e := range c.Events {
		r, err := encodeEvent(e)
		if err != nil {
			return plan{}, err
		}
		p.events = append(p.events, r)
	}
	return p, nil
}

// empty reports whether the plan writes nothing.
func (p plan) empty() bool { return len(p.added)+len(p.updated)+len(p.events) == 0 }
