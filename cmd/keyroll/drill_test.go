package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/drill"
	"github.com/keyroll/keyroll/drill/drilltest"
	"github.com/keyroll/keyroll/verify"
)

// drillKey returns the published non-transient key in state.
func drillKey(t *testing.T, base, state string) adminapi.KeyInfo {
	t.Helper()
	for _, k := range listKeys(t, func(string) string { return "" }, base) {
		if k.State == state && !k.Transient {
			return k
		}
	}
	t.Fatalf("no %s key", state)
	return adminapi.KeyInfo{}
}

// drillClean checks the application's override is want and that no
// transient key is published.
func drillClean(t *testing.T, base, app, want string) {
	t.Helper()
	a, err := (&adminapi.Client{BaseURL: base}).App(context.Background(), app)
	if err != nil || a.KeyOverride != want {
		t.Errorf("after the drill %s has override %q (%v), want %q", app, a.KeyOverride, err, want)
	}
	jw, _, _ := published(t, base)
	for _, k := range listKeys(t, func(string) string { return "" }, base) {
		if k.Transient && (k.State == "next" || k.State == "primary" || k.State == "retired") {
			t.Errorf("transient key %s is still published", k.Thumbprint)
		}
	}
	all, _ := publishedThumbs(listKeys(t, func(string) string { return "" }, base))
	if len(jw) != len(all) {
		t.Errorf("JWKS has %d keys, the issuer lists %d published", len(jw), len(all))
	}
}

// runCtx runs keyroll in-process with ctx and stdin.
func runCtx(ctx context.Context, stdin string, args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	code := run(ctx, &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }, after: fireNow}, args)
	return out.String(), errb.String(), code
}

func TestDrillCLIPinnedAPI(t *testing.T) {
	s := appServer(t)
	if _, errs, code := runIn(t, "", "apps", "create", "pinned-api", "--audience", "api://pinned", "--server", s.url); code != 0 {
		t.Fatal(errs)
	}
	check, err := drilltest.Pinned(s.url, "api://pinned", mustCert(t, s.url, drillKey(t, s.url, "primary").KID), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(drilltest.API(check))
	defer api.Close()
	next := drillKey(t, s.url, "next")

	out, errs, code := runIn(t, "", "drill", "--app", "pinned-api", "--api", api.URL, "--server", s.url)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errs)
	}
	verdict := "NOT READY: rejects the next key " + drill.Abbrev(next.Thumbprint) + ", which becomes primary on " +
		next.PromoteAt.UTC().Format(time.DateOnly) + "; its tokens will be refused from then\n"
	for _, want := range []string{"KEY", "STATE", "THUMBPRINT", "RESULT", "EVIDENCE", next.Thumbprint + "  rejected  HTTP 401; WWW-Authenticate: Bearer", verdict} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout does not say %q:\n%s", want, out)
		}
	}
	for _, want := range []string{"pinning app to next key " + drill.Abbrev(next.Thumbprint) + " … rejected (401)", "… accepted (200)",
		"cleanup: restored application pinned-api: no override"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr does not say %q:\n%s", want, errs)
		}
	}
	drillClean(t, s.url, "pinned-api", "")

	out, _, code = runIn(t, "", "drill", "--app", "pinned-api", "--api", api.URL, "--server", s.url, "--json")
	var rep struct {
		App      string    `json:"app"`
		Started  time.Time `json:"started"`
		Finished time.Time `json:"finished"`
		Verdict  string    `json:"verdict"`
		Reason   string    `json:"reason"`
		Results  []struct {
			KID, Thumbprint, State string
			Accepted               *bool
			Evidence               struct{ Status int }
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 1 {
		t.Fatalf("--json: exit %d, %v\n%s", code, err, out)
	}
	if rep.App != "pinned-api" || rep.Verdict != "not ready" || !strings.HasPrefix(verdict, "NOT READY: "+rep.Reason) || rep.Started.IsZero() ||
		len(rep.Results) != 2 || rep.Results[0].Thumbprint != next.Thumbprint || *rep.Results[0].Accepted || !*rep.Results[1].Accepted || rep.Results[0].Evidence.Status != 401 {
		t.Errorf("--json report: %+v", rep)
	}
	drillClean(t, s.url, "pinned-api", "")
}

// TestDrillCLIWeb: a web application using the verify library is ready
// with a fresh key, with a temporary user or one given on standard input.
func TestDrillCLIWeb(t *testing.T) {
	s := appServer(t)
	mux := http.NewServeMux()
	web := httptest.NewServer(mux)
	defer web.Close()
	out, errs, code := runIn(t, "", "apps", "create", "portal", "--redirect-uri", web.URL+"/callback", "--server", s.url, "--json")
	var created adminapi.CreatedApp
	if code != 0 || json.Unmarshal([]byte(out), &created) != nil {
		t.Fatalf("apps create: %d %s", code, errs)
	}
	v, err := verify.New(s.url, verify.Discovery(s.url), verify.WithAudience(created.App.ClientID), verify.WithMinRefreshInterval(time.Nanosecond))
	if err != nil {
		t.Fatal(err)
	}
	app, err := drilltest.NewWebApp(drilltest.WebConfig{Issuer: s.url, ClientID: created.App.ClientID, ClientSecret: created.ClientSecret,
		RedirectURI: web.URL + "/callback", Check: drilltest.Library(v)})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", app)
	next := drillKey(t, s.url, "next")
	if _, errs, code := runIn(t, "", "apps", "override", "portal", "--next", "--server", s.url); code != 0 {
		t.Fatal(errs)
	}

	out, errs, code = runIn(t, "", "drill", "--app", "portal", "--web", web.URL+"/", "--fresh-key", "--server", s.url)
	if code != 0 || !strings.Contains(out, "READY: accepts every published key (next, primary) and a fresh key") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(errs, "cleanup: restored application portal: override "+next.Thumbprint) || !strings.Contains(errs, "cleanup: deleted the temporary test user") {
		t.Errorf("stderr:\n%s", errs)
	}
	drillClean(t, s.url, "portal", next.Thumbprint)

	if _, errs, code := runIn(t, "s3cret-passw0rd\n", "users", "create", "alice", "--password-stdin", "--server", s.url); code != 0 {
		t.Fatal(errs)
	}
	out, errs, code = runIn(t, "s3cret-passw0rd\n", "drill", "--app", "portal", "--web", web.URL, "--user", "alice", "--password-stdin",
		"--expect", "Signed in as alice", "--server", s.url)
	if code != 0 || strings.Contains(out+errs, "s3cret") {
		t.Fatalf("with --user: exit %d\n%s\n%s", code, out, errs)
	}
	drillClean(t, s.url, "portal", next.Thumbprint)
}

// TestDrillCLIInterrupted: Ctrl-C in the middle of the drill (the context
// cancelled from inside the application) still cleans up, and exits 2.
func TestDrillCLIInterrupted(t *testing.T) {
	s := appServer(t)
	if _, errs, code := runIn(t, "", "apps", "create", "lib-api", "--audience", "api://lib", "--server", s.url); code != 0 {
		t.Fatal(errs)
	}
	v, err := verify.New(s.url, verify.Discovery(s.url), verify.WithAudience("api://lib"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls atomic.Int32
	lib := drilltest.LibraryAPI(v)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 3 { // the fresh key's test, after the next and the primary key
			cancel()
		}
		lib.ServeHTTP(w, r)
	}))
	defer api.Close()
	out, errs, code := runCtx(ctx, "", "drill", "--app", "lib-api", "--api", api.URL, "--fresh-key", "--server", s.url)
	if code != 2 || !strings.Contains(out, "INTERRUPTED: the drill was interrupted before it finished") {
		t.Fatalf("exit %d, want 2\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"drill: interrupted; cleaning up", "cleanup: restored application lib-api: no override", "cleanup: withdrew the fresh transient key"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr does not say %q:\n%s", want, errs)
		}
	}
	drillClean(t, s.url, "lib-api", "")
}

// TestDrillCLIUsage: bad flags and an unknown application change nothing
// and exit 2 with a message.
func TestDrillCLIUsage(t *testing.T) {
	s := appServer(t)
	for _, c := range []struct {
		stdin string
		args  []string
		says  string
	}{
		{"", []string{"--api", "http://127.0.0.1:9/"}, "name the application with --app"},
		{"", []string{"--app", "x"}, "exactly one of --api URL and --web URL"},
		{"", []string{"--app", "x", "--api", "http://a/", "--web", "http://b/"}, "exactly one of"},
		{"", []string{"--app", "x", "--api", "http://a/", "--expect", "hi"}, "apply to --web only"},
		{"", []string{"--app", "x", "--web", "http://a/", "--user", "alice"}, "go together"},
		{"", []string{"--app", "x", "--web", "http://a/", "--password-stdin"}, "go together"},
		{"", []string{"--app", "x", "--web", "http://a/", "--user", "alice", "--password-stdin"}, "standard input holds no password"},
		{"", []string{"--app", "x", "--api", "http://a/", "extra"}, `unexpected argument "extra"`},
		{"", []string{"--app", "nope", "--api", "http://127.0.0.1:9/"}, `FAILED: the drill could not run: application nope: no application is named "nope"`},
		{"", []string{"--app", "x", "--api", "not a url"}, "is not an absolute http or https URL"},
		{"", []string{"--app", "x", "--api", "http://a/", "--fresh-key", "--refresh-wait", "-1s"}, "--refresh-wait must not be negative"},
		{"", []string{"--app", "x", "--api", "http://a/", "--fresh-key", "--refresh-wait", "soon"}, `"soon" is not a duration`},
	} {
		out, errs, code := runIn(t, c.stdin, append([]string{"drill", "--server", s.url}, c.args...)...)
		if code != 2 || !strings.Contains(out+errs, c.says) {
			t.Errorf("%v: exit %d, want 2 saying %q\n%s%s", c.args, code, c.says, out, errs)
		}
	}
	if out, _, code := runIn(t, "", "drill", "-h"); code != 0 || !strings.Contains(out, "Exit codes: 0 ready") || !strings.Contains(out, "--refresh-wait D (default 5m10s") {
		t.Errorf("drill -h: %d\n%s", code, out)
	}
}

// TestDrillCLIControls: an API that accepts every request is inconclusive
// (exit 2) with the control calls in the table; --refresh-wait 0 retries a
// rejected fresh key at once.
func TestDrillCLIControls(t *testing.T) {
	s := appServer(t)
	if _, errs, code := runIn(t, "", "apps", "create", "open-api", "--audience", "api://open", "--server", s.url); code != 0 {
		t.Fatal(errs)
	}
	open := httptest.NewServer(drilltest.Open())
	defer open.Close()
	out, errs, code := runIn(t, "", "drill", "--app", "open-api", "--api", open.URL, "--server", s.url)
	if code != 2 || !strings.Contains(out, "INCONCLUSIVE: the API accepts requests without a valid token (HTTP 200 with no token, ") ||
		!strings.Contains(out, "control: no token") || !strings.Contains(out, "control: unknown key") {
		t.Fatalf("exit %d, want 2\n%s\n%s", code, out, errs)
	}
	drillClean(t, s.url, "open-api", "")

	check, err := drilltest.Startup(context.Background(), s.url, "api://open")
	if err != nil {
		t.Fatal(err)
	}
	startup := httptest.NewServer(drilltest.API(check))
	defer startup.Close()
	out, errs, code = runIn(t, "", "drill", "--app", "open-api", "--api", startup.URL, "--fresh-key", "--refresh-wait", "0", "--server", s.url)
	if code != 1 || !strings.Contains(errs, "waiting 0s for the application's refresh throttle before testing again the fresh key ") ||
		!regexp.MustCompile(`retrying the fresh key \S+ … rejected \(401\)`).MatchString(errs) {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errs)
	}
	drillClean(t, s.url, "open-api", "")
}

// TestDrillCLILeftovers: what the cleanup left is printed with the fix to
// run against the same server.
func TestDrillCLILeftovers(t *testing.T) {
	var errb bytes.Buffer
	rep := &drill.Report{Cleanup: drill.Cleanup{Left: []drill.Leftover{{What: "application x may still be pinned", Fix: "keyroll apps restore-default x", Err: "boom"}}}}
	printLeftovers(&env{stderr: &errb}, rep, "https://issuer.example:8443")
	for _, want := range []string{"left behind", "application x may still be pinned", "(boom)", "fix: keyroll apps restore-default x --server https://issuer.example:8443"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr does not say %q:\n%s", want, errb.String())
		}
	}
	if rep.ExitCode() != 2 {
		t.Errorf("exit %d with something left behind", rep.ExitCode())
	}
}

// TestDrillCLISAML: a SAML service provider that refreshes the issuer's
// federation metadata is ready with a fresh key; one that trusts only the
// certificate it first saw is not ready, and the verdict names the next
// key. RSA keys: the test SP checks signatures with goxmldsig.
func TestDrillCLISAML(t *testing.T) {
	s := startServe(t, func(string) string { return "" }, "--store", "sqlite:"+filepath.Join(t.TempDir(), "keyroll.db"), "--key-alg", "RS256")
	if _, errs, code := runIn(t, "", "keys", "rotate", "--server", s.url); code != 0 {
		t.Fatalf("keys rotate: %s", errs)
	}
	next := drillKey(t, s.url, "next")
	firstSeen, err := drilltest.FirstSeen(context.Background(), drilltest.MetadataURL(s.url))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		certs drilltest.Certs
		code  int
		says  string
	}{
		{"refreshing-sp", drilltest.MetadataCerts(drilltest.MetadataURL(s.url), nil), 0, "READY: accepts every published key (next, primary) and a fresh key"},
		{"pinned-sp", firstSeen, 1, "NOT READY: rejects the next key " + drill.Abbrev(next.Thumbprint) + ", which becomes primary on " +
			next.PromoteAt.UTC().Format(time.DateOnly) + "; sign-in will fail from then\n"},
	} {
		mux := http.NewServeMux()
		web := httptest.NewServer(mux)
		defer web.Close()
		entity, acs := web.URL+"/sp", web.URL+"/acs"
		if _, errs, code := runIn(t, "", "apps", "create", c.name, "--saml", "--entity-id", entity, "--acs", acs, "--server", s.url); code != 0 {
			t.Fatal(errs)
		}
		sp, err := drilltest.NewFedApp(drilltest.FedConfig{Issuer: s.url, EntityID: entity, ACS: acs, Certs: c.certs})
		if err != nil {
			t.Fatal(err)
		}
		mux.Handle("/", sp)
		out, errs, code := runIn(t, "", "drill", "--app", c.name, "--web", web.URL+"/", "--fresh-key", "--refresh-wait", "0",
			"--expect", "Signed in as keyroll-drill-", "--server", s.url)
		if code != c.code || !strings.Contains(out, c.says) {
			t.Fatalf("%s: exit %d, want %d saying %q\n%s\n%s", c.name, code, c.code, c.says, out, errs)
		}
		for _, want := range []string{"drill: SAML application " + c.name, "cleanup: restored application " + c.name + ": no override",
			"cleanup: withdrew the fresh transient key", "cleanup: deleted the temporary test user"} {
			if !strings.Contains(errs, want) {
				t.Errorf("%s: stderr does not say %q:\n%s", c.name, want, errs)
			}
		}
		if c.code == 1 && !strings.Contains(out, next.Thumbprint+"  rejected  HTTP 401; after sign-in the application answered HTTP 401 at "+acs) {
			t.Errorf("%s: the table does not show the rejection's evidence:\n%s", c.name, out)
		}
		drillClean(t, s.url, c.name, "")
	}
}
