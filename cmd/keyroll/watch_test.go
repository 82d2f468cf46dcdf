package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/jwk"
	fixtures "github.com/keyroll/keyroll/ops/opstest"
	"github.com/keyroll/keyroll/ops/watch"
)

const entraKeys2020 = "jwks/entra-common-discovery-keys-2020.json"

// useWatchClock makes watch run on a fake clock for the test.
func useWatchClock(t *testing.T, at time.Time) *clock.Fake {
	clk := clock.NewFake(at)
	watchClock = clk
	t.Cleanup(func() { watchClock = clock.Real{} })
	return clk
}

func dropKey(t *testing.T, doc []byte, kid string) []byte {
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
	out, _ := json.Marshal(set)
	return out
}

// TestWatchOnceAroundAChange: "watch --once" run twice around a change of
// the served document reports exactly the removed key, then the added one.
func TestWatchOnceAroundAChange(t *testing.T) {
	useWatchClock(t, time.Date(2020, 7, 1, 0, 0, 0, 0, time.UTC))
	srv := fixtures.NewServer(t, false)
	full := fixtures.Read(t, entraKeys2020)
	srv.Set("/keys", full)
	state := filepath.Join(t.TempDir(), "state.json")
	args := []string{"watch", "--once", "--state", state, srv.URL + "/keys"}
	if out, stderr, code := opsRun(t, args...); code != 0 || out != "" {
		t.Fatalf("first run: exit %d out %q err %q", code, out, stderr)
	}
	srv.Set("/keys", dropKey(t, full, "M6pX7RHoraLsprfJeRCjSxuURhc"))
	out, _, code := opsRun(t, args...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 1 || !strings.Contains(lines[0], " key_removed ") || !strings.Contains(lines[0], "thumbprint=33AA57ED11E8ADA2ECA6B7C97910A34B1B944617") {
		t.Fatalf("second run: exit %d\n%s", code, out)
	}
	srv.Set("/keys", full)
	out, _, _ = opsRun(t, append(args, "--json")...)
	var e watch.Event
	if err := json.Unmarshal([]byte(out), &e); err != nil || e.Kind != watch.KeyAdded || e.KID != "M6pX7RHoraLsprfJeRCjSxuURhc" || strings.Count(out, "\n") != 1 {
		t.Fatalf("third run: %v\n%s", err, out)
	}
}

func TestWatchOnceUnreachable(t *testing.T) {
	clk := useWatchClock(t, time.Date(2020, 7, 1, 0, 0, 0, 0, time.UTC))
	srv := fixtures.NewServer(t, false)
	srv.Set("/keys", fixtures.Read(t, entraKeys2020))
	state := filepath.Join(t.TempDir(), "state.json")
	args := []string{"watch", "--once", "--state", state, "--unreachable-after", "30m", srv.URL + "/keys"}
	opsRun(t, args...)
	srv.Fail("/keys", http.StatusInternalServerError)
	if out, stderr, code := opsRun(t, args...); code != 1 || out != "" || !strings.Contains(stderr, "HTTP 500") {
		t.Errorf("first failure: exit %d out %q err %q", code, out, stderr)
	}
	clk.Advance(31 * time.Minute)
	if out, _, _ := opsRun(t, args...); !strings.Contains(out, " unreachable ") {
		t.Errorf("after 31 minutes: %q", out)
	}
}

// hookReceiver fails its first `fail` requests with 503.
type hookReceiver struct {
	mu     sync.Mutex
	fail   int
	calls  int
	events []watch.Event
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls++
	if h.calls <= h.fail {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var e watch.Event
	json.Unmarshal(body, &e)
	h.events = append(h.events, e)
}

func (h *hookReceiver) got() (int, []watch.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls, append([]watch.Event(nil), h.events...)
}

// TestWatchWebhookDownThenUp: the receiver fails; the watch goes on, the
// event is retried with backoff within the run and delivered.
func TestWatchWebhookDownThenUp(t *testing.T) {
	clk := useWatchClock(t, time.Date(2020, 7, 1, 0, 0, 0, 0, time.UTC))
	srv := fixtures.NewServer(t, false)
	full := fixtures.Read(t, entraKeys2020)
	srv.Set("/keys", dropKey(t, full, "M6pX7RHoraLsprfJeRCjSxuURhc"))
	state := filepath.Join(t.TempDir(), "state.json")
	opsRun(t, "watch", "--once", "--state", state, srv.URL+"/keys")
	srv.Set("/keys", full)

	rcv := &hookReceiver{fail: 1}
	hook := httptest.NewServer(rcv)
	defer hook.Close()
	type result struct {
		out  string
		code int
	}
	done := make(chan result)
	go func() {
		out, _, code := opsRunCtx(context.Background(), "watch", "--once", "--state", state, "--webhook", hook.URL, "--webhook-wait", "1m", srv.URL+"/keys")
		done <- result{out, code}
	}()
	clk.BlockUntil(1) // the first delivery failed; the retry waits on the clock
	clk.Advance(time.Second)
	r := <-done
	calls, events := rcv.got()
	if r.code != 0 || !strings.Contains(r.out, "key_added") || calls != 2 || len(events) != 1 || events[0].Kind != watch.KeyAdded {
		t.Fatalf("exit %d, %d calls, events %+v\n%s", r.code, calls, events, r.out)
	}
	if st, _ := watch.LoadState(state); len(st.Pending) != 0 {
		t.Errorf("pending left: %+v", st.Pending)
	}
}

// TestWatchWebhookDownAllRun: a receiver down for the whole run: the event
// stays in the state file and the next run delivers it.
func TestWatchWebhookDownAllRun(t *testing.T) {
	useWatchClock(t, time.Date(2020, 7, 1, 0, 0, 0, 0, time.UTC))
	srv := fixtures.NewServer(t, false)
	full := fixtures.Read(t, entraKeys2020)
	srv.Set("/keys", dropKey(t, full, "M6pX7RHoraLsprfJeRCjSxuURhc"))
	state := filepath.Join(t.TempDir(), "state.json")
	opsRun(t, "watch", "--once", "--state", state, srv.URL+"/keys")
	srv.Set("/keys", full)
	rcv := &hookReceiver{fail: 1 << 30}
	hook := httptest.NewServer(rcv)
	defer hook.Close()
	args := []string{"watch", "--once", "--state", state, "--webhook", hook.URL, "--webhook-wait", "200ms", srv.URL + "/keys"}
	out, stderr, code := opsRun(t, args...)
	if code != 0 || !strings.Contains(out, "key_added") || !strings.Contains(stderr, "kept for the next run") {
		t.Fatalf("down: exit %d\n%s\n%s", code, out, stderr)
	}
	rcv.mu.Lock()
	rcv.fail = 0
	rcv.mu.Unlock()
	out, _, code = opsRun(t, args...)
	if _, events := rcv.got(); code != 0 || out != "" || len(events) != 1 || events[0].KID != "M6pX7RHoraLsprfJeRCjSxuURhc" {
		t.Fatalf("up: exit %d out %q events %+v", code, out, events)
	}
}

// TestWatchLoopServesMetrics: the long-running mode checks on its interval
// and serves Prometheus metrics.
func TestWatchLoopServesMetrics(t *testing.T) {
	clk := useWatchClock(t, time.Date(2020, 7, 1, 0, 0, 0, 0, time.UTC))
	srv := fixtures.NewServer(t, false)
	full := fixtures.Read(t, entraKeys2020)
	srv.Set("/keys", full)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }},
			[]string{"watch", "--interval", "1h", "--metrics-listen", "127.0.0.1:0", "--state", filepath.Join(t.TempDir(), "s.json"), srv.URL + "/keys"})
	}()
	clk.BlockUntil(1) // first check done, waiting for the interval
	srv.Set("/keys", dropKey(t, full, "M6pX7RHoraLsprfJeRCjSxuURhc"))
	clk.Advance(time.Hour)
	clk.BlockUntil(1)
	addr := regexp.MustCompile(`http://[^ ]+/metrics`).FindString(errb.String())
	resp, err := http.Get(addr)
	if err != nil {
		t.Fatalf("metrics at %q: %v (stderr %s)", addr, err, errb.String())
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d", code)
	}
	for _, s := range []string{`keyroll_watch_up{provider="` + srv.URL + `/keys"} 1`, `keyroll_watch_published_keys{provider="` + srv.URL + `/keys"} 2`,
		`keyroll_watch_events_total{kind="key_removed"} 1`, `keyroll_watch_certificate_not_after_timestamp_seconds{kid="SsZsBNhZcF3Q9S4trpQBTByNRRI"`, "keyroll_watch_last_success_timestamp_seconds"} {
		if !strings.Contains(string(body), s) {
			t.Errorf("metrics lack %q:\n%s", s, body)
		}
	}
	if !strings.Contains(out.String(), "key_removed") {
		t.Errorf("events: %s", out.String())
	}
}

// TestWatchRejectsBadWebhook: a --webhook that is not an http(s) URL is a
// usage error at startup, before anything is fetched or the state written.
func TestWatchRejectsBadWebhook(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	for _, hook := range []string{"ftp://hooks.example/x", "hooks.example/x", "file:///tmp/x", "https://"} {
		_, stderr, code := opsRun(t, "watch", "--once", "--state", state, "--webhook", hook, "https://idp.invalid/keys")
		if code != exitUsage || !strings.Contains(stderr, "--webhook") || !strings.Contains(stderr, "http") {
			t.Errorf("%q: exit %d %q", hook, code, stderr)
		}
	}
	if _, err := os.Stat(state); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("state written: %v", err)
	}
}
