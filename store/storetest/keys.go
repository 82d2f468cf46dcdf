package storetest

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

func testEmpty(t *testing.T, s store.Store) {
	ctx := t.Context()
	if gen := wantKeys(t, s); gen != 0 {
		t.Errorf("Keys generation = %d, want 0", gen)
	}
	if gen, err := s.Generation(ctx); gen != 0 || err != nil {
		t.Errorf("Generation = (%d, %v), want (0, nil)", gen, err)
	}
	if events, err := s.Events(ctx, time.Time{}, 0); len(events) != 0 || err != nil {
		t.Errorf("Events = (%v, %v), want none", events, err)
	}
	if _, err := s.Sealed(ctx, "kid-000"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Sealed = %v, want ErrNotFound", err)
	}
	if _, err := s.Setting(ctx, "anything"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Setting = %v, want ErrNotFound", err)
	}
}

func testRoundTrip(t *testing.T, s store.Store) {
	keys := []lifecycle.Key{full(1), Key(2)}
	keys[1].NotBefore, keys[1].NotAfter = time.Time{}, time.Time{} // zero times survive too
	if gen := mustUpdate(t, s, Add(keys...)); gen != 1 {
		t.Errorf("Update generation = %d, want 1", gen)
	}
	if gen := wantKeys(t, s, keys...); gen != 1 {
		t.Errorf("Keys generation = %d, want 1", gen)
	}
}

func testSealed(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUpdate(t, s, Add(Key(1), Key(2)))
	for _, kid := range []string{"kid-001", "kid-002"} {
		got, err := s.Sealed(ctx, kid)
		if err != nil || !bytes.Equal(got, Sealed(kid)) {
			t.Errorf("Sealed(%s) = (%q, %v), want %q", kid, got, err, Sealed(kid))
		}
	}
	keys, _ := mustKeys(t, s)
	for _, k := range keys {
		for _, field := range [][]byte{k.Cert, []byte(k.KID), []byte(k.Alg), []byte(k.Thumbprint)} {
			if bytes.Contains(field, []byte("sealed")) {
				t.Errorf("Keys exposes sealed bytes in key %s: %q", k.KID, field)
			}
		}
	}
	_, err := s.Sealed(ctx, "no-such-kid")
	if !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "no-such-kid") {
		t.Errorf("Sealed(no-such-kid) = %v, want ErrNotFound naming the kid", err)
	}
}

func testTransitions(t *testing.T, s store.Store) {
	k1, k2 := Key(1), Key(2)
	mustUpdate(t, s, Add(k1))
	k1.State, k1.PromotedAt, k1.Urgent = lifecycle.Primary, k1.CreatedAt.Add(time.Hour), true
	mustUpdate(t, s, func(old []lifecycle.Key) (*store.Change, error) {
		c, err := Add(k2)(nil)
		c.Keys = append([]lifecycle.Key{k1}, c.Keys...)
		return c, err
	})
	wantKeys(t, s, k1, k2)
	k1.State, k1.RetiredAt = lifecycle.Retired, k1.PromotedAt.Add(time.Hour)
	k2.State, k2.PromotedAt = lifecycle.Primary, k1.RetiredAt
	mustUpdate(t, s, set([]lifecycle.Key{k1, k2}))
	wantKeys(t, s, k1, k2)
	k1.State, k1.EndedAt = lifecycle.Expired, k1.RetiredAt.Add(24*time.Hour)
	if gen := mustUpdate(t, s, set([]lifecycle.Key{k1, k2})); gen != 4 {
		t.Errorf("generation after 4 updates = %d", gen)
	}
	wantKeys(t, s, k1, k2)
}

// testInPlaceEdit: an update function that edits its argument in place and
// returns it must still be seen as a change.
func testInPlaceEdit(t *testing.T, s store.Store) {
	mustUpdate(t, s, Add(Key(1)))
	mustUpdate(t, s, func(keys []lifecycle.Key) (*store.Change, error) {
		keys[0].State = lifecycle.Revoked
		keys[0].EndedAt = base
		return &store.Change{Keys: keys}, nil
	})
	want := Key(1)
	want.State, want.EndedAt = lifecycle.Revoked, base
	wantKeys(t, s, want)
}

func testGeneration(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i := range 3 {
		gen := mustUpdate(t, s, Add(Key(i)))
		if gen != int64(i+1) {
			t.Errorf("Update %d returned generation %d", i+1, gen)
		}
		if g, err := s.Generation(ctx); g != gen || err != nil {
			t.Errorf("Generation = (%d, %v), want %d", g, err, gen)
		}
		if _, g := mustKeys(t, s); g != gen {
			t.Errorf("Keys generation = %d, want %d", g, gen)
		}
	}
}
