package rows

import (
	"errors"
	"testing"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

func TestEventRules(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ok := []lifecycle.Event{
		{Time: now, KID: "k", To: lifecycle.Next},
		{Time: now, KID: "k", From: lifecycle.Next, To: lifecycle.Primary},
		{Time: now, App: "payroll", Reason: "override set"},
		{Time: now, Actor: "console:ada", Reason: "signed in to the console"},
	}
	for _, e := range ok {
		r, err := EncodeEvent(e)
		if err != nil {
			t.Errorf("EncodeEvent(%+v): %v", e, err)
			continue
		}
		if back, err := r.Decode(); err != nil || back != e {
			t.Errorf("round trip of %+v = (%+v, %v)", e, back, err)
		}
	}
	bad := []lifecycle.Event{
		{Time: now, KID: "k"},
		{Time: now, Reason: "a notice without an actor"},
		{Time: now, Actor: "console:ada"},
		{Time: now, KID: "k", From: "lost", To: lifecycle.Next},
		{Time: now, App: "payroll", To: lifecycle.Primary},
		{Time: now, App: "payroll", From: lifecycle.Next},
		{Time: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), KID: "k", To: lifecycle.Next},
	}
	for _, e := range bad {
		if _, err := EncodeEvent(e); !errors.Is(err, store.ErrConflict) {
			t.Errorf("EncodeEvent(%+v) = %v, want ErrConflict", e, err)
		}
	}
	if _, err := (Event{To: "", App: ""}).Decode(); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("decoding an event without a state = %v, want ErrCorrupt", err)
	}
}

func TestAppDecodeCorrupt(t *testing.T) {
	good := App{ClientID: "c", Name: "n", RedirectURIs: `["https://a.example/cb"]`, TokenLifetime: int64(time.Hour)}
	if a, err := good.Decode(); err != nil || len(a.RedirectURIs) != 1 || !a.Public() {
		t.Fatalf("Decode = (%+v, %v)", a, err)
	}
	for name, r := range map[string]App{
		"bad JSON":       {ClientID: "c", Name: "n", RedirectURIs: `[`, TokenLifetime: 1},
		"no name":        {ClientID: "c", RedirectURIs: `[]`, TokenLifetime: 1},
		"short hash":     {ClientID: "c", Name: "n", RedirectURIs: `[]`, TokenLifetime: 1, SecretHash: []byte("x")},
		"no lifetime":    {ClientID: "c", Name: "n", RedirectURIs: `[]`},
		"empty redirect": {ClientID: "c", Name: "n", RedirectURIs: `[""]`, TokenLifetime: 1},
	} {
		if _, err := r.Decode(); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("%s: Decode = %v, want ErrCorrupt", name, err)
		}
	}
}
