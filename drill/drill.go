package drill

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/keyroll/keyroll/adminapi"
)

// tester runs one test against the application, pinned to key k. A non-nil
// error stops the drill (cancellation, a test user who cannot sign in).
type tester interface {
	test(ctx context.Context, k adminapi.KeyInfo) (Outcome, Evidence, error)
}

// run is one drill in progress.
type run struct {
	cfg    Config
	rep    *Report
	tester tester
	keys   []adminapi.KeyInfo // every key, as listed at the start
	pinned bool               // an override was (maybe) set: restore it
	fresh  *adminapi.KeyInfo  // the transient key published
	// publishing: a transient key was asked for, so the cleanup looks for
	// one even if the answer never came.
	publishing bool
	user       string     // the temporary test user created
	api        *apiTester // API mode: the control calls run after the key tests
	// spentAt is when an earlier drill of the application ended: its
	// calls may have spent the application's unknown-key refresh throttle.
	spentAt time.Time
	retries []retry // rejections the throttle may explain, tested again
}

// Run drills the application and always returns a report; see the package
// documentation for the steps, the verdict and the cleanup.
func Run(ctx context.Context, cfg Config) *Report {
	cfg.defaults()
	r := &run{cfg: cfg, rep: &Report{App: cfg.App, Mode: "api", Target: cfg.API, Actor: cfg.Actor, Started: cfg.Now().UTC(), Results: []Result{}}}
	if cfg.Web != "" {
		r.rep.Mode, r.rep.Target = "web", cfg.Web
	}
	err := cfg.check()
	if err == nil {
		err = r.guarded(ctx)
	}
	r.rep.decide(ctx, err)
	r.rep.Finished = cfg.Now().UTC()
	if cfg.check() == nil {
		r.record(ctx)
	}
	return r.rep
}

// ErrPanic: the drill panicked; it cleaned up and reports [Failed].
var ErrPanic = errors.New("internal error")

// guarded drills and then always cleans up, even when the drill panics: a
// panic becomes an [ErrPanic] error.
func (r *run) guarded(ctx context.Context) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.say("panic: %v\n", p)
			err = fmt.Errorf("%w: %s", ErrPanic, printable(fmt.Sprint(p), 300))
		}
		r.cleanup(ctx)
	}()
	return r.drill(ctx)
}

func (r *run) say(format string, args ...any) { fmt.Fprintf(r.cfg.Progress, format, args...) }

// drill runs every test; cleanup is the caller's.
func (r *run) drill(ctx context.Context) error {
	if err := r.start(ctx); err != nil {
		return err
	}
	for _, k := range testOrder(r.keys) {
		if err := r.testKey(ctx, k, k.State); err != nil {
			return err
		}
	}
	if r.cfg.FreshKey {
		if err := r.testFresh(ctx); err != nil {
			return err
		}
	}
	if err := r.retryRejected(ctx); err != nil {
		return err
	}
	// The controls come last: a token under an unknown kid makes a correct
	// application refresh, which would use up the refresh throttle that the
	// fresh-key test and the retries need.
	if r.api != nil {
		return r.controls(ctx, r.api)
	}
	return nil
}

// start reads the application and the keys and sets up the tester.
func (r *run) start(ctx context.Context) error {
	app, err := r.cfg.Admin.App(ctx, r.cfg.App)
	if err != nil {
		return fmt.Errorf("application %s: %w", r.cfg.App, err)
	}
	r.rep.App, r.rep.ClientID, r.rep.PreviousOverride = app.Name, app.ClientID, app.KeyOverride
	r.rep.Protocol = protocolOf(app)
	if r.cfg.API != "" && r.rep.Protocol != protocolOIDC {
		return fmt.Errorf("application %s signs users in over %s: drill it with a web URL (the API mode calls an API with OIDC access tokens)", app.Name, r.rep.Protocol)
	}
	name := protocolName[r.rep.Protocol]
	if name == "" {
		name = printable(r.rep.Protocol, 40)
	}
	r.say("drill: %s application %s (client id %s): %s\n", name, app.Name, app.ClientID, describeOverride(app.KeyOverride))
	if r.keys, err = r.cfg.Admin.Keys(ctx); err != nil {
		return fmt.Errorf("listing the keys: %w", err)
	}
	order := testOrder(r.keys)
	if len(order) == 0 {
		return errors.New("the issuer publishes no key to test")
	}
	if !slices.ContainsFunc(order, func(k adminapi.KeyInfo) bool { return k.State == "next" }) {
		r.say("drill: note: no next key is published, so the next rollover cannot be tested (keyroll keys rotate publishes one)\n")
	}
	r.readLastDrill(ctx, app.ClientID)
	if r.cfg.API != "" {
		t := &apiTester{admin: r.cfg.Admin, app: r.cfg.App, url: r.cfg.API, hc: noRedirects(r.cfg.HTTP, nil)}
		r.tester, r.api = t, t
		return nil
	}
	return r.startWeb(ctx, app)
}

// protocolName names a protocol for people.
var protocolName = map[string]string{protocolOIDC: "OIDC", protocolSAML: "SAML", protocolWSFed: "WS-Federation"}

// testOrder returns the published keys a drill tests, in order: next,
// primary, then retired keys, most recently retired first. Transient keys
// (other drills') are left out.
func testOrder(keys []adminapi.KeyInfo) []adminapi.KeyInfo {
	rank := map[string]int{"next": 0, "primary": 1, "retired": 2}
	var out []adminapi.KeyInfo
	for _, k := range keys {
		if _, ok := rank[k.State]; ok && !k.Transient {
			out = append(out, k)
		}
	}
	slices.SortStableFunc(out, func(a, b adminapi.KeyInfo) int {
		if d := rank[a.State] - rank[b.State]; d != 0 {
			return d
		}
		return timeOf(b.RetiredAt).Compare(timeOf(a.RetiredAt))
	})
	return out
}

func timeOf(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// testKey pins the application to k and tests it; role is the key's
// state, or "fresh". Only a reason to stop the drill is returned.
func (r *run) testKey(ctx context.Context, k adminapi.KeyInfo, role string) error {
	r.say("pinning app to %s key %s … ", role, Abbrev(k.Thumbprint))
	res := newResult(k, role)
	if err := r.pin(ctx, k); err != nil {
		if ctx.Err() != nil {
			r.say("interrupted\n")
			return ctx.Err()
		}
		res.record(Undecided, Evidence{Error: "could not pin the application to this key: " + err.Error()})
		r.rep.Results = append(r.rep.Results, res)
		r.say("undecided: could not pin it: %v\n", err)
		return nil
	}
	at := r.cfg.Now()
	outcome, ev, err := r.tester.test(ctx, k)
	if err != nil {
		r.say("stopped: %v\n", err)
		return err
	}
	res.record(outcome, ev)
	r.rep.Results = append(r.rep.Results, res)
	r.say("%s\n", res.Line())
	if why := r.throttleMayExplain(k, role, at); outcome == Rejected && why != "" {
		r.retries = append(r.retries, retry{index: len(r.rep.Results) - 1, key: k, why: why})
	}
	return nil
}

// pin overrides the application's signing key with k and checks the
// issuer took it.
func (r *run) pin(ctx context.Context, k adminapi.KeyInfo) error {
	r.pinned = true
	out, err := r.cfg.Admin.Override(ctx, r.cfg.App, adminapi.OverrideRequest{Key: k.Thumbprint})
	if err != nil {
		return err
	}
	return checkPinned(out, k)
}

// checkPinned confirms the issuer now signs the application's tokens
// with k.
func checkPinned(out *adminapi.OverrideResult, k adminapi.KeyInfo) error {
	sk := out.App.SigningKey
	if sk == nil || !sk.Override || sk.Thumbprint != k.Thumbprint {
		why := out.App.Warning
		if why == "" {
			why = "it reports another signing key"
		}
		return fmt.Errorf("the issuer does not sign the application's tokens with %s: %s", k.Thumbprint, why)
	}
	return nil
}

// testFresh publishes a transient key, as an emergency rollover would, and
// tests it.
func (r *run) testFresh(ctx context.Context) error {
	r.say("publishing a fresh transient key … ")
	r.publishing = true
	k, err := r.cfg.Admin.PublishTransient(ctx)
	if err != nil {
		if ctx.Err() != nil {
			r.say("interrupted\n")
			return ctx.Err()
		}
		r.say("failed: %v\n", err)
		res := Result{State: "fresh"}
		res.record(Undecided, Evidence{Error: "could not publish a fresh key: " + err.Error()})
		r.rep.Results = append(r.rep.Results, res)
		return nil
	}
	r.fresh = k
	r.say("%s (withdrawn after the drill)\n", k.Thumbprint)
	return r.testKey(ctx, *k, "fresh")
}

// Abbrev shortens a thumbprint for people: 3A38…049B.
func Abbrev(tp string) string {
	if len(tp) <= 12 {
		return tp
	}
	return tp[:4] + "…" + tp[len(tp)-4:]
}

func describeOverride(tp string) string {
	if tp == "" {
		return "no override (the primary signs its tokens)"
	}
	return "override " + tp
}
