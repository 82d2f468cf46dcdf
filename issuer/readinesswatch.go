package issuer

import (
	"context"
	"sync"
	"time"

	"github.com/keyroll/keyroll/issuer/readiness"
)

// ReadinessAlert tells that an application's readiness verdict became
// AT RISK or NOT READY.
type ReadinessAlert struct {
	Time          time.Time
	App, ClientID string
	Verdict       readiness.Verdict
	// Previous is the verdict before; "" on this replica's first
	// evaluation.
	Previous readiness.Verdict
	Reason   string
	// NextKID and PromoteAt name the next key and its promotion date;
	// empty and zero when no next key is published.
	NextKID   string
	PromoteAt time.Time
}

// ReadinessWatch judges every application's readiness (as keyroll
// readiness does) whenever the evidence may have changed
// ([Manager.EvidenceChanged]: each rollover check, drill recorded and
// write of key-fetch rollups), keeps the keyroll_applications{verdict}
// gauge current, and alerts once for each application whose verdict
// becomes AT RISK or NOT READY: on a change of verdict only, so a
// verdict that stays is told once, and one that recovers and falls
// again is told again. Verdicts are remembered in memory: after a
// restart, and on each replica, the applications at risk or not ready
// are told once more.
type ReadinessWatch struct {
	m      *Manager
	within time.Duration
	alert  func(ReadinessAlert)

	mu   sync.Mutex
	last map[string]readiness.Verdict // client id → verdict at the last evaluation
}

// NewReadinessWatch returns a watch of m's applications with the warning
// window within; alert, if not nil, is called for each alert and must
// not block.
func NewReadinessWatch(m *Manager, within time.Duration, alert func(ReadinessAlert)) *ReadinessWatch {
	return &ReadinessWatch{m: m, within: within, alert: alert}
}

// Run evaluates at once, then each time the evidence may have changed,
// until ctx ends. A failed evaluation is logged and waits for the next.
func (w *ReadinessWatch) Run(ctx context.Context) {
	for {
		if err := w.Evaluate(ctx); err != nil {
			w.m.logErr("readiness evaluation", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-w.m.EvidenceChanged():
		}
	}
}

// Evaluate judges every application once, sets the gauge and alerts on
// each change to AT RISK or NOT READY.
func (w *ReadinessWatch) Evaluate(ctx context.Context) error {
	apps, err := w.m.Readiness(ctx, w.within)
	if err != nil {
		return err
	}
	w.m.cfg.Metrics.readiness(readiness.Counts(apps))
	now := w.m.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	last := make(map[string]readiness.Verdict, len(apps))
	for _, a := range apps {
		last[a.ClientID] = a.Verdict
		prev, seen := w.last[a.ClientID]
		if (seen && prev == a.Verdict) || (a.Verdict != readiness.AtRisk && a.Verdict != readiness.NotReady) {
			continue
		}
		w.m.cfg.Logger.Warn("application readiness", "app", a.App, "verdict", a.Verdict, "was", prev, "reason", a.Reason)
		if w.alert != nil {
			w.alert(ReadinessAlert{Time: now, App: a.App, ClientID: a.ClientID, Verdict: a.Verdict, Previous: prev,
				Reason: a.Reason, NextKID: a.NextKID, PromoteAt: a.PromoteAt})
		}
	}
	w.last = last
	return nil
}
