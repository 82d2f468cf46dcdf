package drill_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/drill"
	"github.com/keyroll/keyroll/drill/drilltest"
	"github.com/keyroll/keyroll/jws"
)

// cancelOn wraps h: the nth request cancels the drill's context before it
// is answered, as Ctrl-C in the middle of a test would.
func cancelOn(n int32, cancel context.CancelFunc, h http.Handler) http.Handler {
	var seen atomic.Int32
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if seen.Add(1) == n {
			cancel()
		}
		h.ServeHTTP(w, r)
	})
}

// TestDrillInterruptedAPI: cancelled while testing the fresh key, the drill
// still restores the override and withdraws the key, and exits 2.
func TestDrillInterruptedAPI(t *testing.T) {
	e := newEnv(t).rotate(t, false)
	e.createApp(t, adminapi.CreateAppRequest{Name: "lib-api", Audience: "api://lib"})
	primary := e.key(t, "primary")
	if _, err := e.admin.Override(context.Background(), "lib-api", adminapi.OverrideRequest{Key: primary.Thumbprint}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Requests 1 and 2 test the next and the primary key, 3 the fresh key
	// (the control calls come last).
	api := serve(t, cancelOn(3, cancel, drilltest.LibraryAPI(e.libraryVerifier(t, "api://lib"))))
	rep, progress := e.run(t, ctx, drill.Config{App: "lib-api", API: api, FreshKey: true})
	wantVerdict(t, rep, drill.Interrupted, 2, progress)
	if got := outcomes(rep); !slices.Equal(got, []string{"next:accepted", "primary:accepted"}) {
		t.Errorf("results %v", got)
	}
	contains(t, "progress", progress, "pinning app to fresh key", "interrupted", "drill: interrupted; cleaning up",
		"cleanup: restored application lib-api: override "+primary.Thumbprint, "cleanup: withdrew the fresh transient key")
	e.clean(t, "lib-api", primary.Thumbprint)
}

// TestDrillInterruptedWeb: cancelled in the application's callback, the
// drill restores the override and deletes its temporary user.
func TestDrillInterruptedWeb(t *testing.T) {
	e := newEnv(t).rotate(t, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url, _ := e.webApp(t, "portal", func(clientID string) drilltest.Check {
		check := drilltest.Library(e.libraryVerifier(t, clientID))
		var calls atomic.Int32
		return func(c context.Context, tok string) (map[string]any, error) {
			if calls.Add(1) == 2 {
				cancel()
			}
			return check(c, tok)
		}
	})
	rep, progress := e.run(t, ctx, drill.Config{App: "portal", Web: url})
	wantVerdict(t, rep, drill.Interrupted, 2, progress)
	if users, err := e.admin.Users(context.Background()); err != nil || len(users) != 0 {
		t.Errorf("users left: %+v %v", users, err)
	}
	contains(t, "progress", progress, "cleanup: deleted the temporary test user")
	e.clean(t, "portal", "")
}

// failingAdmin is the real admin API except for the steps it breaks.
type failingAdmin struct {
	*adminapi.Client
	restore, withdraw bool
	lostPublish       bool // publish, then fail as if the answer were lost
}

func (f *failingAdmin) PublishTransient(ctx context.Context) (*adminapi.KeyInfo, error) {
	k, err := f.Client.PublishTransient(ctx)
	if f.lostPublish && err == nil {
		return nil, errInjected
	}
	return k, err
}

var errInjected = errors.New("injected failure")

func (f *failingAdmin) RestoreDefault(ctx context.Context, app string) (*adminapi.OverrideResult, error) {
	if f.restore {
		return nil, errInjected
	}
	return f.Client.RestoreDefault(ctx, app)
}

func (f *failingAdmin) WithdrawTransient(ctx context.Context, key string) (*adminapi.KeyInfo, error) {
	if f.withdraw {
		return nil, errInjected
	}
	return f.Client.WithdrawTransient(ctx, key)
}

// TestDrillCleanupFails: when the cleanup cannot undo a change, the report
// says exactly what is left and how to fix it, and the exit code is 2 even
// for a ready application; the fixes it gives work.
func TestDrillCleanupFails(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t).rotate(t, false)
	e.createApp(t, adminapi.CreateAppRequest{Name: "payroll-api", Audience: "api://lib"})
	api := serve(t, drilltest.LibraryAPI(e.libraryVerifier(t, "api://lib")))
	rep, progress := e.run(t, ctx, drill.Config{Admin: &failingAdmin{Client: e.admin, restore: true, withdraw: true},
		App: "payroll-api", API: api, FreshKey: true})
	if rep.Verdict != drill.Ready || rep.ExitCode() != 2 || len(rep.Cleanup.Left) != 2 {
		t.Fatalf("verdict %s exit %d, left %+v\n%s", rep.Verdict, rep.ExitCode(), rep.Cleanup.Left, progress)
	}
	fresh := rep.Results[len(rep.Results)-1].Thumbprint
	app, left := rep.Cleanup.Left[0], rep.Cleanup.Left[1]
	if app.Fix != "keyroll apps restore-default payroll-api" || !strings.Contains(app.What, "may still be pinned") || app.Err != errInjected.Error() {
		t.Errorf("left application %+v", app)
	}
	if left.Fix != "keyroll keys revoke "+fresh || !strings.Contains(left.What, "policy withdraws it at") {
		t.Errorf("left key %+v", left)
	}
	contains(t, "progress", progress, "cleanup FAILED")
	// What the report says is left is what is left, and its fixes clean up.
	a, _ := e.admin.App(ctx, "payroll-api")
	if a.KeyOverride != fresh {
		t.Fatalf("override %q, want the fresh key %s left behind", a.KeyOverride, fresh)
	}
	if _, err := e.admin.RestoreDefault(ctx, "payroll-api"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.admin.Revoke(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	e.clean(t, "payroll-api", "")
}

// TestDrillBadInput: an unknown application or a bad configuration stops
// the drill before it changes anything.
func TestDrillBadInput(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t).rotate(t, false)
	e.createApp(t, adminapi.CreateAppRequest{Name: "api"})
	before, _ := e.admin.Events(ctx, e.m.Now().AddDate(-1, 0, 0), 0)
	cases := []struct {
		cfg  drill.Config
		says string
	}{
		{drill.Config{App: "nope", API: "http://127.0.0.1:9/"}, `no application is named "nope"`},
		{drill.Config{App: "api"}, "exactly one of an API URL and a web URL"},
		{drill.Config{App: "api", API: "http://127.0.0.1:9/", Web: "http://127.0.0.1:9/"}, "exactly one"},
		{drill.Config{App: "api", API: "/relative"}, "not an absolute http or https URL"},
		{drill.Config{App: "api", API: "ftp://host/"}, "not an absolute http or https URL"},
		{drill.Config{App: "api", API: "http://127.0.0.1:9/", Expect: "x"}, "web mode only"},
		{drill.Config{App: "api", Web: "http://127.0.0.1:9/", User: "alice"}, "has no password"},
		{drill.Config{API: "http://127.0.0.1:9/"}, "name the application"},
		{drill.Config{Admin: &failingAdmin{Client: e.admin}, App: "api", Web: "http://127.0.0.1:9/"}, "needs the issuer's URL"},
		{drill.Config{App: "api", Web: "http://127.0.0.1:9/", Issuer: "http://127.0.0.1:1"}, "finding the issuer's sign-in endpoint in http://127.0.0.1:1/.well-known/openid-configuration"},
		{drill.Config{App: "api", Web: "http://127.0.0.1:9/", Issuer: e.url + "/admin/apps"}, "finding the issuer's sign-in endpoint"},
	}
	for _, c := range cases {
		rep, progress := e.run(t, ctx, c.cfg)
		wantVerdict(t, rep, drill.Failed, 2, progress)
		contains(t, "the reason", rep.Reason, "the drill could not run", c.says)
		if len(rep.Results) != 0 || len(rep.Cleanup.Done) != 0 {
			t.Errorf("%+v: results %v, cleanup %v", c.cfg, rep.Results, rep.Cleanup)
		}
	}
	after, _ := e.admin.Events(ctx, e.m.Now().AddDate(-1, 0, 0), 0)
	if len(after) != len(before) {
		t.Errorf("bad input made %d audit events", len(after)-len(before))
	}
	e.clean(t, "api", "")
}

// TestDrillUndecided: answers that are neither acceptance nor rejection
// leave the drill inconclusive (exit 2), unless another key is rejected.
func TestDrillUndecided(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t).rotate(t, false)
	e.createApp(t, adminapi.CreateAppRequest{Name: "api"})
	next := e.key(t, "next")
	flaky := func(nextStatus, otherStatus int) string {
		return serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, _ := jws.Parse(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
			if tok != nil && tok.Header.Kid == next.KID {
				w.WriteHeader(nextStatus)
				return
			}
			w.WriteHeader(otherStatus)
		}))
	}
	rep, progress := e.run(t, ctx, drill.Config{App: "api", API: flaky(500, 200)})
	wantVerdict(t, rep, drill.Inconclusive, 2, progress)
	contains(t, "the reason", rep.Reason, "could not test the next key "+drill.Abbrev(next.Thumbprint)+": HTTP 500; neither acceptance (2xx) nor rejection (401, 403)")
	if rep.Results[0].Accepted != nil {
		t.Error("an undecided result has accepted set")
	}

	rep, progress = e.run(t, ctx, drill.Config{App: "api", API: flaky(502, 403)})
	wantVerdict(t, rep, drill.NotReady, 1, progress)
	if !strings.HasPrefix(rep.Reason, "rejects the primary key") || !strings.Contains(rep.Reason, "could not test the next key") {
		t.Errorf("reason %q", rep.Reason)
	}

	// A URL that does not sign users in tests nothing.
	rep, progress = e.run(t, ctx, drill.Config{App: "api", Web: flaky(200, 200)})
	wantVerdict(t, rep, drill.Inconclusive, 2, progress)
	contains(t, "the reason", rep.Reason, "did not send a fresh browser to keyroll's sign-in page")
	// Nothing listens here: a network error is not a rejection.
	rep, progress = e.run(t, ctx, drill.Config{App: "api", API: "http://127.0.0.1:1/"})
	wantVerdict(t, rep, drill.Inconclusive, 2, progress)
	e.clean(t, "api", "")
}

// TestDrillWrongPassword: a test user who cannot sign in stops the drill
// (exit 2), after the cleanup.
func TestDrillWrongPassword(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t).rotate(t, false)
	url, _ := e.webApp(t, "portal", func(clientID string) drilltest.Check {
		return drilltest.Library(e.libraryVerifier(t, clientID))
	})
	if _, err := e.admin.CreateUser(ctx, "alice", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	rep, progress := e.run(t, ctx, drill.Config{App: "portal", Web: url, User: "alice", Password: "wrong horse battery"})
	wantVerdict(t, rep, drill.Failed, 2, progress)
	contains(t, "the reason", rep.Reason, "the test user cannot sign in (alice): The user name or password is incorrect.")
	contains(t, "progress", progress, "cleanup: restored application portal")
	e.clean(t, "portal", "")
}

// TestDrillLostPublication: when the answer to the publication of the
// fresh key is lost, the cleanup still finds the key and withdraws it.
func TestDrillLostPublication(t *testing.T) {
	e := newEnv(t).rotate(t, false)
	e.createApp(t, adminapi.CreateAppRequest{Name: "lib-api", Audience: "api://lib"})
	api := serve(t, drilltest.LibraryAPI(e.libraryVerifier(t, "api://lib")))
	rep, progress := e.run(t, context.Background(), drill.Config{Admin: &failingAdmin{Client: e.admin, lostPublish: true},
		App: "lib-api", API: api, FreshKey: true})
	wantVerdict(t, rep, drill.Inconclusive, 2, progress)
	contains(t, "the reason", rep.Reason, "could not publish a fresh key: injected failure")
	contains(t, "progress", progress, "cleanup: withdrew the fresh transient key")
	e.clean(t, "lib-api", "")
}

// TestDrillLookalikeSignIn: an application that shows its own copy of
// keyroll's sign-in form never gets the test user's password.
func TestDrillLookalikeSignIn(t *testing.T) {
	e := newEnv(t).rotate(t, false)
	e.createApp(t, adminapi.CreateAppRequest{Name: "phish", RedirectURIs: []string{"https://phish.example/cb"}})
	var posted atomic.Int32
	url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			posted.Add(1)
		}
		io.WriteString(w, `<form method="post" action="authorize"><input type="hidden" name="login_request" value="x"></form>`)
	}))
	rep, progress := e.run(t, context.Background(), drill.Config{App: "phish", Web: url, User: "alice", Password: "correct horse battery"})
	wantVerdict(t, rep, drill.Inconclusive, 2, progress)
	contains(t, "the reason", rep.Reason, "does not post to the issuer's sign-in endpoint "+e.url+"/oauth2/authorize")
	if posted.Load() != 0 {
		t.Error("the drill posted the test user's password to a look-alike form")
	}
	e.clean(t, "phish", "")
}
