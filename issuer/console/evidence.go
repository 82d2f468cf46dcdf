package console

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/keyroll/keyroll/drill"
	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/store"
)

// IssuerReadiness is the [Readiness] of keyroll readiness: m's verdicts
// (package issuer/readiness) with the warning window within, on the
// evidence written so far; with fetches, the key fetches counted since
// its last write are written first, as the admin API does.
func IssuerReadiness(m *issuer.Manager, fetches *issuer.FetchRecorder, within time.Duration) Readiness {
	return issuerReadiness{m: m, fetches: fetches, within: within}
}

type issuerReadiness struct {
	m       *issuer.Manager
	fetches *issuer.FetchRecorder
	within  time.Duration
}

func (r issuerReadiness) Verdicts(ctx context.Context) (map[string]ReadinessVerdict, error) {
	if r.fetches != nil {
		if err := r.fetches.Flush(ctx); err != nil {
			r.m.Logger().Warn("recording key fetches failed", "err", err)
		}
	}
	apps, err := r.m.Readiness(ctx, r.within)
	if err != nil {
		return nil, err
	}
	now := r.m.Now()
	out := make(map[string]ReadinessVerdict, len(apps))
	for _, a := range apps {
		out[a.ClientID] = ReadinessVerdict{Verdict: string(a.Verdict), Reason: a.Reason, Checked: now}
	}
	return out, nil
}

// StoreHistory is the [DrillHistory] of the issuer's store, the one
// keyroll drill history reads: every replica shows every drill, from
// the console or the command line. A drill run from the console records
// itself there (through admin.Local, as a command-line drill does through
// the admin API), so Record only reports a drill that could not be.
func StoreHistory(m *issuer.Manager) DrillHistory { return storeHistory{m: m} }

type storeHistory struct{ m *issuer.Manager }

// Record checks that the drill recorded itself.
func (h storeHistory) Record(_ context.Context, rec DrillRecord) error {
	if rep := rec.Report; rep != nil && rep.HistoryID == 0 && rep.HistoryError != "" {
		return errors.New("the drill was not recorded: " + rep.HistoryError)
	}
	return nil
}

// Recent returns the latest drills of every application, newest first.
func (h storeHistory) Recent(ctx context.Context, limit int) ([]DrillRecord, error) {
	ds, err := h.m.Store().Drills(ctx, "", limit)
	if err != nil {
		return nil, err
	}
	out := make([]DrillRecord, 0, len(ds))
	for _, d := range ds {
		rep := reportOf(d)
		by := "command line"
		if rep.Actor != "" {
			by = strings.TrimPrefix(rep.Actor, "console:")
		}
		out = append(out, DrillRecord{ID: strconv.FormatInt(d.ID, 10), Admin: by, Report: rep})
	}
	return out, nil
}

// reportOf is the drill's report as recorded, or, when it was recorded
// without one (too large), what the record says.
func reportOf(d store.DrillRecord) *drill.Report {
	rep := &drill.Report{}
	if len(d.Report) == 0 || json.Unmarshal(d.Report, rep) != nil {
		rep = &drill.Report{Mode: d.Mode, Target: d.Target, Reason: d.Reason, Started: d.Started}
		for _, k := range d.Keys {
			rep.Results = append(rep.Results, drill.Result{KID: k.KID, Thumbprint: k.Thumbprint, State: k.State, Outcome: drill.Outcome(k.Outcome)})
		}
	}
	// The record's own fields are what readiness judged.
	rep.App, rep.ClientID, rep.Verdict, rep.Finished, rep.HistoryID = d.App, d.ClientID, drill.Verdict(d.Verdict), d.Finished, d.ID
	return rep
}
