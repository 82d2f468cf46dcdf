package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/issuer/console"
	"github.com/keyroll/keyroll/issuer/issuertest"
	"github.com/keyroll/keyroll/keys"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

const (
	adminName     = "ada"
	adminPassword = "correct horse battery"
	issuerURL     = "http://127.0.0.1:8080"
)

// env is a console over a fresh issuer with one administrator.
type env struct {
	t   *testing.T
	m   *issuer.Manager
	st  store.Store
	kek *keys.Sealer
	clk *clock.Fake
	h   *console.Handler
}

func newEnv(t *testing.T, issuerURL string, opts console.Options) *env {
	t.Helper()
	return newEnvWith(t, issuerURL, func(*issuer.Manager) console.Options { return opts })
}

// newEnvWith is newEnv with options made for the issuer's manager.
func newEnvWith(t *testing.T, issuerURL string, opts func(*issuer.Manager) console.Options) *env {
	t.Helper()
	clk := clock.NewFake(issuertest.Start)
	st := issuertest.OpenSQLite(t, t.TempDir())
	t.Cleanup(func() { st.Close() })
	kek := issuertest.KEK(t)
	m := issuertest.NewManager(t, issuerURL, st, kek, clk, lifecycle.DefaultPolicy(), "")
	if _, _, err := m.CreateAdmin(context.Background(), adminName, adminPassword, "test"); err != nil {
		t.Fatal(err)
	}
	h := console.New(m, opts(m))
	t.Cleanup(h.Wait)
	return &env{t: t, m: m, st: st, kek: kek, clk: clk, h: h}
}

// replica is a second issuer replica on the same store, with its own
// console made by opts.
func (e *env) replica(opts func(*issuer.Manager) console.Options) *env {
	e.t.Helper()
	m := issuertest.NewManager(e.t, issuerURL, e.st, e.kek, e.clk, lifecycle.DefaultPolicy(), "")
	h := console.New(m, opts(m))
	e.t.Cleanup(h.Wait)
	r := *e
	r.m, r.h = m, h
	return &r
}

// do serves one request from a browser on the console's own origin,
// with the cookie if given.
func (e *env) do(method, path string, form url.Values, cookie *http.Cookie, hdr map[string]string) *httptest.ResponseRecorder {
	e.t.Helper()
	var r *http.Request
	if form != nil {
		r = httptest.NewRequest(method, issuerURL+path, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, issuerURL+path, nil)
	}
	r.RemoteAddr = "192.0.2.7:5555"
	if method == http.MethodPost {
		r.Header.Set("Origin", issuerURL)
		r.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for k, v := range hdr {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	if cookie != nil {
		r.AddCookie(cookie)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

// signIn signs the administrator in and returns the session cookie.
func (e *env) signIn() *http.Cookie {
	e.t.Helper()
	w := e.do(http.MethodPost, "/console/signin", url.Values{"name": {adminName}, "password": {adminPassword}}, nil, nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/console/keys" {
		e.t.Fatalf("sign-in: %d %s", w.Code, w.Body)
	}
	for _, c := range w.Result().Cookies() {
		if strings.HasSuffix(c.Name, "keyroll_console") {
			return c
		}
	}
	e.t.Fatal("sign-in set no session cookie")
	return nil
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the CSRF token from a console page.
func (e *env) csrf(c *http.Cookie) string {
	e.t.Helper()
	w := e.do(http.MethodGet, "/console/keys", nil, c, nil)
	m := csrfRE.FindStringSubmatch(w.Body.String())
	if w.Code != http.StatusOK || m == nil {
		e.t.Fatalf("keys page: %d, no CSRF token", w.Code)
	}
	return m[1]
}

// state is what an action may change: the keys, the store's generation,
// the applications and the audit log.
type state struct {
	keys   []lifecycle.Key
	gen    int64
	apps   []store.Application
	events int
}

func (e *env) state() state {
	e.t.Helper()
	ctx := context.Background()
	ks, gen, err := e.st.Keys(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	apps, err := e.st.Apps(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	ev, err := e.st.Events(ctx, time.Time{}, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return state{ks, gen, apps, len(ev)}
}

func (e *env) unchanged(before state) {
	e.t.Helper()
	after := e.state()
	if after.gen != before.gen || len(after.keys) != len(before.keys) || after.events != before.events {
		e.t.Errorf("the refused request changed something: generation %d→%d, keys %d→%d, events %d→%d",
			before.gen, after.gen, len(before.keys), len(after.keys), before.events, after.events)
	}
	for i := range after.keys {
		if after.keys[i].State != before.keys[i].State {
			e.t.Errorf("key %s went %s→%s", after.keys[i].KID, before.keys[i].State, after.keys[i].State)
		}
	}
	for i := range after.apps {
		if after.apps[i].KeyThumbprint != before.apps[i].KeyThumbprint {
			e.t.Errorf("app %s override went %q→%q", after.apps[i].Name, before.apps[i].KeyThumbprint, after.apps[i].KeyThumbprint)
		}
	}
}

func (e *env) primary() lifecycle.Key {
	e.t.Helper()
	ks := e.m.Snapshot().Keys
	i := lifecycle.PrimaryIndex(ks)
	if i < 0 {
		e.t.Fatal("no primary")
	}
	return ks[i]
}
