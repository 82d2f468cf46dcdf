package verify

import (
	"context"
	"errors"
	"time"
)

// Refresh fetches the source now, or joins the fetch already running, and
// waits for it (at most one fetch timeout). It returns nil when the source
// delivered or confirmed a usable set, and the reason otherwise; either way
// the last good set keeps serving. It is not throttled.
func (c *Cache) Refresh(ctx context.Context) error {
	c.mu.Lock()
	f := c.flightLocked()
	if f == nil {
		f = c.startLocked(TriggerManual, c.clk.Now())
	}
	c.mu.Unlock()
	err := c.wait(ctx, f)
	if err == nil {
		select { // the keys are served; let the persisted copy catch up
		case <-f.saved:
		case <-ctx.Done():
		}
	}
	return err
}

// Run refreshes on schedule until ctx ends, so keys stay fresh (and the
// persisted cache current) even when no token arrives. Without Run, due
// refreshes are started by verifications. It returns ctx.Err().
func (c *Cache) Run(ctx context.Context) error {
	for {
		c.mu.Lock()
		changed, f := c.changed, c.flightLocked()
		c.mu.Unlock()
		if f != nil {
			select {
			case <-f.done:
			case <-time.After(c.timeout): // a source that ignores its deadline
			case <-ctx.Done():
				return ctx.Err()
			}
			continue
		}
		now := c.clk.Now()
		d := time.Duration(c.nextTry.Load() - now.UnixNano())
		if d <= 0 {
			c.maybeKick(now)
			continue
		}
		select {
		case <-c.clk.After(d):
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// initial gets the first key set: join or start a fetch, unless one
// failed very recently. fresh reports that this call started the fetch,
// so the set is as new as the token being verified.
func (c *Cache) initial(ctx context.Context, now time.Time) (ks *KeySet, fresh bool, err error) {
	c.mu.Lock()
	f := c.flightLocked()
	if f == nil {
		if ks := c.cur.Load(); ks != nil {
			c.mu.Unlock()
			return c.keys(ctx, now)
		}
		if !c.lastStart.IsZero() && now.Sub(c.lastStart) < min(c.minRefresh, c.timeout) {
			err := c.lastErr
			c.mu.Unlock()
			return nil, false, noKeys(err)
		}
		f = c.startLocked(TriggerInitial, now)
		fresh = true
	}
	c.mu.Unlock()
	err = c.wait(ctx, f)
	if c.cur.Load() == nil {
		return nil, false, noKeys(err)
	}
	ks, _, err = c.keys(ctx, now)
	return ks, fresh && ks != nil, err
}

// missOutcome is what a refresh on behalf of an unknown key produced.
type missOutcome struct {
	ks             *KeySet   // the set to look in again (possibly the one already seen)
	final          bool      // no further refresh is due for this token
	throttledUntil time.Time // set when no fetch ran: the window of the last one
	since          time.Time // set when the fetch failed: the provider has failed since
	err            error     // why the fetch failed
}

// refreshOnMiss is called when seen lacks the key a token names. If a set
// newer than seen is served, it returns that at once (not final). Otherwise
// it joins the fetch in progress, or starts one unless a fetch for an
// unknown key started less than the window ago (fetches for other reasons
// do not count). Joining a fetch that was not started for an unknown key
// is not final: it may have begun before the key was published, so the
// caller may ask once more.
func (c *Cache) refreshOnMiss(ctx context.Context, seen *KeySet, now time.Time) missOutcome {
	c.mu.Lock()
	f := c.flightLocked()
	if f == nil {
		if cur := c.cur.Load(); cur != seen {
			c.mu.Unlock() // a fetch finished since the caller looked
			return missOutcome{ks: cur}
		}
		if !c.lastMiss.IsZero() && now.Sub(c.lastMiss) < c.minRefresh {
			until := c.lastMiss.Add(c.minRefresh)
			c.mu.Unlock()
			return missOutcome{ks: seen, final: true, throttledUntil: until}
		}
		c.lastMiss = now
		f = c.startLocked(TriggerMiss, now)
	}
	c.mu.Unlock()
	err := c.wait(ctx, f) // a failed fetch leaves the old set; the caller looks again
	out := missOutcome{ks: c.cur.Load(), final: f.trigger == TriggerMiss}
	if err != nil {
		c.mu.Lock()
		out.final, out.err, out.since = true, err, c.failingSince
		c.mu.Unlock()
		if out.since.IsZero() {
			out.since = now
		}
	}
	return out
}

// maybeKick starts a scheduled refresh in the background when one is due.
// The hot path pays one atomic load; startLocked pushes nextTry past the
// fetch so only one caller per due window takes the lock.
func (c *Cache) maybeKick(now time.Time) {
	if now.UnixNano() < c.nextTry.Load() {
		return
	}
	c.mu.Lock()
	if c.flightLocked() == nil && now.UnixNano() >= c.nextTry.Load() {
		c.startLocked(TriggerScheduled, now)
	}
	c.mu.Unlock()
}

// flightLocked returns the fetch in progress, forgetting one that has run
// for more than twice the fetch timeout (a Source that ignores its
// context) so that it cannot block refreshes forever. c.mu must be held.
func (c *Cache) flightLocked() *flight {
	if c.flight != nil && time.Since(c.flight.started) > 2*c.timeout {
		c.flight = nil
	}
	return c.flight
}

// startLocked launches a fetch. c.mu must be held.
func (c *Cache) startLocked(t Trigger, now time.Time) *flight {
	if c.cur.Load() == nil {
		t = TriggerInitial
	}
	f := &flight{done: make(chan struct{}), saved: make(chan struct{}), started: time.Now(), trigger: t}
	c.flight = f
	c.lastStart = now
	c.nextTry.Store(now.Add(c.timeout).UnixNano())
	go c.run(f, t, c.etag, c.lastMod)
	return f
}

// wait blocks until f is done, ctx ends or one fetch timeout passes.
func (c *Cache) wait(ctx context.Context, f *flight) error {
	t := time.NewTimer(c.timeout)
	defer t.Stop()
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return ErrFetchTimeout
	}
}

// run performs one fetch and installs its result.
func (c *Cache) run(f *flight, t Trigger, etag, lastMod string) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	prev := c.cur.Load()
	if prev == nil {
		etag, lastMod = "", ""
	}
	start := time.Now()
	doc, err := c.src.Fetch(ctx, FetchRequest{Client: c.client, ETag: etag, LastModified: lastMod, MaxSize: c.maxSize})
	c.obs.Fetched(FetchEvent{Source: c.src.Name(), Trigger: t, Duration: time.Since(start),
		Bytes: len(doc.Body), NotModified: doc.NotModified, Err: err})
	now := c.clk.Now()
	ks, outcome, err := c.apply(prev, doc, err, now)
	ev := c.finish(f, ks, doc, err, now)
	ev.Trigger, ev.Outcome = t, outcome
	if ks != nil {
		ev.Skipped = ks.skipped
		ev.StoreErr = c.save(ks, doc.ETag, doc.LastModified)
	}
	close(f.saved)
	c.obs.Refreshed(ev)
}

// apply turns a fetch result into the set to serve, or refuses it.
func (c *Cache) apply(prev *KeySet, doc Document, err error, now time.Time) (*KeySet, Outcome, error) {
	if err != nil {
		return nil, OutcomeFailed, err
	}
	var ks *KeySet
	if doc.NotModified {
		if prev == nil {
			return nil, OutcomeRejected, errors.New("verify: 304 Not Modified with nothing cached")
		}
		ks = prev.withFetched(now)
	} else {
		dec, err := c.src.Decode(doc.Body)
		if err != nil {
			return nil, OutcomeRejected, err
		}
		if ks, err = newKeySet(dec, doc.Body, now); err != nil {
			return nil, OutcomeRejected, err
		}
	}
	if !ks.validUntil.IsZero() && !now.Before(ks.validUntil) {
		return nil, OutcomeRejected, ErrMetadataExpired
	}
	c.seal(ks)
	if prev != nil && prev.digest == ks.digest {
		return ks, OutcomeUnchanged, nil
	}
	return ks, OutcomeUpdated, nil
}

// finish installs ks (if any), schedules the next refresh and releases
// everyone waiting on f.
func (c *Cache) finish(f *flight, ks *KeySet, doc Document, err error, now time.Time) RefreshEvent {
	c.mu.Lock()
	var next time.Time
	if ks != nil {
		c.cur.Store(ks)
		c.etag, c.lastMod = doc.ETag, doc.LastModified
		c.failures, c.lastErr, c.failingSince = 0, nil, time.Time{}
		next = c.nextRefresh(ks, doc, now)
	} else {
		if c.failures == 0 {
			c.failingSince = now
		}
		c.failures++
		c.lastErr = err
		next = now.Add(c.backoff(c.failures))
		if cur := c.cur.Load(); cur == nil || cur.deadline != 0 && now.UnixNano() >= cur.deadline {
			next = now.Add(c.minRefresh) // nothing usable to serve: no backoff
		}
	}
	c.nextTry.Store(next.UnixNano())
	if c.flight == f {
		c.flight = nil
	}
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()

	f.err = err
	close(f.done)
	ev := RefreshEvent{Source: c.src.Name(), NextRefresh: next, Err: err}
	if cur := c.cur.Load(); cur != nil {
		ev.Keys, ev.Fetched = cur.usable, cur.fetched
	}
	return ev
}
