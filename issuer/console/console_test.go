package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/issuer/console"
)

// TestSignInPagesSignOut: an administrator signs in, sees every page and
// signs out; the session is gone from the store, and both are audited.
func TestSignInPagesSignOut(t *testing.T) {
	e := newEnv(t, issuerURL, console.Options{})
	if w := e.do(http.MethodGet, "/console/keys", nil, nil, nil); w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/console/signin") {
		t.Fatalf("keys without a session: %d %s", w.Code, w.Header().Get("Location"))
	}
	w := e.do(http.MethodGet, "/console/signin", nil, nil, nil)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `<label for="password">`) {
		t.Fatalf("sign-in page: %d", w.Code)
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("CSP %q allows more than the console needs", csp)
	}
	c := e.signIn()
	if c.Name != console.PlainCookieName || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure || c.Path != "/console/" {
		t.Errorf("cookie over http: %+v", c)
	}
	primary := e.primary()
	for path, want := range map[string]string{
		"/console/keys":   primary.Thumbprint,
		"/console/apps":   "No application is registered",
		"/console/events": "signed in to the console from 192.0.2.7",
		"/console/drill":  "Run an API drill",
	} {
		w := e.do(http.MethodGet, path, nil, c, nil)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), want) || !strings.Contains(w.Body.String(), "Signed in as <strong id=\"admin-name\">ada</strong>") {
			t.Errorf("%s: %d, want %q in\n%s", path, w.Code, want, w.Body)
		}
	}
	if body := e.do(http.MethodGet, "/console/keys", nil, c, nil).Body.String(); !strings.Contains(body, `<svg class="chart"`) || !strings.Contains(body, "critical date") {
		t.Error("the keys page has no timeline chart")
	}
	w = e.do(http.MethodPost, "/console/signout", url.Values{"csrf": {e.csrf(c)}}, c, nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/console/signin?m=out" {
		t.Fatalf("sign-out: %d %s", w.Code, w.Body)
	}
	if w := e.do(http.MethodGet, "/console/keys", nil, c, nil); w.Code != http.StatusSeeOther {
		t.Errorf("the session works after sign-out: %d", w.Code)
	}
	ev, _ := e.st.Events(context.Background(), time.Time{}, 0)
	if last := ev[len(ev)-1]; last.Actor != "console:ada" || last.Reason != "signed out of the console" {
		t.Errorf("last event %+v, want the sign-out", last)
	}
}

// TestSecureCookie: over https the session cookie is __Host-, Secure,
// HttpOnly, SameSite=Strict, for the whole host.
func TestSecureCookie(t *testing.T) {
	e := newEnv(t, "https://login.example.com", console.Options{})
	w := e.do(http.MethodPost, "/console/signin", url.Values{"name": {adminName}, "password": {adminPassword}}, nil,
		map[string]string{"Origin": "https://login.example.com"})
	cs := w.Result().Cookies()
	if w.Code != http.StatusSeeOther || len(cs) != 1 {
		t.Fatalf("sign-in: %d %s", w.Code, w.Body)
	}
	if c := cs[0]; c.Name != "__Host-keyroll_console" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Domain != "" {
		t.Errorf("cookie over https: %+v", c)
	}
}

// TestRefusals: a state-changing request without a live session, with a
// wrong or missing CSRF token, or from another origin is refused and
// changes nothing.
func TestRefusals(t *testing.T) {
	e := newEnv(t, issuerURL, console.Options{IdleTimeout: 10 * time.Minute, AbsoluteTimeout: time.Hour})
	c := e.signIn()
	token := e.csrf(c)
	rotate := func(csrf string) url.Values { return url.Values{"urgent": {"1"}, "csrf": {csrf}} }
	for _, tc := range []struct {
		name   string
		cookie *http.Cookie
		form   url.Values
		hdr    map[string]string
		code   int
	}{
		{"no session", nil, rotate(token), nil, http.StatusUnauthorized},
		{"unknown session", &http.Cookie{Name: c.Name, Value: strings.Repeat("A", 43)}, rotate(token), nil, http.StatusUnauthorized},
		{"no CSRF token", c, url.Values{"urgent": {"1"}}, nil, http.StatusForbidden},
		{"wrong CSRF token", c, rotate(token[:len(token)-1] + "x"), nil, http.StatusForbidden},
		{"another origin", c, rotate(token), map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": ""}, http.StatusForbidden},
		{"cross-site fetch", c, rotate(token), map[string]string{"Origin": "", "Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"same-site fetch", c, rotate(token), map[string]string{"Origin": "", "Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"null origin", c, rotate(token), map[string]string{"Origin": "null"}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.state()
			w := e.do(http.MethodPost, "/console/keys/rotate", tc.form, tc.cookie, tc.hdr)
			if w.Code != tc.code {
				t.Errorf("status %d, want %d: %s", w.Code, tc.code, w.Body)
			}
			if !strings.Contains(w.Body.String(), "Refused") {
				t.Errorf("the answer does not say it refused:\n%s", w.Body)
			}
			e.unchanged(before)
		})
	}
	// The session and token still work: the refusals were not luck.
	before := e.primary()
	if w := e.do(http.MethodPost, "/console/keys/rotate", rotate(token), c, nil); w.Code != http.StatusSeeOther {
		t.Fatalf("the real rotation: %d %s", w.Code, w.Body)
	}
	if e.primary().KID == before.KID {
		t.Error("the urgent rotation made no new primary")
	}
}

// TestExpiredSessions: a session idle too long, or past its absolute end
// however busy, is refused, changes nothing, and is deleted.
func TestExpiredSessions(t *testing.T) {
	const idle, absolute = 10 * time.Minute, time.Hour
	e := newEnv(t, issuerURL, console.Options{IdleTimeout: idle, AbsoluteTimeout: absolute})
	post := func(c *http.Cookie, token string) int {
		return e.do(http.MethodPost, "/console/keys/rotate", url.Values{"urgent": {"1"}, "csrf": {token}}, c, nil).Code
	}
	t.Run("idle", func(t *testing.T) {
		c := e.signIn()
		token := e.csrf(c)
		e.clk.Advance(idle)
		before := e.state()
		if code := post(c, token); code != http.StatusUnauthorized {
			t.Errorf("idle session: %d, want 401", code)
		}
		e.unchanged(before)
		if w := e.do(http.MethodGet, "/console/keys", nil, c, nil); w.Code != http.StatusSeeOther {
			t.Errorf("the idle session came back: %d", w.Code)
		}
	})
	t.Run("absolute", func(t *testing.T) {
		c := e.signIn()
		token := e.csrf(c)
		for elapsed := time.Duration(0); elapsed < absolute; elapsed += idle / 2 {
			e.clk.Advance(idle / 2)
			e.do(http.MethodGet, "/console/events", nil, c, nil) // busy: never idle
		}
		before := e.state()
		if code := post(c, token); code != http.StatusUnauthorized {
			t.Errorf("session past its absolute end: %d, want 401", code)
		}
		e.unchanged(before)
	})
	t.Run("administrator deleted", func(t *testing.T) {
		c := e.signIn()
		token := e.csrf(c)
		if err := e.m.DeleteAdmin(context.Background(), adminName, "test"); err != nil {
			t.Fatal(err)
		}
		before := e.state()
		if code := post(c, token); code != http.StatusUnauthorized {
			t.Errorf("deleted administrator's session: %d, want 401", code)
		}
		e.unchanged(before)
	})
}

// TestSignInThrottle: after a few failures an account waits, doubling
// each time, even with the right password; and one address guessing at
// many accounts waits too. The fake clock moves; nothing sleeps.
func TestSignInThrottle(t *testing.T) {
	e := newEnv(t, issuerURL, console.Options{})
	try := func(name, password string) int {
		return e.do(http.MethodPost, "/console/signin", url.Values{"name": {name}, "password": {password}}, nil, nil).Code
	}
	for i := range 4 {
		if code := try(adminName, "wrong password"); code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, code)
		}
	}
	if code := try(adminName, adminPassword); code != http.StatusTooManyRequests {
		t.Errorf("right password during the delay: %d, want 429", code)
	}
	e.clk.Advance(time.Second)
	if code := try(adminName, "wrong password"); code != http.StatusUnauthorized {
		t.Errorf("after the delay: %d, want 401", code)
	}
	e.clk.Advance(time.Second) // the next delay is 2 s
	if code := try(adminName, adminPassword); code != http.StatusTooManyRequests {
		t.Errorf("the delay did not grow: %d, want 429", code)
	}
	e.clk.Advance(time.Second)
	if code := try(adminName, adminPassword); code != http.StatusSeeOther {
		t.Errorf("right password after the delay: %d, want 303", code)
	}
}

// TestSignInThrottleAddress: one address guessing at many accounts is slowed.
func TestSignInThrottleAddress(t *testing.T) {
	e := newEnv(t, issuerURL, console.Options{})
	for i := range 11 {
		w := e.do(http.MethodPost, "/console/signin", url.Values{"name": {"guess" + string(rune('a'+i))}, "password": {"wrong password"}}, nil, nil)
		if w.Code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i+1, w.Code)
		}
	}
	w := e.do(http.MethodPost, "/console/signin", url.Values{"name": {adminName}, "password": {adminPassword}}, nil, nil)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Errorf("the guessing address signs in at once: %d", w.Code)
	}
}

// TestActions: rotate, revoke (typing the thumbprint), override and
// restore through their confirmation pages, each audited as console:ada.
func TestActions(t *testing.T) {
	e := newEnv(t, issuerURL, console.Options{})
	ctx := context.Background()
	app, _, err := e.m.CreateApp(ctx, issuer.AppSpec{Name: "orders"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	c := e.signIn()
	token := e.csrf(c)
	if w := e.do(http.MethodGet, "/console/keys/rotate", nil, c, nil); !strings.Contains(w.Body.String(), "publishes a new next key") {
		t.Errorf("rotate confirmation: %d %s", w.Code, w.Body)
	}
	if w := e.do(http.MethodPost, "/console/keys/rotate", url.Values{"urgent": {"0"}, "csrf": {token}}, c, nil); w.Code != http.StatusSeeOther {
		t.Fatalf("rotate: %d %s", w.Code, w.Body)
	}
	ks := e.m.Snapshot().Keys
	next := ks[len(ks)-1]
	if next.State != "next" {
		t.Fatalf("after rotate the newest key is %s", next.State)
	}
	// Override the app to the next key: choose, confirm, post.
	if w := e.do(http.MethodGet, "/console/apps/"+app.ClientID+"/override?key="+next.Thumbprint, nil, c, nil); !strings.Contains(w.Body.String(), "pins every token orders gets to key") {
		t.Errorf("override confirmation: %d %s", w.Code, w.Body)
	}
	if w := e.do(http.MethodPost, "/console/apps/"+app.ClientID+"/override", url.Values{"key": {next.Thumbprint}, "csrf": {token}}, c, nil); w.Code != http.StatusSeeOther {
		t.Fatalf("override: %d %s", w.Code, w.Body)
	}
	if a, _ := e.st.App(ctx, app.ClientID); a.KeyThumbprint != next.Thumbprint {
		t.Errorf("override is %q, want %s", a.KeyThumbprint, next.Thumbprint)
	}
	if w := e.do(http.MethodGet, "/console/apps", nil, c, nil); !strings.Contains(w.Body.String(), next.Thumbprint) || !strings.Contains(w.Body.String(), "(its override)") {
		t.Errorf("apps page does not show the override:\n%s", w.Body)
	}
	if w := e.do(http.MethodPost, "/console/apps/"+app.ClientID+"/restore", url.Values{"csrf": {token}}, c, nil); w.Code != http.StatusSeeOther {
		t.Fatalf("restore: %d %s", w.Code, w.Body)
	}
	if a, _ := e.st.App(ctx, app.ClientID); a.KeyThumbprint != "" {
		t.Errorf("override after restore is %q", a.KeyThumbprint)
	}
	// Revoke: the wrong thumbprint typed changes nothing; the right one revokes.
	before := e.state()
	w := e.do(http.MethodPost, "/console/keys/revoke", url.Values{"key": {next.Thumbprint}, "confirm": {"0000"}, "csrf": {token}}, c, nil)
	if w.Code != http.StatusUnprocessableEntity {
		t.Errorf("revoke with the wrong thumbprint typed: %d", w.Code)
	}
	e.unchanged(before)
	typed := strings.ToLower(next.Thumbprint[:20]) + " " + next.Thumbprint[20:]
	if w := e.do(http.MethodPost, "/console/keys/revoke", url.Values{"key": {next.Thumbprint}, "confirm": {typed}, "csrf": {token}}, c, nil); w.Code != http.StatusSeeOther {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	ev, _ := e.st.Events(ctx, time.Time{}, 0)
	w = e.do(http.MethodGet, "/console/events?kind=app", nil, c, nil)
	if !strings.Contains(w.Body.String(), "signing key override set to") || strings.Contains(w.Body.String(), "signed in to the console") {
		t.Errorf("events filtered by app:\n%s", w.Body)
	}
	n := 0
	for _, x := range ev {
		if x.Actor == "console:ada" && x.To != "" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d key transitions by console:ada, want the rotation's and the revocation's", n)
	}
}
