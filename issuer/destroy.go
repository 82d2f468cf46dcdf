package issuer

import (
	"context"
	"sync"
	"time"

	"github.com/keyroll/keyroll/keys"
	"github.com/keyroll/keyroll/lifecycle"
)

// endedKeys remembers which revoked or expired keys this replica has
// settled: their HSM object destroyed, or nothing to destroy (a sealed
// software key, which stays in the store like its public record).
type endedKeys struct {
	mu    sync.Mutex
	done  map[string]bool      // kid → settled
	retry map[string]time.Time // kid → not before; after a failed destroy
	pass  time.Time            // not before; after a pass that could not read the keys
}

// destroyRetry is how long a failed destroy waits before the next try.
const destroyRetry = time.Minute

// destroyEnded destroys the HSM objects of keys revoked or expired at
// least DestroyGrace ago. Nothing may sign with such a key: it is no
// longer published, Signer refuses it, and after the grace every replica
// has seen it leave (PostgreSQL replicas hear of it at once, the others
// within PollInterval). Its public record and certificate stay in the
// store for good. A failure is logged and retried at the next check; it
// never changes a key.
func (m *Manager) destroyEnded(ctx context.Context) {
	m.ended.mu.Lock()
	defer m.ended.mu.Unlock()
	now := m.Now()
	all, _, err := m.ks.Keys(ctx)
	if err != nil {
		m.logErr("read keys to destroy ended HSM keys", err)
		m.ended.pass = now.Add(destroyRetry)
		return
	}
	if m.ended.done == nil {
		m.ended.done, m.ended.retry = map[string]bool{}, map[string]time.Time{}
	}
	for _, k := range all {
		if k.State.Published() || m.ended.done[k.KID] || now.Before(m.destroyAt(k)) {
			continue
		}
		m.signers.Delete(k.KID)
		m.ended.retry[k.KID] = now.Add(destroyRetry)
		stored, err := m.ks.Sealed(ctx, k.KID)
		if err != nil {
			m.logErr("read the private key record of "+k.KID, err)
			continue
		}
		if !keys.IsReference(stored) {
			m.ended.done[k.KID] = true
			delete(m.ended.retry, k.KID)
			continue
		}
		if err := m.cfg.Backend.Destroy(k.KID, stored); err != nil {
			m.cfg.Logger.Warn("could not destroy the HSM key of an ended key; retrying at the next check", "kid", k.KID, "thumbprint", k.Thumbprint, "err", err)
			continue
		}
		m.ended.done[k.KID] = true
		delete(m.ended.retry, k.KID)
		m.cfg.Logger.Info("destroyed the HSM key of an ended key", "kid", k.KID, "thumbprint", k.Thumbprint, "state", k.State, "ended", k.EndedAt)
	}
}

// nextDestroy is when the next ended key's HSM object falls due for
// destruction (zero if none is pending), so the loop wakes for it.
func (m *Manager) nextDestroy(ks []lifecycle.Key) time.Time {
	m.ended.mu.Lock()
	defer m.ended.mu.Unlock()
	var at time.Time
	for _, k := range ks {
		if k.State.Published() || m.ended.done[k.KID] {
			continue
		}
		if due := m.destroyAt(k); at.IsZero() || due.Before(at) {
			at = due
		}
	}
	if !at.IsZero() && at.Before(m.ended.pass) {
		at = m.ended.pass
	}
	return at
}

// destroyAt is when an ended key's HSM object may be destroyed (or tried
// again); m.ended.mu is held.
func (m *Manager) destroyAt(k lifecycle.Key) time.Time {
	at := k.EndedAt.Add(m.cfg.DestroyGrace)
	if r := m.ended.retry[k.KID]; r.After(at) {
		at = r
	}
	return at
}

// discard destroys the HSM object of a freshly generated key that did not
// make it into the store: the plan changed, another replica won the race,
// or the update failed. When the update failed after the change was built
// (maybeStored), the commit may have landed anyway, so the key is
// destroyed only if the store is read and does not hold it; otherwise the
// object stays, labelled with its kid, for an operator to judge.
func (m *Manager) discard(ctx context.Context, kid string, stored []byte, maybeStored bool) {
	if !keys.IsReference(stored) {
		return // a sealed key exists only in this process's memory
	}
	if maybeStored {
		all, _, err := m.ks.Keys(ctx)
		if err != nil {
			m.cfg.Logger.Warn("kept the HSM key of a generation that may have failed; check the store for it", "kid", kid, "err", err)
			return
		}
		if lifecycle.Find(all, kid) >= 0 {
			return
		}
	}
	if err := m.cfg.Backend.Destroy(kid, stored); err != nil {
		m.cfg.Logger.Warn("could not destroy the HSM key of an unused generation", "kid", kid, "err", err)
		return
	}
	m.cfg.Logger.Info("destroyed the HSM key of an unused generation (another replica or plan won)", "kid", kid)
}
