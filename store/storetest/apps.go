package storetest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// App returns test application number n: a confidential client with a
// distinct client id, name, secret hash, two redirect URIs and times (in a
// non-UTC zone) n hours apart.
func App(n int) store.Application {
	secret := sha256.Sum256(fmt.Appendf(nil, "secret %d", n))
	created := base.Add(time.Duration(n) * time.Hour)
	return store.Application{
		ClientID:      fmt.Sprintf("client-%03d", n),
		Name:          fmt.Sprintf("App %03d", n),
		SecretHash:    secret[:],
		RedirectURIs:  []string{fmt.Sprintf("https://app%d.example/callback", n), "http://127.0.0.1:8400/cb"},
		Audience:      fmt.Sprintf("api://app-%d", n),
		TokenLifetime: 45 * time.Minute,
		CreatedAt:     created,
		UpdatedAt:     created,
	}
}

// appEvent is an application audit event.
func appEvent(app store.Application, reason string) lifecycle.Event {
	return lifecycle.Event{Time: app.UpdatedAt, Actor: "storetest", App: app.Name, Reason: reason}
}

// utcApp returns a in the form stores return it.
func utcApp(a store.Application) store.Application {
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	a.Protocol = a.Proto()
	return a
}

func mustCreateApp(t *testing.T, s store.Store, a store.Application, events ...lifecycle.Event) {
	t.Helper()
	if err := s.CreateApp(t.Context(), a, events...); err != nil {
		t.Fatalf("CreateApp(%s): %v", a.Name, err)
	}
}

func wantApp(t *testing.T, what string, got store.Application, err error, want store.Application) {
	t.Helper()
	if err != nil || !reflect.DeepEqual(got, utcApp(want)) {
		t.Errorf("%s = (%+v, %v)\nwant %+v", what, got, err, utcApp(want))
	}
}

// testApps: applications round-trip exactly, are found by client id and by
// name in any case, listed by name, and their events land in the audit log
// without touching the key generation.
func testApps(t *testing.T, s store.Store) {
	ctx := t.Context()
	confidential, public := App(2), App(1)
	public.SecretHash, public.RedirectURIs, public.KeyThumbprint = nil, []string{"com.example.app:/cb"}, Key(1).Thumbprint
	mustCreateApp(t, s, confidential, appEvent(confidential, "created"))
	mustCreateApp(t, s, public)
	got, err := s.App(ctx, confidential.ClientID)
	wantApp(t, "App", got, err, confidential)
	got, err = s.AppByName(ctx, strings.ToUpper(public.Name))
	wantApp(t, "AppByName in upper case", got, err, public)
	if !got.Public() || confidential.Public() {
		t.Errorf("Public() = %v for the public client, %v for the confidential one", got.Public(), confidential.Public())
	}
	all, err := s.Apps(ctx)
	if err != nil || len(all) != 2 || all[0].Name != public.Name || all[1].Name != confidential.Name {
		t.Errorf("Apps = (%+v, %v), want App 001 then App 002", all, err)
	}
	events, err := s.Events(ctx, time.Time{}, 0)
	if err != nil || len(events) != 1 || events[0].App != confidential.Name || events[0].To != "" {
		t.Errorf("Events = (%+v, %v), want the one application event", events, err)
	}
	if gen, err := s.Generation(ctx); gen != 0 || err != nil {
		t.Errorf("applications changed the key generation: (%d, %v)", gen, err)
	}
}

// testAppsMissing: every way of naming an application that does not exist
// answers ErrNotFound, and UpdateApp does not call its function.
func testAppsMissing(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreateApp(t, s, App(1))
	if _, err := s.App(ctx, "client-404"); !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "client-404") {
		t.Errorf("App(unknown) = %v, want ErrNotFound naming it", err)
	}
	if _, err := s.AppByName(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AppByName(unknown) = %v, want ErrNotFound", err)
	}
	_, _, err := s.UpdateApp(ctx, "client-404", func(store.Application, []lifecycle.Key) (*store.Application, []lifecycle.Event, error) {
		t.Error("UpdateApp called its function for an unknown application")
		return nil, nil, nil
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateApp(unknown) = %v, want ErrNotFound", err)
	}
	if err := s.DeleteApp(ctx, "client-404"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteApp(unknown) = %v, want ErrNotFound", err)
	}
}

// testAppsRefused: a taken name (in any case) or client id, and records the
// tables cannot hold, are refused with ErrConflict and write nothing.
func testAppsRefused(t *testing.T, s store.Store) {
	a := App(1)
	mustCreateApp(t, s, a)
	before := takeAll(t, s)
	sameName, sameID := App(2), App(3)
	sameName.Name = strings.ToLower(a.Name)
	sameID.ClientID = a.ClientID
	noName, shortHash, noLifetime, emptyURI := App(4), App(5), App(6), App(7)
	noName.Name = ""
	shortHash.SecretHash = []byte("short")
	noLifetime.TokenLifetime = 0
	emptyURI.RedirectURIs = []string{""}
	for name, app := range map[string]store.Application{"name taken": sameName, "client id taken": sameID,
		"no name": noName, "short secret hash": shortHash, "no lifetime": noLifetime, "empty redirect URI": emptyURI} {
		if err := s.CreateApp(t.Context(), app, appEvent(app, "created")); !errors.Is(err, store.ErrConflict) {
			t.Errorf("%s: CreateApp = %v, want ErrConflict", name, err)
		}
		before.mustEqual(t, takeAll(t, s))
	}
	bad := appEvent(App(8), "with key states")
	bad.To = lifecycle.Primary
	if err := s.CreateApp(t.Context(), App(8), bad); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateApp with an application event that has key states = %v, want ErrConflict", err)
	}
	before.mustEqual(t, takeAll(t, s))
}

// testUpdateApp: the function sees the application and the keys; its
// result and events are committed together; nil changes nothing; its error
// comes back as it is; what never changes is refused.
func testUpdateApp(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUpdate(t, s, Add(Key(1), Key(2)))
	a, other := App(1), App(2)
	mustCreateApp(t, s, a)
	mustCreateApp(t, s, other)
	want := a
	want.KeyThumbprint, want.UpdatedAt = Key(2).Thumbprint, a.UpdatedAt.Add(time.Minute)
	got, changed, err := s.UpdateApp(ctx, a.ClientID, func(old store.Application, keys []lifecycle.Key) (*store.Application, []lifecycle.Event, error) {
		if !reflect.DeepEqual(old, utcApp(a)) || len(keys) != 2 {
			t.Errorf("UpdateApp function got %+v and %d keys, want %+v and 2", old, len(keys), utcApp(a))
		}
		next := old
		next.KeyThumbprint, next.UpdatedAt = keys[1].Thumbprint, want.UpdatedAt
		return &next, []lifecycle.Event{appEvent(next, "override")}, nil
	})
	if !changed {
		t.Error("UpdateApp reported no change")
	}
	wantApp(t, "UpdateApp", got, err, want)
	got, err = s.App(ctx, a.ClientID)
	wantApp(t, "App after UpdateApp", got, err, want)

	before := takeAll(t, s)
	refused := map[string]func(store.Application) store.Application{
		"changes the client id":     func(x store.Application) store.Application { x.ClientID = "client-999"; return x },
		"changes the creation time": func(x store.Application) store.Application { x.CreatedAt = x.CreatedAt.Add(1); return x },
		"takes another's name":      func(x store.Application) store.Application { x.Name = strings.ToUpper(other.Name); return x },
		"empties the name":          func(x store.Application) store.Application { x.Name = ""; return x },
	}
	for name, edit := range refused {
		_, changed, err := s.UpdateApp(ctx, a.ClientID, func(old store.Application, _ []lifecycle.Key) (*store.Application, []lifecycle.Event, error) {
			next := edit(old)
			return &next, []lifecycle.Event{appEvent(next, name)}, nil
		})
		if !errors.Is(err, store.ErrConflict) || changed {
			t.Errorf("UpdateApp that %s = (%v, %v), want ErrConflict", name, changed, err)
		}
		before.mustEqual(t, takeAll(t, s))
	}
	got, changed, err = s.UpdateApp(ctx, a.ClientID, func(store.Application, []lifecycle.Key) (*store.Application, []lifecycle.Event, error) {
		return nil, nil, nil
	})
	if changed {
		t.Error("UpdateApp with a nil result reported a change")
	}
	wantApp(t, "UpdateApp with a nil result", got, err, want)
	_, changed, err = s.UpdateApp(ctx, a.ClientID, func(old store.Application, _ []lifecycle.Key) (*store.Application, []lifecycle.Event, error) {
		return &old, []lifecycle.Event{appEvent(old, "x")}, fmt.Errorf("wrapped: %w", errTest)
	})
	if !errors.Is(err, errTest) || changed || strings.Contains(err.Error(), "sqlite") || strings.Contains(err.Error(), "postgres") {
		t.Errorf("UpdateApp whose function fails = (%v, %v), want the function's error as it is", changed, err)
	}
	before.mustEqual(t, takeAll(t, s))
}

// testUpdateAppSerialised: concurrent read-modify-write updates of one
// application all take effect; none is lost.
func testUpdateAppSerialised(t *testing.T, s store.Store) {
	const writers = 8
	a := App(1)
	a.Audience = ""
	mustCreateApp(t, s, a)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			_, _, err := s.UpdateApp(t.Context(), a.ClientID, func(old store.Application, _ []lifecycle.Key) (*store.Application, []lifecycle.Event, error) {
				old.Audience += fmt.Sprint(i % 10)
				return &old, nil, nil
			})
			if err != nil {
				t.Errorf("UpdateApp: %v", err)
			}
		})
	}
	wg.Wait()
	got, err := s.App(t.Context(), a.ClientID)
	if err != nil || len(got.Audience) != writers {
		t.Errorf("after %d concurrent updates the audience is %q (%v): updates were lost", writers, got.Audience, err)
	}
}

// testDeleteApp: deleting an application removes it and its pending codes
// and records its events.
func testDeleteApp(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := App(1), App(2)
	mustCreateApp(t, s, a)
	mustCreateApp(t, s, b)
	mustPutCode(t, s, Code(1, a.ClientID, "alice"))
	mustPutCode(t, s, Code(2, b.ClientID, "alice"))
	if err := s.DeleteApp(ctx, a.ClientID, appEvent(a, "deleted")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.App(ctx, a.ClientID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("App after DeleteApp = %v, want ErrNotFound", err)
	}
	if _, err := s.ConsumeCode(ctx, Code(1, a.ClientID, "alice").Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the deleted application's code is still there: %v", err)
	}
	if _, err := s.ConsumeCode(ctx, Code(2, b.ClientID, "alice").Hash); err != nil {
		t.Errorf("another application's code went too: %v", err)
	}
	events, err := s.Events(ctx, time.Time{}, 0)
	if err != nil || len(events) != 1 || events[0].Reason != "deleted" {
		t.Errorf("Events = (%+v, %v), want the deletion", events, err)
	}
	mustCreateApp(t, s, a) // the name is free again
}

// everything is a snapshot of the keys, the audit log and the applications.
type everything struct {
	snapshot
	apps []store.Application
}

func takeAll(t *testing.T, s store.Store) everything {
	t.Helper()
	apps, err := s.Apps(t.Context())
	if err != nil {
		t.Fatalf("Apps: %v", err)
	}
	return everything{take(t, s), apps}
}

func (a everything) mustEqual(t *testing.T, b everything) {
	t.Helper()
	a.snapshot.mustEqual(t, b.snapshot)
	if !reflect.DeepEqual(a.apps, b.apps) {
		t.Errorf("applications changed:\nbefore %+v\nafter  %+v", a.apps, b.apps)
	}
}
