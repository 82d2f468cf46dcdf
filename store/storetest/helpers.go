package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// snapshot is everything an Update may write; comparing two tells whether
// anything was written in between.
type snapshot struct {
	keys   []lifecycle.Key
	gen    int64
	events []lifecycle.Event
}

func take(t *testing.T, s store.Store) snapshot {
	t.Helper()
	keys, gen := mustKeys(t, s)
	events, err := s.Events(t.Context(), time.Time{}, 0)
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	return snapshot{keys, gen, events}
}

func (a snapshot) mustEqual(t *testing.T, b snapshot) {
	t.Helper()
	if a.gen != b.gen {
		t.Errorf("generation went from %d to %d", a.gen, b.gen)
	}
	if d := keysDiff(b.keys, a.keys); d != "" {
		t.Errorf("keys changed: %s", d)
	}
	if !reflect.DeepEqual(a.events, b.events) {
		t.Errorf("events changed:\nbefore %+v\nafter  %+v", a.events, b.events)
	}
}

// mustKeys reads the keys and checks they come back in UTC.
func mustKeys(t *testing.T, s store.Store) ([]lifecycle.Key, int64) {
	t.Helper()
	keys, gen, err := s.Keys(t.Context())
	if err != nil {
		t.Fatalf("Keys: %v", err)
	}
	if !reflect.DeepEqual(keys, UTC(keys)) {
		t.Errorf("Keys returned times not in UTC (or with monotonic readings): %+v", keys)
	}
	return keys, gen
}

// mustUpdate runs an update that must commit and returns the new generation.
func mustUpdate(t *testing.T, s store.Store, fn store.UpdateFunc) int64 {
	t.Helper()
	gen, changed, err := s.Update(t.Context(), fn)
	if err != nil || !changed {
		t.Fatalf("Update = (%d, %v, %v), want a committed change", gen, changed, err)
	}
	return gen
}

// wantKeys checks that s holds want (compared in UTC) and returns the generation.
func wantKeys(t *testing.T, s store.Store, want ...lifecycle.Key) int64 {
	t.Helper()
	got, gen := mustKeys(t, s)
	if d := keysDiff(got, UTC(want)); d != "" {
		t.Errorf("Keys: %s", d)
	}
	return gen
}

// keysDiff describes the first difference between two key lists, or "".
func keysDiff(got, want []lifecycle.Key) string {
	if len(got) != len(want) {
		return fmt.Sprintf("got %d keys %v, want %d %v", len(got), kids(got), len(want), kids(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			return fmt.Sprintf("key %d:\ngot  %+v\nwant %+v", i, got[i], want[i])
		}
	}
	return ""
}

func kids(keys []lifecycle.Key) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.KID
	}
	return out
}

// set returns an update function that replaces the key set with keys and
// records events, adding no new keys.
func set(keys []lifecycle.Key, events ...lifecycle.Event) store.UpdateFunc {
	return func([]lifecycle.Key) (*store.Change, error) {
		return &store.Change{Keys: keys, Events: events}, nil
	}
}

// full returns key n with every field set, as a retired, once-urgent key.
func full(n int) lifecycle.Key {
	k := Key(n)
	k.State = lifecycle.Retired
	k.PromotedAt = k.PromoteAt.Add(-time.Hour)
	k.RetiredAt = k.PromotedAt.Add(90*24*time.Hour + 17)
	k.EndedAt = k.RetiredAt.Add(time.Nanosecond)
	k.Urgent = true
	k.Transient = true
	return k
}

func utcEvents(events []lifecycle.Event) []lifecycle.Event {
	out := make([]lifecycle.Event, len(events))
	for i, e := range events {
		e.Time = e.Time.UTC()
		out[i] = e
	}
	return out
}
