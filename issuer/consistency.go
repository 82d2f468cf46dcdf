package issuer

import (
	"context"
	"errors"
	"fmt"

	"github.com/keyroll/keyroll/keys"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// consistent reports why keys cannot keep rolling (a *lifecycle.StateError),
// or nil. A missing primary the policy restores on its next check is not
// counted.
func (m *Manager) consistent(ks []lifecycle.Key) error {
	return lifecycle.Consistent(ks, m.cfg.Policy, m.Now(), true)
}

// RepairResult is what Repair found and did (or, in a dry run, would do).
type RepairResult struct {
	Problems []lifecycle.Problem // before the repair
	Events   []lifecycle.Event   // the transitions; a fresh key's kid is "(new key)" in a dry run
	Applied  bool
}

// Repair computes the smallest change that makes the key set consistent
// again (lifecycle.Repair) and, with apply, commits it as an audited
// transition. Without apply nothing is written. A consistent key set needs
// no repair: the result has no problems and no events.
func (m *Manager) Repair(ctx context.Context, apply bool, actor string) (RepairResult, error) {
	ks, _, err := m.ks.Keys(ctx)
	if err != nil {
		return RepairResult{}, err
	}
	now := m.Now()
	res := RepairResult{Problems: lifecycle.Problems(ks)}
	if len(res.Problems) == 0 {
		return res, nil
	}
	if !apply {
		placeholder := &lifecycle.Key{KID: "(new key)", Alg: m.cfg.KeySpec.Alg, NotBefore: now, NotAfter: now.Add(m.cfg.Policy.CertificateDuration)}
		_, res.Events, _, err = lifecycle.Repair(ks, placeholder, m.cfg.Policy, now, actor)
		return res, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var fresh *keys.Material
	var sealed []byte
	if _, _, need, _ := lifecycle.Repair(ks, nil, m.cfg.Policy, now, actor); need {
		if fresh, sealed, err = m.cfg.Backend.Generate(m.cfg.KeySpec, m.cfg.Issuer, now.Add(-m.cfg.Policy.ClockSkew), now.Add(m.cfg.Policy.CertificateDuration)); err != nil {
			return res, fmt.Errorf("issuer: generate a key: %w", err)
		}
	}
	used := false
	_, _, err = m.ks.Update(ctx, func(cur []lifecycle.Key) (*store.Change, error) {
		used = false
		var fk *lifecycle.Key
		if fresh != nil {
			fk = &fresh.Key
		}
		out, ev, need, err := lifecycle.Repair(cur, fk, m.cfg.Policy, now, actor)
		if err != nil || len(ev) == 0 {
			return nil, err
		}
		if need {
			return nil, errors.New("issuer: the key set changed during the repair; run it again")
		}
		c := &store.Change{Keys: out, Events: ev}
		if fresh != nil && lifecycle.Find(out, fresh.Key.KID) >= 0 {
			c.Sealed, used = map[string][]byte{fresh.Key.KID: sealed}, true
		}
		res.Events = ev
		return c, nil
	})
	if fresh != nil && (err != nil || !used) {
		m.discard(ctx, fresh.Key.KID, sealed, used)
	}
	if err != nil {
		return res, fmt.Errorf("issuer: repair: %w", err)
	}
	if fresh != nil && used {
		m.signers.Store(fresh.Key.KID, fresh.Signer)
	}
	for _, e := range res.Events {
		m.cfg.Logger.Info("key transition", "kid", e.KID, "thumbprint", e.Thumbprint, "from", e.From, "to", e.To, "actor", e.Actor, "reason", e.Reason)
		m.cfg.Metrics.transition(e)
	}
	res.Applied = len(res.Events) > 0
	return res, m.refreshLocked(ctx)
}
