package console

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/keyroll/keyroll/drill"
	"github.com/keyroll/keyroll/issuer/admin"
	"github.com/keyroll/keyroll/issuer/credential"
	"github.com/keyroll/keyroll/store"
)

var (
	_ drill.Admin    = (*admin.Local)(nil)
	_ drill.Recorder = (*admin.Local)(nil)
	_ drill.History  = (*admin.Local)(nil)
)

// DrillHistory keeps finished drills for the Drill page. The default,
// [NewMemoryHistory], forgets them on restart and knows only this
// replica's; a store-backed history plugs in here.
type DrillHistory interface {
	// Record keeps a finished drill.
	Record(ctx context.Context, rec DrillRecord) error
	// Recent returns up to limit drills, newest first.
	Recent(ctx context.Context, limit int) ([]DrillRecord, error)
}

// DrillRecord is one drill run from the console.
type DrillRecord struct {
	ID     string // the run's id in this console
	Admin  string // who ran it
	Report *drill.Report
}

// MemoryHistory is a [DrillHistory] holding the last few drills in memory.
type MemoryHistory struct {
	mu   sync.Mutex
	max  int
	recs []DrillRecord // newest last
}

// NewMemoryHistory keeps the last max drills.
func NewMemoryHistory(max int) *MemoryHistory { return &MemoryHistory{max: max} }

// Record keeps rec, forgetting the oldest beyond the limit.
func (m *MemoryHistory) Record(_ context.Context, rec DrillRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs = append(m.recs, rec)
	if len(m.recs) > m.max {
		m.recs = m.recs[len(m.recs)-m.max:]
	}
	return nil
}

// Recent returns up to limit drills, newest first.
func (m *MemoryHistory) Recent(_ context.Context, limit int) ([]DrillRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []DrillRecord
	for i := len(m.recs) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, m.recs[i])
	}
	return out, nil
}

// drillTimeout bounds a drill started from the console: the tests, one
// refresh wait (drill.DefaultRefreshWait) for rejections the
// application's refresh throttle may explain, and the retries.
const drillTimeout = 10 * time.Minute

// drillRun is a drill in progress (or just finished) on this replica.
type drillRun struct {
	ID, Admin, App, API string
	Started             time.Time

	mu       sync.Mutex
	progress bytes.Buffer
	report   *drill.Report
}

// Write takes the drill's progress lines.
func (d *drillRun) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.progress.Write(p)
}

// state returns the progress so far and the report once finished.
func (d *drillRun) state() (string, *drill.Report) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.progress.String(), d.report
}

// drillRuns are the drills this replica runs, one per application at a time.
type drillRuns struct {
	mu   sync.Mutex
	runs map[string]*drillRun
	wg   sync.WaitGroup
}

func newDrillRuns() *drillRuns { return &drillRuns{runs: map[string]*drillRun{}} }

// errDrillRunning: the application is being drilled already.
var errDrillRunning = errors.New("a drill of this application is running; wait for it to finish")

// add registers a new run unless one on the same application is running;
// finished runs older than an hour are forgotten.
func (rs *drillRuns) add(d *drillRun, now time.Time) error {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for id, x := range rs.runs {
		_, rep := x.state()
		switch {
		case rep == nil && x.App == d.App:
			return errDrillRunning
		case rep != nil && now.Sub(x.Started) > time.Hour:
			delete(rs.runs, id)
		}
	}
	rs.runs[d.ID] = d
	return nil
}

func (rs *drillRuns) get(id string) *drillRun {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.runs[id]
}

func (rs *drillRuns) running() []*drillRun {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	var out []*drillRun
	for _, x := range rs.runs {
		if _, rep := x.state(); rep == nil {
			out = append(out, x)
		}
	}
	return out
}

// Wait blocks until every drill started from the console has finished
// and cleaned up (for shutdown and tests).
func (h *Handler) Wait() { h.runs.wg.Wait() }

type drillData struct {
	Apps    []store.Application // OIDC applications
	App     string              // chosen (confirmation step)
	API     string
	Confirm bool
	Enabled bool
	Running []*drillRun
	History []DrillRecord
	HistErr string
}

func (h *Handler) drillPage(w http.ResponseWriter, r *http.Request, s *session) {
	apps, err := h.m.Apps(r.Context())
	if err != nil {
		h.fail(w, http.StatusInternalServerError, s, "The applications cannot be read: "+err.Error())
		return
	}
	q := r.URL.Query()
	d := drillData{App: q.Get("app"), API: q.Get("api"), Enabled: h.opts.Tokens != nil, Running: h.runs.running()}
	for _, a := range apps {
		if a.Proto() == store.ProtocolOIDC {
			d.Apps = append(d.Apps, a)
		}
	}
	v := view{Title: "Drill", Nav: "drill", Admin: s.admin, CSRF: s.csrf}
	if d.App != "" || d.API != "" {
		if msg := h.checkDrill(r.Context(), d.App, d.API); msg != "" {
			v.Error = msg
		} else {
			d.Confirm = true
			v.Title = "Run a drill of " + d.App
		}
	}
	if d.History, err = h.opts.Drills.Recent(r.Context(), 10); err != nil {
		d.HistErr = "The drill history cannot be read: " + err.Error()
	}
	v.Data = d
	h.render(w, http.StatusOK, "drill.html", v)
}

// checkDrill says what is wrong with a drill request, or "".
func (h *Handler) checkDrill(ctx context.Context, app, api string) string {
	if h.opts.Tokens == nil {
		return "This server issues no test tokens, so it cannot run API drills."
	}
	a, err := h.m.FindApp(ctx, app)
	if err != nil {
		return "Choose an application."
	}
	if a.Proto() != store.ProtocolOIDC {
		return "API drills are for OIDC applications; run a web drill with keyroll drill --web."
	}
	u, err := url.Parse(api)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "Give the API's URL: an absolute http or https URL."
	}
	return ""
}

func (h *Handler) startDrill(w http.ResponseWriter, r *http.Request, s *session) {
	app, api := r.PostFormValue("app"), r.PostFormValue("api")
	if msg := h.checkDrill(r.Context(), app, api); msg != "" {
		h.fail(w, http.StatusBadRequest, s, msg+" Nothing was started.")
		return
	}
	a, _ := h.m.FindApp(r.Context(), app)
	run := &drillRun{ID: credential.Random(12), Admin: s.admin, App: a.Name, API: api, Started: h.m.Now()}
	if err := h.runs.add(run, run.Started); err != nil {
		h.fail(w, http.StatusConflict, s, err.Error()+". Nothing was started.")
		return
	}
	cfg := drill.Config{Admin: admin.NewLocal(h.m, h.opts.Tokens, h.actor(s)), App: a.ClientID, API: api,
		Actor: h.actor(s), HTTP: h.opts.DrillHTTP, Progress: run, Now: h.m.Now}
	h.log.Info("console drill started", "app", a.Name, "api", api, "actor", h.actor(s))
	h.runs.wg.Add(1)
	go func() {
		defer h.runs.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), drillTimeout)
		defer cancel()
		rep := drill.Run(ctx, cfg)
		run.mu.Lock()
		run.report = rep
		run.mu.Unlock()
		if err := h.opts.Drills.Record(context.Background(), DrillRecord{ID: run.ID, Admin: run.Admin, Report: rep}); err != nil {
			h.log.Error("console drill history", "err", err)
		}
		h.log.Info("console drill finished", "app", a.Name, "verdict", rep.Verdict, "actor", "console:"+run.Admin)
	}()
	http.Redirect(w, r, "/console/drill/runs/"+run.ID, http.StatusSeeOther)
}

type drillRunData struct {
	Run      *drillRun
	Progress string
	Report   *drill.Report
}

func (h *Handler) drillRunPage(w http.ResponseWriter, r *http.Request, s *session) {
	run := h.runs.get(r.PathValue("id"))
	if run == nil {
		h.fail(w, http.StatusNotFound, s, "No such drill on this server (drills are kept here for an hour; finished ones are listed on the Drill page).")
		return
	}
	progress, rep := run.state()
	v := view{Title: "Drill of " + run.App, Nav: "drill", Admin: s.admin, CSRF: s.csrf,
		Data: drillRunData{Run: run, Progress: progress, Report: rep}}
	if rep == nil {
		v.Refresh = 2
	}
	h.render(w, http.StatusOK, "drillrun.html", v)
}
