package issuer

import (
	"context"
	"fmt"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
)

// PublishTransient publishes a fresh key that is never promoted, as an
// emergency rollover would, so a drill can test whether relying parties
// refresh on an unknown key. It is withdrawn by WithdrawTransient, or by
// the policy after lifecycle.TransientLifetime if the drill dies.
func (m *Manager) PublishTransient(ctx context.Context, actor string) (lifecycle.Key, error) {
	ev, err := m.update(ctx, actor, func([]lifecycle.Key, time.Time) ([]lifecycle.Action, error) {
		return []lifecycle.Action{{Kind: lifecycle.Generate, Transient: true, Reason: "transient key for a rollover drill"}}, nil
	})
	if err != nil {
		return lifecycle.Key{}, err
	}
	for _, k := range m.Snapshot().Keys {
		if len(ev) > 0 && k.KID == ev[0].KID {
			return k, nil
		}
	}
	return lifecycle.Key{}, fmt.Errorf("issuer: transient key not found after publishing it")
}

// WithdrawTransient unpublishes a transient key now. Withdrawing one that
// is already gone is not an error, so cleanup can run more than once.
func (m *Manager) WithdrawTransient(ctx context.Context, ref, actor string) error {
	_, err := m.update(ctx, actor, func(ks []lifecycle.Key, _ time.Time) ([]lifecycle.Action, error) {
		i := lifecycle.Find(ks, ref)
		if i < 0 {
			return nil, fmt.Errorf("%w: %s", lifecycle.ErrUnknownKey, ref)
		}
		if !ks[i].Transient {
			return nil, fmt.Errorf("issuer: %s is not a transient key; revoke it instead", ks[i].Thumbprint)
		}
		if !ks[i].State.Published() {
			return nil, nil
		}
		return []lifecycle.Action{{Kind: lifecycle.Expire, KID: ks[i].KID, Reason: "rollover drill finished"}}, nil
	})
	return err
}
