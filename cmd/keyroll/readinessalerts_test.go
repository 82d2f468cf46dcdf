package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/issuer/admin"
	"github.com/keyroll/keyroll/issuer/issuertest"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/ops/watch"
	"github.com/keyroll/keyroll/store"
)

// webhookReceiver is a local webhook: it answers 503 to the first
// `failFirst` posts, then 204, and hands every body it got to posts.
type webhookReceiver struct {
	url   string
	posts chan watch.Event
}

func newWebhookReceiver(t *testing.T, failFirst int32) *webhookReceiver {
	t.Helper()
	r := &webhookReceiver{posts: make(chan watch.Event, 16)}
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var e watch.Event
		if err := json.NewDecoder(req.Body).Decode(&e); err != nil || req.Method != http.MethodPost {
			t.Errorf("webhook got %s: %v", req.Method, err)
		}
		r.posts <- e
		if n.Add(1) <= failFirst {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

func (r *webhookReceiver) next(t *testing.T) watch.Event {
	t.Helper()
	select {
	case e := <-r.posts:
		return e
	case <-time.After(10 * time.Second): // a bound on a failing test, not a wait for state
		t.Fatal("the webhook got nothing")
		return watch.Event{}
	}
}

// readinessFixture is an issuer on a fake clock with metrics, one
// application that fetched the keys and a next key promoted within the
// warning window, which it has not fetched: AT RISK.
type readinessFixture struct {
	m   *issuer.Manager
	clk *clock.Fake
	reg *prometheus.Registry
	app store.Application
}

func newReadinessFixture(t *testing.T) *readinessFixture {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFake(issuertest.Start)
	st := issuertest.TempSQLite(t)
	reg := prometheus.NewRegistry()
	m := issuertest.Open(t, issuer.Config{Issuer: "https://login.example.com", Store: st, Clock: clk, Metrics: issuer.NewMetrics(reg, clk.Now)})
	app, _, err := m.CreateApp(ctx, issuer.AppSpec{Name: "orders"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.RecordFetches(ctx, []store.Fetch{{Day: m.Now(), ClientID: app.ClientID, Document: store.DocJWKS, Count: 1, LastAt: m.Now(), Generation: 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Rotate(ctx, false, "test"); err != nil {
		t.Fatal(err)
	}
	return &readinessFixture{m: m, clk: clk, reg: reg, app: app}
}

func (f *readinessFixture) next() lifecycle.Key {
	ks := f.m.Snapshot().Keys
	return ks[lifecycle.NextIndex(ks)]
}

// drill records a drill of the next key with outcome.
func (f *readinessFixture) drill(t *testing.T, outcome string) {
	t.Helper()
	k := f.next()
	verdict := map[string]string{"accepted": "ready", "rejected": "not ready"}[outcome]
	if _, err := f.m.RecordDrill(context.Background(), "orders", store.DrillRecord{Verdict: verdict, Started: f.m.Now(), Finished: f.m.Now(),
		Keys: []store.DrillKey{{KID: k.KID, Thumbprint: k.Thumbprint, State: "next", Outcome: outcome}}}); err != nil {
		t.Fatal(err)
	}
}

// gauge reads keyroll_applications by verdict.
func (f *readinessFixture) gauge(t *testing.T) map[string]float64 {
	t.Helper()
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "keyroll_applications" {
			continue
		}
		for _, m := range mf.GetMetric() {
			out[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
		}
	}
	return out
}

// TestReadinessWebhook: an application that becomes AT RISK, then NOT
// READY, is posted to the webhook once for each change, with its
// verdict, reason and the promotion date, a failed post retried after the
// notifier's backoff; an evaluation with no change posts nothing; one
// that recovers and falls again is posted again. keyroll_applications
// counts the verdicts.
func TestReadinessWebhook(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := newReadinessFixture(t)
	hook := newWebhookReceiver(t, 1)
	n := readinessNotifier(hook.url, f.clk, slog.New(slog.DiscardHandler))
	go n.Run(ctx)
	w := issuer.NewReadinessWatch(f.m, admin.DefaultWithin, func(a issuer.ReadinessAlert) { n.Enqueue(readinessEvent(f.m.Issuer(), a)) })
	next := f.next()

	if err := w.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	first := hook.next(t) // answered 503
	f.clk.BlockUntil(1)   // the notifier's backoff
	f.clk.Advance(watch.DefaultMinBackoff)
	e := hook.next(t)
	if e.ID != first.ID || e.Kind != watch.AppAtRisk || e.App != "orders" || e.ClientID != f.app.ClientID || e.Verdict != "AT RISK" ||
		!strings.Contains(e.Reason, "has not fetched the next key") || e.PromoteAt == nil || !e.PromoteAt.Equal(next.PromoteAt) || e.KID != next.KID {
		t.Errorf("first alert %+v, retried as %+v", first, e)
	}
	if g := f.gauge(t); g["AT RISK"] != 1 || g["READY"] != 0 || g["NOT READY"] != 0 || g["UNKNOWN"] != 0 {
		t.Errorf("keyroll_applications %v", g)
	}
	if err := n.Drain(ctx); err != nil {
		t.Fatal(err)
	}

	if err := w.Evaluate(ctx); err != nil || len(n.Pending()) != 0 {
		t.Fatalf("an evaluation without a change queued %v (%v)", n.Pending(), err)
	}

	f.drill(t, "rejected")
	if err := w.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	e = hook.next(t)
	if e.Kind != watch.AppNotReady || e.Verdict != "NOT READY" || !strings.Contains(e.Reason, "refused the next key") ||
		!strings.Contains(e.Message, "the next key is promoted on "+next.PromoteAt.Format(time.DateOnly)) {
		t.Errorf("not-ready alert %+v", e)
	}
	if g := f.gauge(t); g["NOT READY"] != 1 || g["AT RISK"] != 0 {
		t.Errorf("keyroll_applications %v", g)
	}

	f.drill(t, "accepted") // READY: nothing to tell
	if err := w.Evaluate(ctx); err != nil || len(n.Pending()) != 0 {
		t.Fatalf("a recovery queued %v (%v)", n.Pending(), err)
	}
	f.drill(t, "rejected")
	if err := w.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	if e = hook.next(t); e.Kind != watch.AppNotReady {
		t.Errorf("falling again: %+v", e)
	}
}

// TestReadinessWatchRun: serve's watch evaluates at start and again when
// a drill is recorded, and posts each change to the webhook.
func TestReadinessWatchRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := newReadinessFixture(t)
	hook := newWebhookReceiver(t, 0)
	wait := startReadinessWatch(ctx, f.m, hook.url, f.clk, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer func() { cancel(); wait() }()
	if e := hook.next(t); e.Kind != watch.AppAtRisk {
		t.Fatalf("at start: %+v", e)
	}
	f.drill(t, "rejected")
	if e := hook.next(t); e.Kind != watch.AppNotReady || e.App != "orders" {
		t.Fatalf("after the drill: %+v", e)
	}
}

// TestServeReadinessWebhookFlag: a webhook that is not an http(s) URL
// stops serve before anything starts; /metrics counts the applications.
func TestServeReadinessWebhookFlag(t *testing.T) {
	_, errs, code := runIn(t, "", "serve", "--listen", "127.0.0.1:0", "--store", "sqlite:"+t.TempDir()+"/keyroll.db", "--readiness-webhook", "ftp://hooks.example.com/x")
	if code != exitFail || !strings.Contains(errs, "--readiness-webhook: the webhook must be an absolute http:// or https:// URL") {
		t.Errorf("exit %d: %s", code, errs)
	}
	s := startServe(t, func(string) string { return "" }, "--store", "sqlite:"+t.TempDir()+"/keyroll.db", "--key-alg", "ES256",
		"--readiness-webhook", "http://127.0.0.1:9/hook")
	resp, err := http.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, v := range []string{"READY", "AT RISK", "NOT READY", "UNKNOWN"} {
		if !strings.Contains(string(body), `keyroll_applications{verdict="`+v+`"}`) {
			t.Errorf("/metrics has no keyroll_applications{verdict=%q}", v)
		}
	}
}
