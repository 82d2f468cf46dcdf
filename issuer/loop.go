package issuer

import (
	"context"
	"errors"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// Run is the rotation loop. It runs the rollover check every
// RolloverInterval and whenever an action falls due, and picks up changes
// made by other replicas (at once where the store announces them, else every
// PollInterval). It returns when ctx ends.
func (m *Manager) Run(ctx context.Context) {
	var changes <-chan struct{}
	if w, ok := m.ks.(store.Watcher); ok {
		if ch, err := w.Watch(ctx); err == nil {
			changes = ch
		} else {
			m.cfg.Logger.Warn("store change notifications unavailable; polling", "every", m.cfg.PollInterval, "err", err)
		}
	}
	lastCheck := m.Now()
	failures := 0
	for {
		checkAt := m.checkAt(lastCheck)
		if failures > 0 {
			// A check that keeps failing (store read-only, disk full,
			// failover) is retried with backoff, not in a tight loop.
			checkAt = later(checkAt, lastCheck.Add(retryBackoff(failures)))
		}
		wait := min(checkAt.Sub(m.Now()), m.cfg.PollInterval)
		select {
		case <-ctx.Done():
			return
		case _, ok := <-changes:
			if !ok {
				changes = nil // the store stopped announcing changes: poll
				continue
			}
			m.logErr("refresh", m.Refresh(ctx))
		case <-m.cfg.Clock.After(max(wait, 0)):
			if m.Now().Before(checkAt) {
				m.logErr("refresh", m.Refresh(ctx))
				continue
			}
			lastCheck = m.Now()
			_, err := m.Check(ctx)
			m.logErr("rollover check", err)
			if err != nil {
				failures++
				continue
			}
			failures = 0
			m.evidenceChanged()
		}
	}
}

// maxRetryBackoff caps the wait between failing rollover checks.
const maxRetryBackoff = 5 * time.Minute

// retryBackoff is the wait after the n-th consecutive failed check:
// 1 s, 2 s, 4 s, ... up to maxRetryBackoff.
func retryBackoff(n int) time.Duration {
	if n > 20 {
		return maxRetryBackoff
	}
	return min(time.Second<<(n-1), maxRetryBackoff)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// checkAt is when the next rollover check runs: RolloverInterval after the
// last one, or earlier when an action falls due.
func (m *Manager) checkAt(last time.Time) time.Time {
	at := last.Add(m.cfg.Policy.RolloverInterval)
	if s := m.Snapshot(); s != nil {
		if due := lifecycle.NextDueHeld(s.Keys, m.cfg.Policy, m.Now(), m.Hold()); !due.IsZero() && due.Before(at) {
			at = due
		}
		if due := m.nextDestroy(s.Keys); !due.IsZero() && due.Before(at) {
			at = due
		}
	}
	return at
}

func (m *Manager) logErr(what string, err error) {
	if err != nil && !isCanceled(err) {
		m.cfg.Logger.Error(what+" failed", "err", err)
	}
}

func isCanceled(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
