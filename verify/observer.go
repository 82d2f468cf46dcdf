package verify

import "time"

// Observer receives events for logs and metrics. Methods are called
// synchronously: Verified on every verification (keep it cheap, e.g. an
// atomic counter), the others from the fetching goroutine.
type Observer interface {
	// Fetched reports one retrieval of a source.
	Fetched(FetchEvent)
	// Refreshed reports what a refresh (or the load of the persisted
	// cache) did to the key set.
	Refreshed(RefreshEvent)
	// Verified reports one verification and its result.
	Verified(VerifyEvent)
}

// FetchEvent describes one retrieval of a source.
type FetchEvent struct {
	Source      string
	Trigger     Trigger
	Duration    time.Duration // wall time the fetch took
	Bytes       int
	NotModified bool
	Err         error
}

// RefreshEvent describes the outcome of a refresh.
type RefreshEvent struct {
	Source      string
	Trigger     Trigger
	Outcome     Outcome
	Keys        int       // usable keys now served
	Skipped     []error   // keys of the new document left out, and why
	Fetched     time.Time // when the served set was last confirmed
	NextRefresh time.Time // when the next scheduled refresh is due
	Err         error     // why the document was refused or the fetch failed
	StoreErr    error     // why persisting the new set failed (the set is served anyway)
}

// VerifyEvent describes one verification.
type VerifyEvent struct {
	Issuer string // the verifier's configured issuer
	Result Result
	Err    error
}

// Trigger says why a refresh ran.
type Trigger uint8

// Triggers.
const (
	TriggerInitial   Trigger = iota // no keys yet
	TriggerScheduled                // the refresh interval (or max-age) elapsed
	TriggerMiss                     // a token named an unknown key
	TriggerManual                   // Cache.Refresh
	TriggerLoad                     // loading the persisted cache at start
)

// String returns the trigger's name ("miss", ...).
func (t Trigger) String() string {
	return [...]string{"initial", "scheduled", "miss", "manual", "load", "unknown"}[min(int(t), 5)]
}

// Outcome is what a refresh did.
type Outcome uint8

// Outcomes.
const (
	OutcomeUpdated   Outcome = iota // a new key set is served
	OutcomeUnchanged                // the source confirmed the served set
	OutcomeRejected                 // the document was unusable; the last good set keeps serving
	OutcomeFailed                   // the fetch failed; the last good set keeps serving
)

// String returns the outcome's name ("updated", ...).
func (o Outcome) String() string {
	return [...]string{"updated", "unchanged", "rejected", "failed", "unknown"}[min(int(o), 4)]
}

// ObserverFuncs adapts plain functions to [Observer]; nil fields are skipped.
type ObserverFuncs struct {
	Fetch   func(FetchEvent)
	Refresh func(RefreshEvent)
	Verify  func(VerifyEvent)
}

// Fetched calls f.Fetch.
func (f ObserverFuncs) Fetched(e FetchEvent) {
	if f.Fetch != nil {
		f.Fetch(e)
	}
}

// Refreshed calls f.Refresh.
func (f ObserverFuncs) Refreshed(e RefreshEvent) {
	if f.Refresh != nil {
		f.Refresh(e)
	}
}

// Verified calls f.Verify.
func (f ObserverFuncs) Verified(e VerifyEvent) {
	if f.Verify != nil {
		f.Verify(e)
	}
}

type nopObserver struct{}

func (nopObserver) Fetched(FetchEvent)     {}
func (nopObserver) Refreshed(RefreshEvent) {}
func (nopObserver) Verified(VerifyEvent)   {}

func observerOrNop(o Observer) Observer {
	if o == nil {
		return nopObserver{}
	}
	return o
}
