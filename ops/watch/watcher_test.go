package watch

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/jwk"
	"github.com/keyroll/keyroll/ops"
	fixtures "github.com/keyroll/keyroll/ops/opstest"
)

const entraKeys = "jwks/entra-common-discovery-keys-2020.json"

// withoutKey returns the JWKS doc without the key kid.
func withoutKey(t *testing.T, doc []byte, kid string) []byte {
	t.Helper()
	keys, _, err := jwk.ParseSet(doc)
	if err != nil {
		t.Fatal(err)
	}
	var set jwk.Set
	for _, k := range keys {
		if k.KID != kid {
			set.Keys = append(set.Keys, k)
		}
	}
	out, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func newWatcher(t *testing.T, srv *fixtures.Server, state string, clk clock.Clock) *Watcher {
	l := &ops.Loader{}
	return &Watcher{Sources: []ops.Source{{Location: srv.URL + "/keys"}}, Load: l.Load, StatePath: state, Clock: clk, Config: cfg}
}

// TestCheckTwiceAroundAChange: two runs, as from cron, around a change of
// the served document report exactly the removed, then the added key.
func TestCheckTwiceAroundAChange(t *testing.T) {
	srv := fixtures.NewServer(t, false)
	full := fixtures.Read(t, entraKeys)
	srv.Set("/keys", full)
	state := filepath.Join(t.TempDir(), "state.json")
	clk := clock.NewFake(time.Date(2020, 7, 1, 0, 0, 0, 0, time.UTC))
	if ev, failed, err := newWatcher(t, srv, state, clk).Check(context.Background()); err != nil || failed != 0 || len(ev) != 0 {
		t.Fatalf("first run: %v %d %v", ev, failed, err)
	}
	srv.Set("/keys", withoutKey(t, full, "huN95IvPfehq34GzBDZ1GXGirnM"))
	clk.Advance(time.Hour)
	ev, _, err := newWatcher(t, srv, state, clk).Check(context.Background())
	if err != nil || kinds(ev) != "key_removed" || ev[0].Thumbprint != "86E37DE48BCF7DE86ADF81B30436751971A2AE73" {
		t.Fatalf("second run: %v %v", ev, err)
	}
	srv.Set("/keys", full)
	clk.Advance(time.Hour)
	ev, _, _ = newWatcher(t, srv, state, clk).Check(context.Background())
	if kinds(ev) != "key_added" || ev[0].KID != "huN95IvPfehq34GzBDZ1GXGirnM" {
		t.Fatalf("third run: %v", ev)
	}
}

// receiver is a webhook that fails its first `fail` requests.
type receiver struct {
	mu       sync.Mutex
	fail     int
	attempts int
	got      []Event
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts++
	if r.attempts <= r.fail {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	var e Event
	json.Unmarshal(body, &e)
	r.got = append(r.got, e)
}

func (r *receiver) snapshot() (int, []Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attempts, append([]Event(nil), r.got...)
}

// TestWebhookRetriesWithBackoff: a receiver that is down at first gets the
// event once it is back; the watch itself never waits for it.
func TestWebhookRetriesWithBackoff(t *testing.T) {
	rcv := &receiver{fail: 2}
	hook := httptest.NewServer(rcv)
	defer hook.Close()
	clk := clock.NewFake(t0)
	n := NewNotifier(hook.URL, clk)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go n.Run(ctx)
	e := newEvent(t0, "p", KeyAdded, &KeyState{ID: "AB", KID: "k"}, "new signing key published")
	n.Enqueue(e)
	clk.BlockUntil(1) // first attempt failed; waiting 1 s
	clk.Advance(time.Second)
	clk.BlockUntil(1) // second failed; waiting 2 s
	if a, got := rcv.snapshot(); a != 2 || len(got) != 0 {
		t.Fatalf("after two failures: %d attempts, %d delivered", a, len(got))
	}
	clk.Advance(2 * time.Second)
	if err := n.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	a, got := rcv.snapshot()
	if a != 3 || len(got) != 1 || got[0].ID != e.ID || got[0].Kind != KeyAdded {
		t.Fatalf("attempts %d, delivered %+v", a, got)
	}
}

// TestUndeliveredEventsSurviveTheRun: with the receiver down for a whole
// cron run, the event is kept in the state file and delivered by the next run.
func TestUndeliveredEventsSurviveTheRun(t *testing.T) {
	srv := fixtures.NewServer(t, false)
	full := fixtures.Read(t, entraKeys)
	srv.Set("/keys", withoutKey(t, full, "M6pX7RHoraLsprfJeRCjSxuURhc"))
	state := filepath.Join(t.TempDir(), "state.json")
	clk := clock.NewFake(time.Date(2020, 7, 1, 0, 0, 0, 0, time.UTC))
	newWatcher(t, srv, state, clk).Check(context.Background())
	srv.Set("/keys", full)

	rcv := &receiver{fail: 1 << 30}
	hook := httptest.NewServer(rcv)
	defer hook.Close()
	w := newWatcher(t, srv, state, clk)
	w.Notifier = NewNotifier(hook.URL, clk)
	ctx, cancel := context.WithCancel(context.Background())
	go w.Notifier.Run(ctx)
	if ev, _, err := w.Check(ctx); err != nil || kinds(ev) != "key_added" {
		t.Fatalf("check: %v %v", ev, err)
	}
	clk.BlockUntil(1) // the delivery failed and waits for its retry
	cancel()
	if err := w.Save(); err != nil {
		t.Fatal(err)
	}
	st, _ := LoadState(state)
	if len(st.Pending) != 1 || st.Pending[0].Kind != KeyAdded {
		t.Fatalf("pending in state: %+v", st.Pending)
	}

	rcv.mu.Lock()
	rcv.fail = 0
	rcv.mu.Unlock()
	w2 := newWatcher(t, srv, state, clk)
	w2.Notifier = NewNotifier(hook.URL, clk)
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	go w2.Notifier.Run(ctx2)
	if ev, _, _ := w2.Check(ctx2); len(ev) != 0 {
		t.Fatalf("second run saw new events: %v", ev)
	}
	if err := w2.Notifier.Drain(ctx2); err != nil {
		t.Fatal(err)
	}
	w2.Save()
	if _, got := rcv.snapshot(); len(got) != 1 || got[0].ID != st.Pending[0].ID {
		t.Fatalf("delivered %+v", got)
	}
	if st, _ := LoadState(state); len(st.Pending) != 0 {
		t.Errorf("still pending: %+v", st.Pending)
	}
}

// TestEnqueueNeverBlocks: with the receiver hanging, queuing more events
// than the queue holds returns at once and drops the oldest.
func TestEnqueueNeverBlocks(t *testing.T) {
	release := make(chan struct{})
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer hook.Close()
	defer close(release)
	n := NewNotifier(hook.URL, clock.NewFake(t0))
	n.QueueSize = 5
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go n.Run(ctx)
	for i := range 8 {
		n.Enqueue(newEvent(t0.Add(time.Duration(i)), "p", KeyAdded, nil, "x"))
	}
	if p := n.Pending(); len(p) != 5 || n.Dropped() != 3 || !p[4].Time.Equal(t0.Add(7)) {
		t.Errorf("pending %d, dropped %d", len(p), n.Dropped())
	}
}

func TestWebhookClientErrorIsFinal(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		http.Error(w, "bad", http.StatusBadRequest)
	}))
	defer hook.Close()
	var logs []string
	n := NewNotifier(hook.URL+"/secret-token", clock.NewFake(t0))
	n.Log = func(s string) { mu.Lock(); logs = append(logs, s); mu.Unlock() }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go n.Run(ctx)
	n.Enqueue(newEvent(t0, "p", KeyAdded, nil, "x"))
	n.Drain(ctx)
	mu.Lock()
	defer mu.Unlock()
	if calls != 1 || n.Dropped() != 1 || len(logs) != 1 {
		t.Errorf("calls %d dropped %d logs %v", calls, n.Dropped(), logs)
	}
	for _, l := range logs {
		if strings.Contains(l, "secret-token") {
			t.Errorf("log leaks the webhook URL: %s", l)
		}
	}
}

// TestRunLoopWithMetrics drives the long-running mode with a fake clock.
func TestRunLoopWithMetrics(t *testing.T) {
	srv := fixtures.NewServer(t, false)
	full := fixtures.Read(t, entraKeys)
	srv.Set("/keys", full)
	clk := clock.NewFake(time.Date(2020, 7, 1, 0, 0, 0, 0, time.UTC))
	w := newWatcher(t, srv, filepath.Join(t.TempDir(), "s.json"), clk)
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	w.Observer = m
	events := make(chan Event, 10)
	w.Emit = func(e Event) { events <- e }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx, time.Hour, func(err error) { t.Error(err) }); close(done) }()
	clk.BlockUntil(1)
	srv.Fail("/keys", http.StatusBadGateway)
	clk.Advance(time.Hour)
	clk.BlockUntil(1)
	clk.Advance(time.Hour) // two hours of failure: past the threshold at the next check
	clk.BlockUntil(1)
	cancel()
	<-done
	if e := <-events; e.Kind != Unreachable {
		t.Errorf("event %v", e)
	}
	values := gather(t, reg)
	if values["keyroll_watch_up"] != 0 || values["keyroll_watch_published_keys"] != 3 {
		t.Errorf("metrics %v", values)
	}
	if d := values["keyroll_watch_certificate_not_after_timestamp_seconds|SsZsBNhZcF3Q9S4trpQBTByNRRI"]; time.Unix(int64(d), 0).UTC().Format(time.DateOnly) != "2025-04-27" {
		t.Errorf("certificate expiry %v, want 2025-04-27", time.Unix(int64(d), 0).UTC())
	}
	if values["keyroll_watch_last_success_timestamp_seconds"] != float64(time.Date(2020, 7, 1, 0, 0, 0, 0, time.UTC).Unix()) {
		t.Errorf("last success %v", values["keyroll_watch_last_success_timestamp_seconds"])
	}
}

func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				if l.GetName() == "kid" {
					name += "|" + l.GetValue()
				}
			}
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
			out[name] = v
		}
	}
	return out
}
