package drill

import (
	"context"
	"encoding/json"

	"github.com/keyroll/keyroll/adminapi"
)

// Recorder stores a drill in the issuer's drill history;
// *adminapi.Client implements it. When [Config.Admin] implements it, every
// drill of a known application is recorded, whatever its verdict.
type Recorder interface {
	RecordDrill(ctx context.Context, app string, rec adminapi.DrillRecordInfo) (*adminapi.DrillRecordInfo, error)
}

var _ Recorder = (*adminapi.Client)(nil)

// maxRecordedReport bounds the report sent with the record; a larger one
// (many web hops) is recorded without its evidence.
const maxRecordedReport = 40 << 10

// Record is the report as the drill history keeps it.
func (r *Report) Record() adminapi.DrillRecordInfo {
	rec := adminapi.DrillRecordInfo{App: r.App, ClientID: r.ClientID, Mode: r.Mode, Target: r.Target, Verdict: string(r.Verdict),
		Reason: r.Reason, Started: r.Started, Finished: r.Finished, Keys: []adminapi.DrillKeyInfo{}}
	for _, res := range r.Results {
		rec.Keys = append(rec.Keys, adminapi.DrillKeyInfo{KID: res.KID, Thumbprint: res.Thumbprint, State: res.State, Outcome: string(res.Outcome)})
	}
	if js, err := json.Marshal(r); err == nil && len(js) <= maxRecordedReport {
		rec.Report = js
	}
	return rec
}

// record stores the report in the drill history, on a fresh context: an
// interrupted drill is recorded too.
func (r *run) record(ctx context.Context) {
	rec, ok := r.cfg.Admin.(Recorder)
	if !ok || r.rep.ClientID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.CleanupTimeout)
	defer cancel()
	out, err := rec.RecordDrill(ctx, r.rep.ClientID, r.rep.Record())
	if err != nil {
		r.rep.HistoryError = err.Error()
		r.say("drill: could not record the drill in the issuer's history: %v\n", err)
		return
	}
	r.rep.HistoryID = out.ID
	r.say("drill: recorded as drill %d (keyroll drill history %s)\n", out.ID, r.rep.App)
}
