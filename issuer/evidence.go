package issuer

import (
	"context"
	"time"

	"github.com/keyroll/keyroll/issuer/readiness"
	"github.com/keyroll/keyroll/store"
)

// EvidenceChanged is signalled when readiness may have changed on this
// replica: after each rollover check of the loop, each drill recorded and
// each write of key-fetch rollups. Signals coalesce: one pending at most,
// for one reader ([ReadinessWatch]).
func (m *Manager) EvidenceChanged() <-chan struct{} { return m.evidence }

func (m *Manager) evidenceChanged() {
	select {
	case m.evidence <- struct{}{}:
	default:
	}
}

// maxDrillsJudged bounds the drill records readiness reads (newest first).
const maxDrillsJudged = 2000

// RecordDrill stores a drill of the application named by ref (name or
// client id) and returns it with its id.
func (m *Manager) RecordDrill(ctx context.Context, ref string, d store.DrillRecord) (store.DrillRecord, error) {
	app, err := m.FindApp(ctx, ref)
	if err != nil {
		return d, err
	}
	d.ClientID, d.App = app.ClientID, app.Name
	if d.Verdict == "" {
		return d, invalid("a drill record needs a verdict")
	}
	if d.ID, err = m.cfg.Store.PutDrill(ctx, d); err != nil {
		return d, err
	}
	m.cfg.Logger.Info("drill recorded", "app", app.Name, "verdict", d.Verdict, "id", d.ID)
	m.evidenceChanged()
	return d, nil
}

// Drills returns the application's drill records, newest first, at most
// limit (0: all).
func (m *Manager) Drills(ctx context.Context, ref string, limit int) ([]store.DrillRecord, error) {
	app, err := m.FindApp(ctx, ref)
	if err != nil {
		return nil, err
	}
	return m.cfg.Store.Drills(ctx, app.ClientID, limit)
}

// Evidence reads what readiness and the promotion gate are judged on:
// the keys of the current snapshot, the applications, the key fetches of
// the gate window and the drill history. within is the warning window.
func (m *Manager) Evidence(ctx context.Context, within time.Duration) (readiness.Input, error) {
	now := m.Now()
	in := readiness.Input{Now: now, Policy: m.cfg.Policy, Within: within}
	if s := m.Snapshot(); s != nil {
		in.Keys = s.Keys
	}
	var err error
	if in.Apps, err = m.cfg.Store.Apps(ctx); err != nil {
		return in, err
	}
	if in.Fetches, err = m.cfg.Store.Fetches(ctx, now.Add(-readiness.GateWindow)); err != nil {
		return in, err
	}
	in.Drills, err = m.cfg.Store.Drills(ctx, "", maxDrillsJudged)
	return in, err
}

// Readiness judges every application on the evidence (see package
// readiness); within is the warning window for a promotion.
func (m *Manager) Readiness(ctx context.Context, within time.Duration) ([]readiness.App, error) {
	if err := m.Refresh(ctx); err != nil {
		return nil, err
	}
	in, err := m.Evidence(ctx, within)
	if err != nil {
		return nil, err
	}
	return readiness.Evaluate(in), nil
}
