package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

func event(kid string, hour int, reason string) lifecycle.Event {
	return lifecycle.Event{Time: base.Add(time.Duration(hour) * time.Hour), Actor: "admin", KID: kid,
		Thumbprint: "ABCDEF", From: lifecycle.Next, To: lifecycle.Primary, Reason: reason}
}

// testEvents: events come back oldest first whatever order they were
// written in, and since and limit select from them.
func testEvents(t *testing.T, s store.Store) {
	e := make([]lifecycle.Event, 5)
	for i := range e {
		e[i] = event(fmt.Sprintf("kid-%d", i), i, fmt.Sprintf("reason %d", i))
	}
	e[0].From = "" // a creation event
	mustUpdate(t, s, set(nil, e[3], e[1]))
	mustUpdate(t, s, set(nil, e[4], e[0], e[2]))
	cases := []struct {
		since time.Time
		limit int
		want  []lifecycle.Event
	}{
		{time.Time{}, 0, e},
		{e[2].Time, 0, e[2:]},
		{e[2].Time.Add(time.Nanosecond), 0, e[3:]},
		{time.Time{}, 2, e[:2]},
		{e[2].Time.UTC(), 1, e[2:3]},
		{e[4].Time.Add(time.Hour), 0, nil},
		{time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), 0, e},
	}
	for _, c := range cases {
		got, err := s.Events(t.Context(), c.since, c.limit)
		if err != nil || !reflect.DeepEqual(got, utcEvents(c.want)) {
			t.Errorf("Events(%v, %d) = (%+v, %v)\nwant %+v", c.since, c.limit, got, err, utcEvents(c.want))
		}
	}
	if _, err := s.Events(t.Context(), time.Time{}, -1); err == nil {
		t.Error("Events with a negative limit succeeded")
	}
}

// testEventsSameTime: events with equal times keep the order they were written in.
func testEventsSameTime(t *testing.T, s store.Store) {
	var e []lifecycle.Event
	for i := range 4 {
		e = append(e, event("kid-1", 0, fmt.Sprintf("step %d", i)))
	}
	mustUpdate(t, s, set(nil, e[:2]...))
	mustUpdate(t, s, set(nil, e[2:]...))
	got, err := s.Events(t.Context(), time.Time{}, 0)
	if err != nil || !reflect.DeepEqual(got, utcEvents(e)) {
		t.Errorf("Events = (%+v, %v)\nwant %+v", got, err, utcEvents(e))
	}
}

func testSettings(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.Setting(ctx, "jwt-secret"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Setting before InitSetting = %v, want ErrNotFound", err)
	}
	first, second := []byte("first\x00value"), []byte("second")
	if got, err := s.InitSetting(ctx, "jwt-secret", first); err != nil || !bytes.Equal(got, first) {
		t.Errorf("first InitSetting = (%q, %v), want %q", got, err, first)
	}
	if got, err := s.InitSetting(ctx, "jwt-secret", second); err != nil || !bytes.Equal(got, first) {
		t.Errorf("second InitSetting = (%q, %v), want the first value %q", got, err, first)
	}
	if got, err := s.Setting(ctx, "jwt-secret"); err != nil || !bytes.Equal(got, first) {
		t.Errorf("Setting = (%q, %v), want %q", got, err, first)
	}
	if got, err := s.InitSetting(ctx, "empty", nil); err != nil || len(got) != 0 {
		t.Errorf("InitSetting(empty, nil) = (%q, %v), want an empty value", got, err)
	}
	if gen, err := s.Generation(ctx); gen != 0 || err != nil {
		t.Errorf("settings changed the key generation: (%d, %v)", gen, err)
	}
}

// testSettingsRace: racing InitSettings all return the one value stored.
func testSettingsRace(t *testing.T, s store.Store) {
	const racers = 8
	got := make([][]byte, racers)
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			got[i], errs[i] = s.InitSetting(t.Context(), "race", fmt.Appendf(nil, "value %d", i))
		})
	}
	wg.Wait()
	stored, err := s.Setting(t.Context(), "race")
	if err != nil {
		t.Fatalf("Setting: %v", err)
	}
	for i := range racers {
		if errs[i] != nil || !bytes.Equal(got[i], stored) {
			t.Errorf("InitSetting %d = (%q, %v), want the stored %q", i, got[i], errs[i], stored)
		}
	}
}
