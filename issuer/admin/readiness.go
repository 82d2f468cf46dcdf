package admin

import (
	"net/http"
	"strconv"
	"time"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/internal/httpjson"
	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/issuer/readiness"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// DefaultWithin is the readiness warning window when the request names
// none: an application that has not fetched the next key is at risk once
// the promotion is this close.
const DefaultWithin = 7 * 24 * time.Hour

// maxDrillReport bounds a drill report stored with its record.
const maxDrillReport = 48 << 10

func (s *Handler) readinessRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/readiness", s.readiness)
	mux.HandleFunc("GET /admin/apps/{app}/drills", s.listDrills)
	mux.HandleFunc("POST /admin/apps/{app}/drills", s.recordDrill)
}

func (s *Handler) readiness(w http.ResponseWriter, r *http.Request) {
	within := DefaultWithin
	if v := r.URL.Query().Get("within"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 || n > 10*365*24*3600 {
			writeErr(w, issuer.Invalid("within: want a positive number of seconds, got %q", issuer.Clip(v)))
			return
		}
		within = time.Duration(n) * time.Second
	}
	if s.fetches != nil {
		if err := s.fetches.Flush(r.Context()); err != nil {
			s.m.Logger().Warn("recording key fetches failed", "err", err)
		}
	}
	apps, err := s.m.Readiness(r.Context(), within)
	if err != nil {
		writeErr(w, err)
		return
	}
	out := adminapi.ReadinessInfo{Now: s.m.Now(), WithinSeconds: int64(within / time.Second), Apps: make([]adminapi.AppReadiness, 0, len(apps))}
	snap := s.m.Snapshot()
	if ni := lifecycle.NextIndex(snap.Keys); ni >= 0 {
		ki := adminapi.NewKeyInfo(snap.Keys[ni], s.m.Policy())
		out.NextKey = &ki
	}
	for _, a := range apps {
		out.Apps = append(out.Apps, appReadiness(a))
	}
	httpjson.Write(w, http.StatusOK, out)
}

func appReadiness(a readiness.App) adminapi.AppReadiness {
	out := adminapi.AppReadiness{App: a.App, ClientID: a.ClientID, Protocol: a.Protocol, Override: a.Override,
		OverrideState: a.OverrideState, OverrideUntil: optTime(a.OverrideUntil), LastKeyFetch: optTime(a.LastKeyFetch),
		HasNextKey: a.HasNextKey, NextKID: a.NextKID, PromoteAt: optTime(a.PromoteAt),
		Verdict: string(a.Verdict), Reason: a.Reason}
	if d := a.LastDrill; d != nil {
		out.LastDrill = &adminapi.DrillSummary{ID: d.ID, Finished: d.Finished, Verdict: d.Verdict, ForCurrentKeys: d.ForCurrentKeys}
	}
	return out
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (s *Handler) recordDrill(w http.ResponseWriter, r *http.Request) {
	var req adminapi.DrillRecordInfo
	if !decode(w, r, &req) {
		return
	}
	d, err := s.m.RecordDrill(r.Context(), r.PathValue("app"), drillRecord(req))
	if err != nil {
		writeErr(w, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, drillInfo(d))
}

// drillRecord is the drill record to store for a request to record one.
func drillRecord(req adminapi.DrillRecordInfo) store.DrillRecord {
	if len(req.Report) > maxDrillReport {
		req.Report = nil // the verdict and per-key results are kept; the evidence is too large
	}
	d := store.DrillRecord{Mode: req.Mode, Target: req.Target, Verdict: req.Verdict, Reason: req.Reason,
		Started: req.Started, Finished: req.Finished, Report: req.Report}
	for _, k := range req.Keys {
		d.Keys = append(d.Keys, store.DrillKey{KID: k.KID, Thumbprint: k.Thumbprint, State: k.State, Outcome: k.Outcome})
	}
	return d
}

func (s *Handler) listDrills(w http.ResponseWriter, r *http.Request) {
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeErr(w, issuer.Invalid("limit: want a number ≥ 0, got %q", issuer.Clip(v)))
			return
		}
		limit = n
	}
	ds, err := s.m.Drills(r.Context(), r.PathValue("app"), limit)
	if err != nil {
		writeErr(w, err)
		return
	}
	httpjson.Write(w, http.StatusOK, drillInfos(ds))
}

func drillInfos(ds []store.DrillRecord) []adminapi.DrillRecordInfo {
	out := make([]adminapi.DrillRecordInfo, 0, len(ds))
	for _, d := range ds {
		out = append(out, drillInfo(d))
	}
	return out
}

func drillInfo(d store.DrillRecord) adminapi.DrillRecordInfo {
	out := adminapi.DrillRecordInfo{ID: d.ID, App: d.App, ClientID: d.ClientID, Mode: d.Mode, Target: d.Target,
		Verdict: d.Verdict, Reason: d.Reason, Started: d.Started, Finished: d.Finished, Keys: []adminapi.DrillKeyInfo{}, Report: d.Report}
	for _, k := range d.Keys {
		out.Keys = append(out.Keys, adminapi.DrillKeyInfo{KID: k.KID, Thumbprint: k.Thumbprint, State: k.State, Outcome: k.Outcome})
	}
	return out
}
