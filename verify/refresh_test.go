package verify

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestRotationAcceptedAfterExactlyOneExtraFetch(t *testing.T) {
	k1, k2 := rsaKey(t, "k1"), rsaKey(t, "k2")
	iss := newFakeIssuer(t, k1)
	h := newHarness(t, iss)
	h.mustVerify(h.token(k1))
	if n := iss.jwksHits.Load(); n != 1 {
		t.Fatalf("initial fetches = %d, want 1", n)
	}
	// The issuer rolls over to k2 (k1 retired) an hour later.
	iss.publish(k2)
	h.clk.Advance(time.Hour)
	c := h.mustVerify(h.token(k2))
	if c.KeyID != "k2" {
		t.Errorf("KeyID = %q", c.KeyID)
	}
	if n := iss.jwksHits.Load(); n != 2 {
		t.Fatalf("fetches after rotation = %d, want exactly 2", n)
	}
	h.mustVerify(h.token(k2))
	if n := iss.jwksHits.Load(); n != 2 {
		t.Fatalf("fetches after a second k2 token = %d, want 2", n)
	}
}

func TestNextKeyPublishedInAdvanceNeedsNoFetch(t *testing.T) {
	primary, next := rsaKey(t, "primary"), rsaKey(t, "next")
	iss := newFakeIssuer(t, next, primary) // order must not matter
	h := newHarness(t, iss)
	h.mustVerify(h.token(primary))
	h.clk.Advance(DefaultRefreshInterval / 2)
	h.mustVerify(h.token(next))
	if n := iss.jwksHits.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1 (the initial one)", n)
	}
}

func TestUnknownKidFloodOneFetchPerThrottleWindow(t *testing.T) {
	k1 := rsaKey(t, "k1")
	iss := newFakeIssuer(t, k1)
	h := newHarness(t, iss)
	h.mustVerify(h.token(k1))
	good := h.token(k1)
	forged := make([]string, 1000)
	for i := range forged {
		forged[i] = tamperKid(good, fmt.Sprintf("random-%d", i))
	}
	for window := 0; window < 3; window++ {
		h.clk.Advance(DefaultMinRefreshInterval)
		before := iss.jwksHits.Load()
		var wg sync.WaitGroup
		errs := make([]error, len(forged))
		for i, tok := range forged {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = h.v.Verify(context.Background(), tok)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if !errors.Is(err, ErrUnknownKey) {
				t.Fatalf("window %d token %d: err = %v, want ErrUnknownKey", window, i, err)
			}
		}
		if n := iss.jwksHits.Load() - before; n != 1 {
			t.Fatalf("window %d: %d fetches for 1000 unknown kids, want 1", window, n)
		}
	}
	// Within a window: no fetch at all.
	before := iss.jwksHits.Load()
	for _, tok := range forged[:50] {
		if _, err := h.v.Verify(h.ctx, tok); !errors.Is(err, ErrUnknownKey) {
			t.Fatal(err)
		}
	}
	if n := iss.jwksHits.Load() - before; n != 0 {
		t.Fatalf("%d fetches inside the throttle window, want 0", n)
	}
	h.mustVerify(good)
}

func TestKnownKidNeverWaitsForAHungFetch(t *testing.T) {
	k1 := rsaKey(t, "k1")
	iss := newFakeIssuer(t, k1)
	h := newHarness(t, iss, WithFetchTimeout(time.Minute))
	h.mustVerify(h.token(k1))
	hang := make(chan struct{})
	defer close(hang)
	iss.Hang(hang)
	h.clk.Advance(time.Hour)

	missDone := make(chan error, 1)
	go func() {
		_, err := h.v.Verify(context.Background(), tamperKid(h.token(k1), "unknown"))
		missDone <- err
	}()
	<-iss.hung // the miss fetch is hanging
	for range 20 {
		h.mustVerify(h.token(k1)) // must not block on the hung fetch
	}
	select {
	case err := <-missDone:
		t.Fatalf("the unknown-kid verification returned while the fetch hangs: %v", err)
	default:
	}
}

func TestCallerWaitsAtMostOneFetchTimeout(t *testing.T) {
	k1 := rsaKey(t, "k1")
	iss := newFakeIssuer(t, k1)
	hang := make(chan struct{})
	defer close(hang)
	iss.Hang(hang)
	h := newHarness(t, iss, WithFetchTimeout(200*time.Millisecond))
	// The issuer hangs until the test ends: an answer at all means the
	// fetch timeout ended the wait.
	err := h.verifyErr(h.token(k1))
	if !errors.Is(err, ErrNoKeys) {
		t.Fatalf("err = %v, want ErrNoKeys", err)
	}
}
