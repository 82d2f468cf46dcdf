package guard

import (
	"log/slog"

	"github.com/keyroll/keyroll/verify"
)

// fanout passes every event to each non-nil observer.
type fanout []verify.Observer

func (f fanout) Fetched(e verify.FetchEvent) {
	for _, o := range f {
		if o != nil {
			o.Fetched(e)
		}
	}
}

func (f fanout) Refreshed(e verify.RefreshEvent) {
	for _, o := range f {
		if o != nil {
			o.Refreshed(e)
		}
	}
}

func (f fanout) Verified(e verify.VerifyEvent) {
	for _, o := range f {
		if o != nil {
			o.Verified(e)
		}
	}
}

// logObserver logs refresh outcomes: changes at info, failures at warn.
type logObserver struct{ log *slog.Logger }

func (l logObserver) Fetched(verify.FetchEvent)   {}
func (l logObserver) Verified(verify.VerifyEvent) {}

func (l logObserver) Refreshed(e verify.RefreshEvent) {
	attrs := []any{"source", e.Source, "trigger", e.Trigger.String(), "keys", e.Keys,
		"next_refresh", e.NextRefresh}
	switch e.Outcome {
	case verify.OutcomeUpdated:
		l.log.Info("keys updated", append(attrs, "skipped", len(e.Skipped))...)
	case verify.OutcomeUnchanged:
		l.log.Debug("keys unchanged", attrs...)
	default:
		msg := "key refresh failed; serving the last good keys"
		if e.Keys == 0 {
			msg = "key refresh failed and there are no keys to serve: every token is refused until a refresh succeeds"
		}
		l.log.Warn(msg, append(attrs, "outcome", e.Outcome.String(), "err", e.Err)...)
	}
	if e.StoreErr != nil {
		l.log.Warn("could not persist the key cache", "err", e.StoreErr)
	}
}
