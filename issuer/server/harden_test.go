package server

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/issuer/signin"
)

// Fault (e): 15 wrong passwords in 1.2 s were all answered. Now the sixth
// failure for an account makes the next attempts wait (429 with the wait on
// the form, never a sleep), the waits grow, and the start is audited.
func TestSignInThrottled(t *testing.T) {
	e := newOAuthEnv(t)
	app := e.webApp(t)
	e.user(t, "alice", "correct horse battery")
	a := newAuthRequest(app.App.ClientID, "https://app.example/cb")
	b := newBrowser(t)
	resp, page := b.get(a.url(e.ts.URL))
	form, err := signin.ParseLoginForm([]byte(page))
	if err != nil {
		t.Fatal(err)
	}
	action, _ := resp.Request.URL.Parse(form.Action)
	var codes []int
	// The handler never sleeps (the throttle compares times on an injected
	// clock): 15 attempts answer at once, the later ones with 429.
	for range 15 {
		resp, _ = b.post(action.String(), form.Values("alice", "wrong"))
		codes = append(codes, resp.StatusCode)
	}
	for i, c := range codes {
		if want := map[bool]int{true: 200, false: 429}[i < 6]; c != want {
			t.Fatalf("answers = %v, want 6 × 200 (the sixth says to wait) then 429", codes)
		}
	}
	resp, page = b.post(action.String(), form.Values("alice", "correct horse battery"))
	again, _ := signin.ParseLoginForm([]byte(page))
	if resp.StatusCode != 429 || !strings.Contains(again.Error, "Wait 1 second") || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("throttled right password: %d %q Retry-After %q", resp.StatusCode, again.Error, resp.Header.Get("Retry-After"))
	}
	e.clk.Advance(time.Second)
	resp, page = b.post(action.String(), form.Values("alice", "still wrong"))
	again, _ = signin.ParseLoginForm([]byte(page))
	if resp.StatusCode != 200 || !strings.Contains(again.Error, "Wait 2 seconds") {
		t.Fatalf("after the wait, a wrong password: %d %q (the wait must double)", resp.StatusCode, again.Error)
	}
	e.clk.Advance(2 * time.Second)
	if resp, _ = b.post(action.String(), form.Values("alice", "correct horse battery")); resp.StatusCode != 303 && resp.StatusCode != 302 {
		t.Fatalf("right password after the wait: %d", resp.StatusCode)
	}
	events, _ := e.st.Events(context.Background(), time.Time{}, 0)
	n := 0
	for _, ev := range events {
		if strings.Contains(ev.Reason, `sign-in throttled for account "alice"`) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d audit events for the throttled account, want 1: %v", n, events)
	}
}

// Fault (e): the token endpoint told an unknown client from a wrong secret.
func TestClientAuthAnswersAlike(t *testing.T) {
	e := newOAuthEnv(t)
	conf := e.createApp(t, adminapi.CreateAppRequest{Name: "api"})
	saml := "0123456789abcdef0123456789abcdef"
	cc := url.Values{"grant_type": {"client_credentials"}}
	s1, _, wrong := e.postForm(t, cc, conf.App.ClientID, conf.ClientSecret+"x")
	s2, _, unknown := e.postForm(t, cc, saml, conf.ClientSecret)
	if s1 != 401 || s1 != s2 || wrong != unknown || wrong.Code != "invalid_client" {
		t.Fatalf("wrong secret %d %+v, unknown client %d %+v: want identical invalid_client answers", s1, wrong, s2, unknown)
	}
	for range 5 {
		e.postForm(t, cc, conf.App.ClientID, "guess")
	}
	status, _, bad := e.postForm(t, cc, conf.App.ClientID, conf.ClientSecret)
	if status != 429 || bad.Code != "invalid_client" {
		t.Fatalf("after 6 failures, the right secret: %d %+v, want 429 until the wait ends", status, bad)
	}
	e.clk.Advance(time.Minute)
	if status, ok, _ := e.postForm(t, cc, conf.App.ClientID, conf.ClientSecret); status != 200 || ok.AccessToken == "" {
		t.Fatalf("after the wait: %d", status)
	}
}

// Fault (f): the admin API accepted duplicate JSON members (and trailing
// data); every admin body is now decoded strictly.
func TestAdminBodiesStrict(t *testing.T) {
	e := newOAuthEnv(t)
	before := e.state(t)
	for _, c := range []struct{ path, body, says string }{
		{"/admin/keys/revoke", `{"key":"A","key":"B"}`, "twice"},
		{"/admin/keys/revoke", `{"key":"A","KEY":"B"}`, "twice"},
		{"/admin/keys/rotate", `{"urgent":false} {"urgent":true}`, "after the JSON value"},
		{"/admin/keys/rotate", `{"urgent":true,"why":"x"}`, "unknown field"},
		{"/admin/keys/repair", `{"apply":true,"apply":false}`, "twice"},
		{"/admin/apps", `{"name":"a","name":"b"}`, "twice"},
	} {
		resp, body := do(t, "POST", e.ts.URL+c.path, "", c.body, "Content-Type", "application/json")
		if resp.StatusCode != 400 || !strings.Contains(body, c.says) {
			t.Errorf("POST %s %s: %d %s", c.path, c.body, resp.StatusCode, body)
		}
	}
	before.mustEqual(t, "refused admin bodies", e.state(t))
}
