package verify

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/jws"
)

// repeatLen counts the tokens the repeat cache holds.
func repeatLen(v *Verifier) int {
	n := 0
	for i := range v.repeat.shards {
		sh := &v.repeat.shards[i]
		sh.mu.RLock()
		n += len(sh.m)
		sh.mu.RUnlock()
	}
	return n
}

func TestRepeatTokenAnsweredFromCache(t *testing.T) {
	k1 := rsaKey(t, "k1")
	h := newHarness(t, newFakeIssuer(t, k1))
	tok := h.token(k1)
	first := h.mustVerify(tok)
	sum := tokenSum(tok)
	if _, hit, _ := h.v.lookup(h.ctx, &sum, h.clk.Now()); !hit {
		t.Fatal("a verified token is not remembered")
	}
	again := h.mustVerify(tok)
	if again == first || again.Subject != first.Subject || again.KeyID != "k1" || again.Payload() != first.Payload() {
		t.Fatalf("repeat claims %+v, first %+v", again, first)
	}
	// The caller's copy is its own: changing it changes no later answer.
	again.Subject, again.Audience[0] = "mallory", "api://other"
	if c := h.mustVerify(tok); c.Subject != first.Subject || c.Audience[0] != testAudience {
		t.Fatalf("a caller's change leaked into the cache: %+v", c)
	}
	if got := h.v.Count(ResultOK); got != 3 {
		t.Fatalf("ResultOK count %d, want 3 (hits are counted)", got)
	}
}

func TestRepeatTokenExpiryRecheckedEveryCall(t *testing.T) {
	k1 := rsaKey(t, "k1")
	h := newHarness(t, newFakeIssuer(t, k1), WithRefreshInterval(24*time.Hour))
	tok := h.token(k1) // exp = now + 1h
	h.mustVerify(tok)
	h.clk.Advance(time.Hour + DefaultSkew - time.Second)
	h.mustVerify(tok)
	h.clk.Advance(2 * time.Second)
	var exp *ExpiredError
	if err := h.verifyErr(tok); !errors.As(err, &exp) {
		t.Fatalf("err = %v, want ExpiredError", err)
	}
	if repeatLen(h.v) != 0 {
		t.Fatal("an expired token stays remembered")
	}
}

func TestRepeatTokenDroppedWhenItsKeyLeaves(t *testing.T) {
	k1, k2 := rsaKey(t, "k1"), rsaKey(t, "k2")
	iss := newFakeIssuer(t, k1, k2)
	h := newHarness(t, iss)
	tok := h.token(k1)
	other := h.token(k2)
	h.mustVerify(tok)
	h.mustVerify(other)
	iss.publish(k2) // k1 revoked
	if err := h.v.Cache().Refresh(h.ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.verifyErr(tok); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("token of a withdrawn key: %v, want ErrUnknownKey", err)
	}
	h.mustVerify(other) // its key is still there: still a hit
	sum := tokenSum(tok)
	if _, hit, _ := h.v.lookup(h.ctx, &sum, h.clk.Now()); hit {
		t.Fatal("the withdrawn key's token is still remembered")
	}
}

func TestRepeatTokenFailuresNeverCached(t *testing.T) {
	k1, rogue := rsaKey(t, "k1"), rsaKey(t, "rogue")
	h := newHarness(t, newFakeIssuer(t, k1))
	forged := rogue.signHeader(t, jws.Header{Alg: "RS256", Kid: k1.kid}, stdClaims(h.issuer, h.clk.Now()))
	wrongAud := stdClaims(h.issuer, h.clk.Now())
	wrongAud["aud"] = "api://other"
	for _, tok := range []string{forged, k1.sign(t, wrongAud), "not.a.token"} {
		for range 2 {
			h.verifyErr(tok)
		}
	}
	if n := repeatLen(h.v); n != 0 {
		t.Fatalf("%d failures remembered", n)
	}
}

func TestRepeatTokenStaleKeysFailClosed(t *testing.T) {
	k1 := rsaKey(t, "k1")
	iss := newFakeIssuer(t, k1)
	h := newHarness(t, iss, WithMaxStale(2*time.Hour))
	tok := k1.sign(t, func() claims {
		c := stdClaims(h.issuer, h.clk.Now())
		c["exp"] = h.clk.Now().Add(5 * time.Hour).Unix()
		return c
	}())
	h.mustVerify(tok)
	iss.SetDown(true)
	h.clk.Advance(3 * time.Hour)
	if err := h.verifyErr(tok); !errors.Is(err, ErrStale) {
		t.Fatalf("err = %v, want ErrStale", err)
	}
}

// A flood of distinct valid tokens fills the cache to its bound and no
// further; the oldest are forgotten first.
func TestRepeatTokenCacheBounded(t *testing.T) {
	k1 := ecKey(t, "k1")
	h := newHarness(t, newFakeIssuer(t, k1), WithRepeatCache(16))
	toks := make([]string, 200)
	for i := range toks {
		c := stdClaims(h.issuer, h.clk.Now())
		c["jti"] = fmt.Sprint("flood-", i)
		toks[i] = k1.sign(t, c)
		h.mustVerify(toks[i])
		if n := repeatLen(h.v); n > 16 {
			t.Fatalf("after %d tokens the cache holds %d, bound 16", i+1, n)
		}
	}
	for i, tok := range toks {
		sum := tokenSum(tok)
		_, hit, _ := h.v.lookup(h.ctx, &sum, h.clk.Now())
		if want := i >= len(toks)-16; hit != want {
			t.Fatalf("token %d remembered = %v, want %v", i, hit, want)
		}
	}
	// Large tokens: the byte bound holds whatever the entry count allows.
	h2 := newHarness(t, h.iss, WithRepeatCache(100000))
	big := stdClaims(h.issuer, h.clk.Now())
	big["pad"] = strings.Repeat("x", 10<<10)
	for i := range 1000 {
		big["jti"] = fmt.Sprint("big-", i)
		h2.mustVerify(k1.sign(t, big))
	}
	if b, n := h2.v.repeat.bytes, repeatLen(h2.v); b > repeatCacheBytes || n >= 1000 || n == 0 {
		t.Fatalf("cache holds %d tokens, %d bytes; bound %d bytes", n, b, repeatCacheBytes)
	}
}

func TestRepeatCacheDisabled(t *testing.T) {
	k1 := rsaKey(t, "k1")
	h := newHarness(t, newFakeIssuer(t, k1), WithRepeatCache(0))
	h.mustVerify(h.token(k1))
	if h.v.repeat != nil {
		t.Fatal("WithRepeatCache(0) did not disable the cache")
	}
	if _, err := New("https://x", StaticBytes("x", nil), WithAudience("a"), WithRepeatCache(-1)); err == nil {
		t.Fatal("a negative size was accepted")
	}
}
