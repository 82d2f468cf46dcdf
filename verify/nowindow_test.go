package verify

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A key the provider published a moment ago is accepted on first sight,
// whatever fetch the cache made just before: initial, scheduled or manual.
func TestNewKeyAcceptedRightAfterAnyFetch(t *testing.T) {
	for _, prior := range []string{"initial", "scheduled", "manual"} {
		t.Run(prior, func(t *testing.T) {
			k1, k2 := rsaKey(t, "k1"), rsaKey(t, "k2")
			iss := newFakeIssuer(t, k1)
			h := newHarness(t, iss)
			h.mustVerify(h.token(k1))
			switch prior {
			case "scheduled":
				h.clk.Advance(DefaultRefreshInterval)
				h.mustVerify(h.token(k1)) // kicks the scheduled refresh
				h.log.next(t)
				h.log.next(t)
			case "manual":
				if err := h.v.Cache().Refresh(h.ctx); err != nil {
					t.Fatal(err)
				}
			}
			before := iss.jwksHits.Load()
			h.clk.Advance(time.Second)
			iss.publish(k1, k2)
			if c := h.mustVerify(h.token(k2)); c.KeyID != "k2" {
				t.Fatalf("KeyID = %q", c.KeyID)
			}
			if n := iss.jwksHits.Load() - before; n != 1 {
				t.Fatalf("%d fetches for the new key, want 1", n)
			}
		})
	}
}

// A flood of random kids cannot starve a genuine new key for longer than
// the unknown-key window, and the refusal says until when it waits.
func TestGenuineKeyWaitsAtMostOneWindowAfterFlood(t *testing.T) {
	k1, k2 := rsaKey(t, "k1"), rsaKey(t, "k2")
	iss := newFakeIssuer(t, k1)
	h := newHarness(t, iss)
	h.mustVerify(h.token(k1))
	h.verifyErr(tamperKid(h.token(k1), "random-1")) // uses the window's fetch
	flood := h.clk.Now()

	h.clk.Advance(time.Second)
	iss.publish(k1, k2)
	err := h.verifyErr(h.token(k2))
	var uk *UnknownKeyError
	if !errors.As(err, &uk) || !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("err = %v, want an UnknownKeyError", err)
	}
	if want := flood.Add(DefaultMinRefreshInterval); !uk.ThrottledUntil.Equal(want) {
		t.Fatalf("ThrottledUntil = %s, want %s", uk.ThrottledUntil, want)
	}
	if !strings.Contains(err.Error(), "throttled until "+flood.Add(DefaultMinRefreshInterval).UTC().Format(time.RFC3339)) {
		t.Fatalf("message %q does not say until when", err)
	}
	h.clk.Set(flood.Add(DefaultMinRefreshInterval))
	if c := h.mustVerify(h.token(k2)); c.KeyID != "k2" {
		t.Fatalf("KeyID = %q", c.KeyID)
	}
}

// The three reasons of an unknown key: refreshed and absent, throttled,
// provider unreachable since a time.
func TestUnknownKeyReasons(t *testing.T) {
	k1 := rsaKey(t, "k1")
	iss := newFakeIssuer(t, k1)
	h := newHarness(t, iss)
	h.mustVerify(h.token(k1))

	h.clk.Advance(time.Minute)
	refreshed := h.clk.Now()
	err := h.verifyErr(tamperKid(h.token(k1), "nope"))
	var uk *UnknownKeyError
	if !errors.As(err, &uk) || !uk.Fetched.Equal(refreshed) || !uk.ThrottledUntil.IsZero() || !uk.UnreachableSince.IsZero() {
		t.Fatalf("after a refresh: %#v", err)
	}
	if !strings.Contains(err.Error(), `kid "nope": no such key after a refresh at `+refreshed.UTC().Format(time.RFC3339)) {
		t.Fatalf("message %q", err)
	}

	h.clk.Advance(time.Minute)
	iss.SetDown(true)
	down := h.clk.Now()
	err = h.verifyErr(tamperKid(h.token(k1), "nope2"))
	if !errors.As(err, &uk) || !uk.UnreachableSince.Equal(down) || uk.Err == nil {
		t.Fatalf("provider down: %#v", err)
	}
	if !strings.Contains(err.Error(), "unreachable since "+down.UTC().Format(time.RFC3339)) {
		t.Fatalf("message %q", err)
	}
	h.clk.Advance(time.Minute)
	err = h.verifyErr(tamperKid(h.token(k1), "nope3"))
	if !errors.As(err, &uk) || !uk.UnreachableSince.Equal(down) {
		t.Fatalf("still down: UnreachableSince = %s, want %s (%v)", uk.UnreachableSince, down, err)
	}
	if ResultOf(err) != ResultUnknownKey {
		t.Fatalf("ResultOf = %s", ResultOf(err))
	}
}

// A token that joins a fetch begun before its key was published gets a
// fetch of its own.
func TestMissJoiningOlderFetchRetries(t *testing.T) {
	k1, k2 := rsaKey(t, "k1"), rsaKey(t, "k2")
	iss := newFakeIssuer(t, k1)
	h := newHarness(t, iss, WithFetchTimeout(time.Minute))
	h.mustVerify(h.token(k1))
	hang := make(chan struct{})
	iss.Hang(hang)
	refreshed := make(chan error, 1)
	go func() { refreshed <- h.v.Cache().Refresh(context.Background()) }()
	<-iss.hung // the manual fetch has read the old key set
	iss.publish(k1, k2)
	iss.Hang(nil)
	verified := make(chan error, 1)
	tok := h.token(k2)
	go func() { _, err := h.v.Verify(context.Background(), tok); verified <- err }()
	close(hang)
	if err := <-verified; err != nil {
		t.Fatalf("token of a key published during a fetch: %v", err)
	}
	if err := <-refreshed; err != nil {
		t.Fatal(err)
	}
}

// Cache-Control max-age shorter than the refresh interval schedules the
// next refresh, floored at the unknown-key window.
func TestMaxAgeSchedulesRefresh(t *testing.T) {
	for _, tc := range []struct {
		cc   string
		want time.Duration
	}{
		{"max-age=30", 30 * time.Second},
		{"max-age=2", DefaultMinRefreshInterval},
		{"max-age=86400", DefaultRefreshInterval},
		{"no-cache", DefaultMinRefreshInterval},
	} {
		k1 := rsaKey(t, "k1")
		iss := newFakeIssuer(t, k1)
		iss.useETag(tc.cc)
		h := newHarness(t, iss)
		h.mustVerify(h.token(k1))
		ev := h.log.next(t)
		if got := ev.NextRefresh.Sub(t0); got != tc.want {
			t.Errorf("%s: next refresh in %s, want %s", tc.cc, got, tc.want)
		}
		h.clk.Advance(tc.want)
		h.mustVerify(h.token(k1))
		if ev := h.log.next(t); ev.Trigger != TriggerScheduled || ev.Outcome != OutcomeUnchanged {
			t.Errorf("%s: refresh after %s: %+v", tc.cc, tc.want, ev)
		}
		if iss.condHits.Load() != 1 {
			t.Errorf("%s: the refresh did not send If-None-Match", tc.cc)
		}
	}
}

// A source that answers Last-Modified is asked If-Modified-Since, and its
// 304 confirms the set.
func TestRefreshSendsIfModifiedSince(t *testing.T) {
	k1 := rsaKey(t, "k1")
	body := jwksOf(t, k1.jwk())
	const lm = "Sun, 06 Dec 2026 07:00:00 GMT"
	var cond atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-Modified-Since") == lm {
			cond.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Last-Modified", lm)
		w.Write(body)
	}))
	defer srv.Close()
	h := staticHarness(t, JWKSURL(srv.URL))
	if err := h.v.Cache().Refresh(h.ctx); err != nil {
		t.Fatal(err)
	}
	if ev := h.log.next(t); ev.Outcome != OutcomeUnchanged || cond.Load() != 1 {
		t.Fatalf("second refresh: %+v, conditional requests %d", ev, cond.Load())
	}
	h.issuer = "https://static.example"
	h.mustVerify(h.token(k1))
}

// The very first token fetches once, even when its key is unknown: that
// fetch began after the token arrived.
func TestFirstTokenUnknownKeyOneFetch(t *testing.T) {
	k1 := rsaKey(t, "k1")
	iss := newFakeIssuer(t, k1)
	h := newHarness(t, iss)
	err := h.verifyErr(tamperKid(h.token(k1), "nope"))
	if !errors.Is(err, ErrUnknownKey) || iss.jwksHits.Load() != 1 {
		t.Fatalf("err = %v after %d fetches, want ErrUnknownKey after 1", err, iss.jwksHits.Load())
	}
}
