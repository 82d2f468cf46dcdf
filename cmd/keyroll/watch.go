package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/ops/watch"
)

func init() {
	register(&command{
		name:    "watch",
		summary: "monitor providers' signing keys; report changes as events",
		usage: `Usage: keyroll watch [SOURCE]... [--tenant NAME]... [--adfs HOST]... [--once | --interval D] [flags]

Fetches each provider's signing keys, compares them with what it saw last
time (kept in --state FILE), and reports events, one line each on standard
output (--json: one JSON object per line):

  key_added           a key was published (e.g. the next certificate)
  key_removed         a key is no longer published
  expiring            a certificate expires within --warn-days
  expired_published   an expired certificate is still published
  signature_invalid   the metadata signature no longer verifies (signature_valid: again)
  unreachable         fetches have failed for --unreachable-after (reachable: again)

The first run records what is published without reporting it as added.
With --webhook URL each event is also POSTed as JSON, retried with backoff
in the background; events not yet delivered are kept in the state file and
retried by the next run. --once checks once (for cron; exit 1 if a provider
could not be fetched); otherwise keyroll checks every --interval and serves
Prometheus metrics on --metrics-listen.

Metadata trust: the signature of federation metadata is checked against
the certificates the document itself publishes unless --metadata-signer
pins the signer (a SHA-1/SHA-256 thumbprint, or a certificate file). Such a
self-check shows the document intact, not who wrote it: anyone can sign
metadata that lists their own certificate, so keyroll never calls it valid
and names the certificate that signed it. With a pin, metadata that is
unsigned or signed by any other key is refused and reported as a failed fetch; nothing
of it is used or recorded. The pin applies to every source, which must all
be metadata. There is no trust-on-first-use: pin explicitly.

Examples:
  keyroll watch --once --tenant contoso.onmicrosoft.com --adfs adfs.contoso.com --state /var/lib/keyroll/watch.json
  keyroll watch --interval 1h --webhook https://hooks.example.com/keyroll --metrics-listen :9464 https://accounts.google.com
  keyroll watch --once --adfs adfs.contoso.com --metadata-signer 3A38FA984E8560F19AADC9F86FE9594BB6AD049B
`,
		run: runWatch,
	})
}

// watchClock is the clock watch runs on; tests replace it.
var watchClock clock.Clock = clock.Real{}

type watchFlags struct {
	state, webhook, metrics  string
	once, asJSON             bool
	interval, down, hookWait time.Duration
	warnDays                 int
}

func runWatch(ctx context.Context, e *env, args []string) int {
	c := commands["watch"]
	fs := newFlags(c)
	var sf opsSourceFlags
	sf.define(fs)
	var f watchFlags
	fs.StringVar(&f.state, "state", "keyroll-watch.json", "`FILE` where the watch remembers what it saw")
	fs.BoolVar(&f.once, "once", false, "check once and exit (for cron)")
	durationFlag(fs, &f.interval, "interval", time.Hour, "time between checks when not --once")
	fs.IntVar(&f.warnDays, "warn-days", watch.DefaultWarnDays, "report certificates expiring within this many days")
	durationFlag(fs, &f.down, "unreachable-after", watch.DefaultUnreachableAfter, "report a provider whose fetches have failed this long")
	fs.StringVar(&f.webhook, "webhook", "", "POST each event as JSON to `URL`")
	durationFlag(fs, &f.hookWait, "webhook-wait", 10*time.Second, "with --once, how long to keep retrying the webhook before leaving events for the next run")
	fs.StringVar(&f.metrics, "metrics-listen", "", "serve Prometheus metrics on `ADDR` (long-running mode)")
	fs.BoolVar(&f.asJSON, "json", false, "print events as JSON lines")
	pos, code := parseFlags(fs, c, e, args)
	if code >= 0 {
		return code
	}
	w, err := newWatcher(e, &sf, pos, f)
	if err != nil {
		return opsUsageError(e, c, err)
	}
	if f.once {
		return watchOnce(ctx, e, c, w, f.hookWait)
	}
	return watchLoop(ctx, e, c, w, f)
}

func newWatcher(e *env, sf *opsSourceFlags, pos []string, f watchFlags) (*watch.Watcher, error) {
	sources := sf.sources(pos)
	if len(sources) == 0 {
		return nil, errors.New("name at least one provider")
	}
	for _, s := range sources {
		if err := s.Validate(); err != nil {
			return nil, err
		}
	}
	if f.interval <= 0 || f.warnDays < 0 {
		return nil, errors.New("--interval must be positive and --warn-days not negative")
	}
	l, err := sf.loader()
	if err != nil {
		return nil, err
	}
	w := &watch.Watcher{Sources: sources, Load: l.Load, StatePath: f.state, Clock: watchClock,
		Config: watch.Config{WarnDays: f.warnDays, UnreachableAfter: f.down}, Emit: printEvent(e, f.asJSON),
		FetchFailed: func(provider string, err error) { fmt.Fprintf(e.stderr, "keyroll watch: %s: %v\n", provider, err) }}
	if f.webhook != "" {
		if err := watch.ValidateWebhook(f.webhook); err != nil {
			return nil, fmt.Errorf("--webhook: %w", err)
		}
		w.Notifier = watch.NewNotifier(f.webhook, watchClock)
		w.Notifier.Log = func(msg string) { fmt.Fprintln(e.stderr, "keyroll watch: "+msg) }
	}
	return w, nil
}

func printEvent(e *env, asJSON bool) func(watch.Event) {
	var mu sync.Mutex
	return func(ev watch.Event) {
		mu.Lock()
		defer mu.Unlock()
		if asJSON {
			line, _ := json.Marshal(ev)
			fmt.Fprintf(e.stdout, "%s\n", line)
			return
		}
		fmt.Fprintln(e.stdout, ev)
	}
}

func watchOnce(ctx context.Context, e *env, c *command, w *watch.Watcher, hookWait time.Duration) int {
	stop := startNotifier(ctx, w)
	defer stop()
	_, failed, err := w.Check(ctx)
	if err != nil {
		return opsFail(e, c, err)
	}
	if w.Notifier != nil {
		dctx, cancel := context.WithTimeout(ctx, hookWait)
		w.Notifier.Drain(dctx)
		cancel()
		if err := w.Save(); err != nil {
			return opsFail(e, c, err)
		}
		if n := len(w.Notifier.Pending()); n > 0 {
			fmt.Fprintf(e.stderr, "keyroll watch: %d event(s) not delivered to the webhook yet; kept for the next run\n", n)
		}
	}
	if failed > 0 {
		return exitFail
	}
	return exitOK
}

func startNotifier(ctx context.Context, w *watch.Watcher) (stop func()) {
	if w.Notifier == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { w.Notifier.Run(ctx); close(done) }()
	return func() { cancel(); <-done }
}

func watchLoop(ctx context.Context, e *env, c *command, w *watch.Watcher, f watchFlags) int {
	if f.metrics != "" {
		reg := prometheus.NewRegistry()
		m, err := watch.NewMetrics(reg)
		if err != nil {
			return opsFail(e, c, err)
		}
		w.Observer = m
		if w.Notifier != nil {
			w.Notifier.Result = m.Delivered
		}
		ln, err := net.Listen("tcp", f.metrics)
		if err != nil {
			return opsFail(e, c, err)
		}
		srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		fmt.Fprintf(e.stderr, "keyroll watch: metrics on http://%s/metrics\n", ln.Addr())
	}
	stop := startNotifier(ctx, w)
	defer stop()
	w.Run(ctx, f.interval, func(err error) { fmt.Fprintf(e.stderr, "keyroll watch: %v\n", err) })
	return exitOK
}
