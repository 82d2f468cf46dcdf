package rows

import (
	"fmt"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// Event is an audit event as stored.
type Event struct {
	Time                             int64
	Actor, KID, Thumbprint, From, To string
	Reason, App                      string
}

// eventProblem says what makes e unstorable, or "". A key event has a
// valid To state; an application event (App set) has neither From nor To;
// a notice (a console sign-in, an administrator made) names no key, no
// application and no state, but an actor and a reason.
func eventProblem(e lifecycle.Event) string {
	switch {
	case e.KID == "" && e.App == "" && e.From == "" && e.To == "":
		if e.Actor == "" || e.Reason == "" {
			return "a notice without an actor or a reason"
		}
		return ""
	case e.App != "" && (e.From != "" || e.To != ""):
		return fmt.Sprintf("application event for %q has key states %q→%q", e.App, e.From, e.To)
	case e.App != "":
		return ""
	case e.From != "" && !e.From.Valid():
		return fmt.Sprintf("unknown from state %q", e.From)
	case !e.To.Valid():
		return fmt.Sprintf("unknown to state %q", e.To)
	}
	return ""
}

// EncodeEvent encodes e for writing; the error wraps store.ErrConflict.
func EncodeEvent(e lifecycle.Event) (Event, error) {
	if p := eventProblem(e); p != "" {
		return Event{}, fmt.Errorf("%w: event for key %q: %s", store.ErrConflict, e.KID, p)
	}
	n, err := Nanos(e.Time)
	if err != nil {
		return Event{}, fmt.Errorf("%w: event for key %q: %v", store.ErrConflict, e.KID, err)
	}
	return Event{Time: n, Actor: e.Actor, KID: e.KID, Thumbprint: e.Thumbprint,
		From: string(e.From), To: string(e.To), Reason: e.Reason, App: e.App}, nil
}

// EncodeEvents encodes each of events.
func EncodeEvents(events []lifecycle.Event) ([]Event, error) {
	out := make([]Event, 0, len(events))
	for _, e := range events {
		r, err := EncodeEvent(e)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Decode turns a stored row back into an event; the error wraps store.ErrCorrupt.
func (r Event) Decode() (lifecycle.Event, error) {
	e := lifecycle.Event{Time: FromNanos(r.Time), Actor: r.Actor, KID: r.KID, Thumbprint: r.Thumbprint,
		From: lifecycle.State(r.From), To: lifecycle.State(r.To), Reason: r.Reason, App: r.App}
	if p := eventProblem(e); p != "" {
		return lifecycle.Event{}, fmt.Errorf("%w: event for key %q: %s", store.ErrCorrupt, r.KID, p)
	}
	return e, nil
}
