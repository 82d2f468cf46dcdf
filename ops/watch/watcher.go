package watch

import (
	"context"
	"time"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/ops"
)

// Observer sees every fetch and event; [Metrics] implements it.
type Observer interface {
	Fetched(provider string, pub *ops.Published, err error, now time.Time)
	Emitted(e Event)
}

// Watcher checks providers and reports what changed.
type Watcher struct {
	Sources   []ops.Source
	Load      func(context.Context, ops.Source) (*ops.Published, error)
	StatePath string
	Clock     clock.Clock
	Config    Config
	// Emit receives each event (the command prints it); nil discards.
	Emit func(Event)
	// Notifier, if set, receives each event for the webhook; undelivered
	// events are kept in the state file and re-queued by the next run.
	Notifier *Notifier
	// Observer, if set, sees every fetch and event (metrics).
	Observer Observer
	// FetchFailed, if set, is told of every failed fetch (the command prints
	// it; the Unreachable event waits for Config.UnreachableAfter).
	FetchFailed func(provider string, err error)

	state *State
}

// Check fetches every provider once, reports the events, and saves the
// state. It returns the events and how many providers could not be fetched.
// Only a state file that cannot be read or written is an error.
func (w *Watcher) Check(ctx context.Context) ([]Event, int, error) {
	if err := w.load(); err != nil {
		return nil, 0, err
	}
	var all []Event
	failed := 0
	for _, src := range w.Sources {
		name := src.String()
		pub, err := w.Load(ctx, src)
		if err != nil {
			failed++
			if w.FetchFailed != nil {
				w.FetchFailed(name, err)
			}
		}
		now := w.Clock.Now()
		events := Observe(w.state.provider(name), name, pub, err, now, w.Config)
		if w.Observer != nil {
			w.Observer.Fetched(name, pub, err, now)
		}
		for _, e := range events {
			w.emit(e)
		}
		all = append(all, events...)
	}
	return all, failed, w.Save()
}

func (w *Watcher) emit(e Event) {
	if w.Emit != nil {
		w.Emit(e)
	}
	if w.Observer != nil {
		w.Observer.Emitted(e)
	}
	if w.Notifier != nil {
		w.Notifier.Enqueue(e)
	}
}

// load reads the state file on first use and re-queues its undelivered
// webhook events.
func (w *Watcher) load() error {
	if w.state != nil {
		return nil
	}
	st, err := LoadState(w.StatePath)
	if err != nil {
		return err
	}
	w.state = st
	if w.Notifier != nil {
		for _, e := range st.Pending {
			w.Notifier.Enqueue(e)
		}
	}
	return nil
}

// Save writes the state with the webhook events still undelivered.
func (w *Watcher) Save() error {
	if w.state == nil {
		return nil
	}
	w.state.Pending = nil
	if w.Notifier != nil {
		w.state.Pending = w.Notifier.Pending()
	}
	return w.state.Save(w.StatePath)
}

// Run checks every interval until ctx ends, then saves the state. Errors
// writing the state are reported through onError and do not stop the loop.
func (w *Watcher) Run(ctx context.Context, interval time.Duration, onError func(error)) {
	for {
		if _, _, err := w.Check(ctx); err != nil && onError != nil {
			onError(err)
		}
		select {
		case <-ctx.Done():
			if err := w.Save(); err != nil && onError != nil {
				onError(err)
			}
			return
		case <-w.Clock.After(interval):
		}
	}
}
