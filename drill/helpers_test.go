package drill_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/drill"
	"github.com/keyroll/keyroll/drill/drilltest"
	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/issuer/issuertest"
	"github.com/keyroll/keyroll/issuer/server"
	"github.com/keyroll/keyroll/keys"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/verify"
)

// env is a keyroll issuer on an httptest server (SQLite store, ES256
// keys, wall clock) and an admin client.
type env struct {
	m     *issuer.Manager
	url   string
	admin *adminapi.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvAlg(t, "ES256")
}

// newEnvAlg is newEnv with keys of another algorithm.
func newEnvAlg(t *testing.T, alg string) *env {
	t.Helper()
	m, ts := issuertest.Serve(t, issuer.Config{KeySpec: keys.Spec{Alg: alg}}, serveAll)
	return &env{m: m, url: ts.URL, admin: &adminapi.Client{BaseURL: ts.URL}}
}

// serveAll is the issuer's whole HTTP surface.
func serveAll(m *issuer.Manager) http.Handler { return server.New(m, server.Options{}) }

// withRetired rotates urgently then normally: a retired, a primary and a
// next key are published.
func (e *env) withRetired(t *testing.T) *env {
	t.Helper()
	e.rotate(t, true)
	return e.rotate(t, false)
}

func (e *env) rotate(t *testing.T, urgent bool) *env {
	t.Helper()
	if _, err := e.admin.Rotate(context.Background(), urgent); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) createApp(t *testing.T, req adminapi.CreateAppRequest) *adminapi.CreatedApp {
	t.Helper()
	out, err := e.admin.CreateApp(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// key returns the published, non-transient key in state.
func (e *env) key(t *testing.T, state string) adminapi.KeyInfo {
	t.Helper()
	ks, err := e.admin.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range ks {
		if k.State == state && !k.Transient {
			return k
		}
	}
	t.Fatalf("no %s key", state)
	return adminapi.KeyInfo{}
}

// run drills with cfg (Admin and Progress filled in) and returns the
// report and the progress text.
func (e *env) run(t *testing.T, ctx context.Context, cfg drill.Config) (*drill.Report, string) {
	t.Helper()
	var progress bytes.Buffer
	if cfg.Admin == nil {
		cfg.Admin = e.admin
	}
	cfg.Progress = &progress
	if cfg.After == nil {
		cfg.After = immediately
	}
	rep := drill.Run(ctx, cfg)
	if rep.Finished.Before(rep.Started) {
		t.Errorf("report finished %v before it started %v", rep.Finished, rep.Started)
	}
	return rep, progress.String()
}

// immediately is a Config.After that fires at once: tests never wait for
// the refresh throttle window.
func immediately(time.Duration) <-chan time.Time {
	c := make(chan time.Time, 1)
	c <- time.Now()
	return c
}

// clean checks what every drill must leave behind: the application's
// override exactly as it was and no transient key published.
func (e *env) clean(t *testing.T, app, override string) {
	t.Helper()
	a, err := e.admin.App(context.Background(), app)
	if err != nil {
		t.Fatal(err)
	}
	if a.KeyOverride != override {
		t.Errorf("after the drill %s has override %q, want %q", app, a.KeyOverride, override)
	}
	ks, err := e.admin.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, k := range ks {
		if k.Transient && lifecycle.State(k.State).Published() {
			t.Errorf("transient key %s is still %s", k.Thumbprint, k.State)
		}
		if lifecycle.State(k.State).Published() && !k.Transient {
			want = append(want, k.KID)
		}
	}
	if got := e.jwksKIDs(t); !slices.Equal(got, sorted(want)) {
		t.Errorf("JWKS kids %v, want the published non-transient keys %v", got, sorted(want))
	}
}

func (e *env) jwksKIDs(t *testing.T) []string {
	t.Helper()
	resp, err := http.Get(e.url + issuer.JWKSPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.Kid)
	}
	return sorted(out)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// serve runs h on an httptest server.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL
}

// libraryVerifier is keyroll's verify library on the issuer, with a
// throttle short enough that an unknown key is always looked up.
func (e *env) libraryVerifier(t *testing.T, audience string) *verify.Verifier {
	t.Helper()
	v, err := verify.New(e.url, verify.Discovery(e.url), verify.WithAudience(audience), verify.WithMinRefreshInterval(time.Nanosecond))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// webApp registers a confidential application and serves a drilltest
// WebApp for it whose ID token check is made by check(clientID).
func (e *env) webApp(t *testing.T, name string, check func(clientID string) drilltest.Check) (url string, app *adminapi.CreatedApp) {
	t.Helper()
	mux := http.NewServeMux()
	url = serve(t, mux)
	app = e.createApp(t, adminapi.CreateAppRequest{Name: name, RedirectURIs: []string{url + "/callback"}})
	wa, err := drilltest.NewWebApp(drilltest.WebConfig{Issuer: e.url, ClientID: app.App.ClientID, ClientSecret: app.ClientSecret,
		RedirectURI: url + "/callback", Check: check(app.App.ClientID)})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", wa)
	return url + "/", app
}

// outcomes lists the results as "state:outcome".
func outcomes(rep *drill.Report) []string {
	var out []string
	for _, r := range rep.Results {
		out = append(out, r.State+":"+string(r.Outcome))
	}
	return out
}

func wantVerdict(t *testing.T, rep *drill.Report, v drill.Verdict, code int, progress string) {
	t.Helper()
	if rep.Verdict != v || rep.ExitCode() != code {
		js, _ := json.MarshalIndent(rep, "", "  ")
		t.Fatalf("verdict %q exit %d, want %q exit %d\n%s\nprogress:\n%s", rep.Verdict, rep.ExitCode(), v, code, js, progress)
	}
}

func contains(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s does not say %q:\n%s", what, sub, s)
		}
	}
}
