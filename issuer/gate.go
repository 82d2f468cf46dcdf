package issuer

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/keyroll/keyroll/issuer/readiness"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// Promotion gates (Config.PromotionGate).
const (
	GateOff      = ""         // promote by the promotion threshold
	GateEvidence = "evidence" // wait for the applications' evidence, up to the critical threshold
)

// Hold returns the promotion gate's latest answer: the next key and the
// applications its promotion waits for (none without a gate).
func (m *Manager) Hold() lifecycle.Hold {
	if h := m.hold.Load(); h != nil {
		return *h
	}
	return lifecycle.Hold{}
}

// askGate asks the promotion gate, with the evidence gate on, which
// applications the next key waits for: every application that
// fetched keys within readiness.GateWindow and has neither fetched the
// next key nor passed a drill with it. Evidence that cannot be read holds
// the promotion (the critical threshold still wins).
func (m *Manager) askGate(ctx context.Context, now time.Time) lifecycle.Hold {
	if m.cfg.PromotionGate != GateEvidence {
		return lifecycle.Hold{}
	}
	keys, _, err := m.ks.Keys(ctx)
	if err != nil {
		h := lifecycle.Hold{Gated: true, KID: m.Hold().KID, Waiting: []string{"(evidence unavailable: " + err.Error() + ")"}}
		return h
	}
	ni := lifecycle.NextIndex(keys)
	if ni < 0 {
		m.hold.Store(&lifecycle.Hold{Gated: true})
		return lifecycle.Hold{Gated: true}
	}
	h := lifecycle.Hold{KID: keys[ni].KID, Gated: true}
	in, err := m.Evidence(ctx, 0)
	if err != nil {
		h.Waiting = []string{"(evidence unavailable: " + err.Error() + ")"}
	} else {
		in.Keys, in.Now = keys, now
		_, h.Waiting = readiness.Hold(in)
	}
	m.hold.Store(&h)
	m.cfg.Metrics.gate(h, lifecycle.PromoteBy(keys, m.cfg.Policy))
	return h
}

// auditWait records, once per change of the waiting list, that a next key
// due by the promotion threshold waits for applications.
func (m *Manager) auditWait(ctx context.Context, h lifecycle.Hold, now time.Time) error {
	if !h.Holds(h.KID) {
		m.waitAudited = ""
		return nil
	}
	snap := m.Snapshot()
	ni := lifecycle.Find(snap.Keys, h.KID)
	if ni < 0 || now.Before(snap.Keys[ni].PromoteAt) {
		return nil // not due yet: nothing waits
	}
	sig := h.KID + "|" + fmt.Sprint(h.Waiting)
	if sig == m.waitAudited {
		return nil
	}
	k := snap.Keys[ni]
	by := lifecycle.PromoteBy(snap.Keys, m.cfg.Policy)
	ev := lifecycle.Event{Time: now, Actor: "policy", KID: k.KID, Thumbprint: k.Thumbprint, From: lifecycle.Next, To: lifecycle.Next,
		Reason: fmt.Sprintf("promotion waits (promotion gate) for %s: not seen with this key; promoted by %s at the latest (critical threshold)",
			readiness.Names(h.Waiting), by.UTC().Format(time.RFC3339))}
	_, _, err := m.ks.Update(ctx, func(ks []lifecycle.Key) (*store.Change, error) {
		i := lifecycle.Find(ks, k.KID)
		if i < 0 || ks[i].State != lifecycle.Next {
			return nil, nil
		}
		return &store.Change{Keys: ks, Events: []lifecycle.Event{ev}}, nil
	})
	if err != nil {
		return err
	}
	m.waitAudited = sig
	m.cfg.Logger.Info("promotion waits", "kid", k.KID, "apps", slices.Clone(h.Waiting), "until", by)
	return nil
}
