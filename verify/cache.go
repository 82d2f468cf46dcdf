package verify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keyroll/keyroll/clock"
)

// Cache holds the last good [KeySet] of one [Source] and refreshes it:
// on schedule (or sooner when the source's Cache-Control max-age says so),
// when a token names an unknown key (at most one such fetch per
// unknown-key window), and never by replacing a good set with an unusable
// one. Readers load an immutable
// snapshot through an atomic pointer and never lock; concurrent refresh
// requests share one fetch. A Cache is safe for concurrent use.
type Cache struct {
	src        Source
	clk        clock.Clock
	obs        Observer
	client     *http.Client
	refresh    time.Duration
	minRefresh time.Duration
	timeout    time.Duration
	maxSize    int64
	maxStale   time.Duration
	store      CacheStore

	cur     atomic.Pointer[KeySet]
	nextTry atomic.Int64 // unix nanos at which the next scheduled refresh is due

	mu           sync.Mutex // guards the fields below; never taken by a reader with a known key
	flight       *flight
	lastStart    time.Time
	lastMiss     time.Time // when the last fetch for an unknown key started
	failures     int
	failingSince time.Time // when the current run of failures began
	lastErr      error
	etag         string
	lastMod      string        // Last-Modified validator of the served set
	changed      chan struct{} // closed and replaced after every refresh

	saveMu sync.Mutex // serialises CacheStore.Save
}

// flight is one fetch in progress; everyone who needs keys waits on done,
// Refresh also on saved (the persisted copy written).
type flight struct {
	done    chan struct{}
	saved   chan struct{}
	started time.Time // wall clock: fetch timeouts are real time
	trigger Trigger
	err     error
}

// NewCache returns a cache for src. With a [CacheStore] it loads the
// persisted document synchronously, so tokens verify at once even if the
// source is down; otherwise the first verification (or [Cache.Refresh],
// or [Cache.Run]) fetches.
func NewCache(src Source, opts ...Option) (*Cache, error) {
	if src == nil {
		return nil, errors.New("verify: nil source")
	}
	s, err := newSettings(opts)
	if err != nil {
		return nil, err
	}
	if err := s.checkCache(); err != nil {
		return nil, err
	}
	c := &Cache{
		src: src, clk: s.clock, obs: observerOrNop(s.observer), client: s.client,
		refresh: s.refresh, minRefresh: s.minRefresh, timeout: s.timeout,
		maxSize: s.maxSize, maxStale: s.maxStale, store: s.store,
		changed: make(chan struct{}),
	}
	if c.clk == nil {
		c.clk = clock.Real{}
	}
	if c.client == nil {
		c.client = defaultClient
	}
	c.load()
	return c, nil
}

// Source returns the cache's source.
func (c *Cache) Source() Source { return c.src }

// KeySet returns the key set being served, or nil before the first good fetch.
func (c *Cache) KeySet() *KeySet { return c.cur.Load() }

// keys returns the snapshot to verify with at now, fetching the first one
// if there is none (waiting at most one fetch timeout), and starts a
// scheduled refresh in the background when one is due. fresh reports a
// set fetched by this very call (nothing newer can be had).
func (c *Cache) keys(ctx context.Context, now time.Time) (ks *KeySet, fresh bool, err error) {
	ks = c.cur.Load()
	if ks == nil {
		return c.initial(ctx, now)
	}
	c.maybeKick(now)
	if ks.deadline != 0 && now.UnixNano() >= ks.deadline {
		return nil, false, c.staleErr(ks, now)
	}
	return ks, false, nil
}

func (c *Cache) staleErr(ks *KeySet, now time.Time) error {
	if !ks.validUntil.IsZero() && !now.Before(ks.validUntil) {
		return fmt.Errorf("%w: %w at %s", ErrStale, ErrMetadataExpired, ks.validUntil.UTC().Format(time.RFC3339))
	}
	return fmt.Errorf("%w: keys last confirmed %s ago, more than the allowed %s",
		ErrStale, now.Sub(ks.fetched).Truncate(time.Second), c.maxStale)
}

// Status is a report on a cache, for readiness checks and operators.
type Status struct {
	Source       string
	Ready        error         // nil when tokens can be verified: see Cache.Ready
	Keys         int           // usable keys served
	Fetched      time.Time     // when the source last delivered or confirmed them
	Age          time.Duration // now - Fetched
	NextRefresh  time.Time
	Failures     int       // consecutive failed or rejected refreshes
	LastError    error     // why the last refresh failed, if it did
	FailingSince time.Time // when the current run of failures began; zero if none
	LastMiss     time.Time // when the last fetch for an unknown key started
}

// Status reports the cache's state.
func (c *Cache) Status() Status {
	now := c.clk.Now()
	c.mu.Lock()
	st := Status{Source: c.src.Name(), Failures: c.failures, LastError: c.lastErr,
		FailingSince: c.failingSince, LastMiss: c.lastMiss}
	c.mu.Unlock()
	st.NextRefresh = time.Unix(0, c.nextTry.Load())
	st.Ready = c.Ready()
	if ks := c.cur.Load(); ks != nil {
		st.Keys, st.Fetched, st.Age = ks.usable, ks.fetched, now.Sub(ks.fetched)
	}
	return st
}

// Ready returns nil when the cache can verify tokens: it holds a usable
// key set that is neither past MaxStale nor past the metadata validUntil.
// Otherwise it returns [ErrNoKeys] (wrapping the last fetch error) or [ErrStale].
func (c *Cache) Ready() error {
	ks := c.cur.Load()
	if ks == nil {
		c.mu.Lock()
		err := c.lastErr
		c.mu.Unlock()
		return noKeys(err)
	}
	now := c.clk.Now()
	if ks.deadline != 0 && now.UnixNano() >= ks.deadline {
		return c.staleErr(ks, now)
	}
	return nil
}

// Age returns how long ago the source last delivered or confirmed the
// served key set; ok is false when there is none.
func (c *Cache) Age() (age time.Duration, ok bool) {
	ks := c.cur.Load()
	if ks == nil {
		return 0, false
	}
	return c.clk.Now().Sub(ks.fetched), true
}

func noKeys(err error) error {
	if err == nil {
		return ErrNoKeys
	}
	return fmt.Errorf("%w: %w", ErrNoKeys, err)
}

// seal computes the instant from which ks must not be used.
func (c *Cache) seal(ks *KeySet) {
	var dl time.Time
	if c.maxStale > 0 {
		dl = ks.fetched.Add(c.maxStale)
	}
	if !ks.validUntil.IsZero() && (dl.IsZero() || ks.validUntil.Before(dl)) {
		dl = ks.validUntil
	}
	ks.deadline = 0
	if !dl.IsZero() {
		ks.deadline = dl.UnixNano()
	}
}

// nextRefresh is when a set confirmed at now should be fetched again:
// the server's max-age or the metadata cacheDuration, clamped between the
// minimum and the scheduled interval, and early enough to renew before
// the set goes stale.
func (c *Cache) nextRefresh(ks *KeySet, doc Document, now time.Time) time.Time {
	d := c.refresh
	switch {
	case doc.NoCache:
		d = c.minRefresh
	case doc.MaxAge > 0:
		d = doc.MaxAge
	}
	if ks.cacheDuration > 0 {
		d = min(d, ks.cacheDuration)
	}
	d = min(max(d, c.minRefresh), c.refresh)
	next := now.Add(d)
	if ks.deadline != 0 {
		half := time.Unix(0, ks.fetched.UnixNano()+(ks.deadline-ks.fetched.UnixNano())/2)
		if half.Before(next) {
			next = half
		}
		if floor := now.Add(c.minRefresh); next.Before(floor) {
			next = floor
		}
	}
	return next
}

// backoff is the wait after the n-th consecutive failure while a usable
// set is served: the minimum interval, doubling, capped at an hour and at
// the refresh interval.
func (c *Cache) backoff(n int) time.Duration {
	d := c.minRefresh
	for i := 1; i < n && d < maxRetryBackoff; i++ {
		d *= 2
	}
	return max(min(d, maxRetryBackoff, c.refresh), c.minRefresh)
}
