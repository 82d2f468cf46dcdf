package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// testRefused: every change the contract forbids is refused with
// ErrConflict and writes nothing.
func testRefused(t *testing.T, s store.Store) {
	k1, k2 := Key(1), Key(2)
	k2.State = lifecycle.Primary
	mustUpdate(t, s, Add(k1, k2))
	before := take(t, s)
	primary := Key(3)
	primary.State = lifecycle.Primary
	sameThumb := Key(4)
	sameThumb.Thumbprint = k1.Thumbprint
	backwards := Key(5)
	backwards.NotAfter = backwards.NotBefore.Add(-time.Nanosecond)
	tooLate := Key(6)
	tooLate.NotAfter = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)
	newCert := k1
	newCert.Cert = []byte("another certificate")
	cases := map[string]store.UpdateFunc{
		"drops a key":           set([]lifecycle.Key{k1}),
		"duplicates a kid":      set([]lifecycle.Key{k1, k2, k1}),
		"adds a key unsealed":   set([]lifecycle.Key{k1, k2, Key(3)}),
		"leaves two primaries":  Add(primary),
		"reuses a thumbprint":   Add(sameThumb),
		"not_after too early":   Add(backwards),
		"time out of range":     Add(tooLate),
		"changes a certificate": set([]lifecycle.Key{newCert, k2}),
		"reseals an old key": func(keys []lifecycle.Key) (*store.Change, error) {
			return &store.Change{Keys: keys, Sealed: map[string][]byte{k1.KID: []byte("x")}}, nil
		},
		"bad event state": func(keys []lifecycle.Key) (*store.Change, error) {
			return &store.Change{Keys: keys, Events: []lifecycle.Event{{Time: base, KID: k1.KID, To: "gone"}}}, nil
		},
	}
	for name, fn := range cases {
		gen, changed, err := s.Update(t.Context(), fn)
		if !errors.Is(err, store.ErrConflict) || changed {
			t.Errorf("%s: Update = (%d, %v, %v), want ErrConflict", name, gen, changed, err)
		}
		before.mustEqual(t, take(t, s))
	}
}

var errTest = errors.New("update function failed")

func testFuncError(t *testing.T, s store.Store) {
	mustUpdate(t, s, Add(Key(1)))
	before := take(t, s)
	gen, changed, err := s.Update(t.Context(), func(keys []lifecycle.Key) (*store.Change, error) {
		c, _ := Add(Key(2))(keys)
		return c, fmt.Errorf("wrapped: %w", errTest)
	})
	if !errors.Is(err, errTest) || changed {
		t.Errorf("Update = (%d, %v, %v), want the function's error", gen, changed, err)
	}
	before.mustEqual(t, take(t, s))
}

func testNothingToDo(t *testing.T, s store.Store) {
	mustUpdate(t, s, Add(Key(1)))
	before := take(t, s)
	nothing := map[string]store.UpdateFunc{
		"nil change": func([]lifecycle.Key) (*store.Change, error) { return nil, nil },
		"same keys":  func(keys []lifecycle.Key) (*store.Change, error) { return &store.Change{Keys: keys}, nil },
		"same keys in another zone": func(keys []lifecycle.Key) (*store.Change, error) {
			return &store.Change{Keys: []lifecycle.Key{Key(1)}}, nil
		},
	}
	for name, fn := range nothing {
		gen, changed, err := s.Update(t.Context(), fn)
		if gen != before.gen || changed || err != nil {
			t.Errorf("%s: Update = (%d, %v, %v), want (%d, false, nil)", name, gen, changed, err, before.gen)
		}
		before.mustEqual(t, take(t, s))
	}
}

// testConcurrentUpdates: eight writers each add a key only while fewer than
// five exist; serialised updates leave exactly five.
func testConcurrentUpdates(t *testing.T, s store.Store) {
	const writers, want = 8, 5
	addIfDue := func(keys []lifecycle.Key) (*store.Change, error) {
		if len(keys) >= want {
			return nil, nil
		}
		return Add(Key(len(keys)))(keys)
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Go(func() {
			if _, _, err := s.Update(t.Context(), addIfDue); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Update: %v", err)
	}
	keys := make([]lifecycle.Key, want)
	for i := range keys {
		keys[i] = Key(i)
	}
	if gen := wantKeys(t, s, keys...); gen != want {
		t.Errorf("generation = %d, want %d", gen, want)
	}
}

// testCancelledContext: a context that ends before commit leaves nothing.
func testCancelledContext(t *testing.T, s store.Store) {
	mustUpdate(t, s, Add(Key(1)))
	before := take(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	gen, changed, err := s.Update(ctx, func(keys []lifecycle.Key) (*store.Change, error) {
		cancel()
		return Add(Key(2))(keys)
	})
	if err == nil || changed {
		t.Errorf("Update with a context cancelled before commit = (%d, %v, %v), want an error", gen, changed, err)
	}
	before.mustEqual(t, take(t, s))
	called := false
	_, _, err = s.Update(ctx, func(keys []lifecycle.Key) (*store.Change, error) {
		called = true
		return Add(Key(3))(keys)
	})
	if err == nil {
		t.Errorf("Update with a cancelled context succeeded (function called: %v)", called)
	}
	before.mustEqual(t, take(t, s))
}
