package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/prometheus/client_golang/prometheus"
)

func newTestServer(t *testing.T, token string) (*issuer.Manager, *clock.Fake, *httptest.Server) {
	t.Helper()
	clk := clock.NewFake(start)
	st := openSQLite(t, t.TempDir())
	t.Cleanup(func() { st.Close() })
	m := newManager(t, st, testKEK(t), clk, lifecycle.DefaultPolicy())
	ts := httptest.NewServer(New(m, Options{AdminToken: token}))
	t.Cleanup(ts.Close)
	return m, clk, ts
}

func do(t *testing.T, method, url, token, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if method != "GET" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestJWKSCaching(t *testing.T) {
	m, clk, ts := newTestServer(t, "")
	resp, body := do(t, "GET", ts.URL+issuer.JWKSPath, "", "")
	tag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || tag == "" || strings.HasPrefix(tag, "W/") {
		t.Fatalf("JWKS: %d, ETag %q", resp.StatusCode, tag)
	}
	// max-age never reaches past the next scheduled change.
	maxAge, err := strconv.Atoi(strings.TrimPrefix(resp.Header.Get("Cache-Control"), "public, max-age="))
	if err != nil {
		t.Fatalf("Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	next := m.Snapshot().NextChange
	if time.Duration(maxAge)*time.Second > next.Sub(clk.Now()) || maxAge <= 0 {
		t.Fatalf("max-age %d s, next change in %s", maxAge, next.Sub(clk.Now()))
	}
	clk.Set(next.Add(-30 * time.Second))
	resp, _ = do(t, "GET", ts.URL+issuer.JWKSPath, "", "")
	if got := resp.Header.Get("Cache-Control"); got != "public, max-age=30" {
		t.Fatalf("30 s before a change: Cache-Control %q", got)
	}
	resp, again := do(t, "GET", ts.URL+issuer.JWKSPath, "", "", "If-None-Match", tag)
	if resp.StatusCode != http.StatusNotModified || again != "" {
		t.Fatalf("If-None-Match: %d %q", resp.StatusCode, again)
	}
	if _, err := m.Rotate(context.Background(), false, "test"); err != nil {
		t.Fatal(err)
	}
	resp, body2 := do(t, "GET", ts.URL+issuer.JWKSPath, "", "", "If-None-Match", tag)
	if resp.StatusCode != 200 || body2 == body || resp.Header.Get("ETag") == tag {
		t.Fatalf("after rotation: %d, same body %v", resp.StatusCode, body2 == body)
	}
}

func TestAdminAuth(t *testing.T) {
	_, _, ts := newTestServer(t, "s3cret-token")
	for _, tok := range []string{"", "wrong", "s3cret-token-", "s3cret-toke"} {
		if resp, body := do(t, "GET", ts.URL+"/admin/keys", tok, ""); resp.StatusCode != 401 || strings.Contains(body, "s3cret") {
			t.Errorf("token %q: %d %s", tok, resp.StatusCode, body)
		}
	}
	if resp, _ := do(t, "GET", ts.URL+"/admin/keys", "s3cret-token", ""); resp.StatusCode != 200 {
		t.Errorf("right token: %d", resp.StatusCode)
	}

	_, _, open := newTestServer(t, "")
	if resp, _ := do(t, "GET", open.URL+"/admin/keys", "", ""); resp.StatusCode != 200 {
		t.Errorf("loopback without token: %d", resp.StatusCode)
	}
	if resp, _ := do(t, "GET", open.URL+"/admin/keys", "", "", "X-Forwarded-For", "203.0.113.9"); resp.StatusCode != 403 {
		t.Errorf("proxied request without token: %d, want 403", resp.StatusCode)
	}
}

// TestAdminBadInput: every bad request gets a clear error and changes nothing.
func TestAdminBadInput(t *testing.T) {
	m, _, ts := newTestServer(t, "")
	gen := m.Snapshot().Generation
	cases := []struct {
		path, body string
		status     int
		want       string
	}{
		{"/admin/keys/revoke", `{"key":"00112233445566778899AABBCCDDEEFF00112233"}`, 404, "matches no key"},
		{"/admin/keys/revoke", `{}`, 400, "thumbprint or kid"},
		{"/admin/keys/revoke", `{"key":1}`, 400, "request body"},
		{"/admin/keys/rotate", `{"urgent":true,"extra":1}`, 400, "unknown field"},
		{"/admin/keys/rotate", `not json`, 400, "request body"},
		{"/admin/keys/rotate", strings.Repeat(" ", 64<<10+1) + "{}", 400, "too large"},
	}
	for _, c := range cases {
		resp, body := do(t, "POST", ts.URL+c.path, "", c.body)
		if resp.StatusCode != c.status || !strings.Contains(body, c.want) {
			t.Errorf("POST %s %.40q: %d %s; want %d with %q", c.path, c.body, resp.StatusCode, body, c.status, c.want)
		}
	}
	if resp, body := do(t, "GET", ts.URL+"/admin/events?since=yesterday", "", ""); resp.StatusCode != 400 || !strings.Contains(body, "RFC 3339") {
		t.Errorf("bad since: %d %s", resp.StatusCode, body)
	}
	if g, _ := m.Store().Generation(context.Background()); g != gen {
		t.Fatalf("bad requests changed the store: generation %d → %d", gen, g)
	}
}

func TestRevokeOnlyKeyWithoutReplacement(t *testing.T) {
	clk := clock.NewFake(start)
	st := openSQLite(t, t.TempDir())
	defer st.Close()
	p := lifecycle.DefaultPolicy()
	p.AutoRollover = false
	m := newManager(t, st, testKEK(t), clk, p)
	prim := m.Snapshot().Primary
	_, err := m.Revoke(context.Background(), prim.Thumbprint, "test")
	if !errors.Is(err, lifecycle.ErrNoReplacement) {
		t.Fatalf("revoke only key: %v", err)
	}
	ts := httptest.NewServer(New(m, Options{}))
	defer ts.Close()
	resp, body := do(t, "POST", ts.URL+"/admin/keys/revoke", "", fmt.Sprintf(`{"key":%q}`, prim.Thumbprint))
	if resp.StatusCode != 409 || !strings.Contains(body, "rotate first") {
		t.Fatalf("revoke via API: %d %s", resp.StatusCode, body)
	}
	if m.Snapshot().Primary.KID != prim.KID {
		t.Fatal("primary changed")
	}
}

func TestWrongKEKRefusesToStart(t *testing.T) {
	dir := t.TempDir()
	st := openSQLite(t, dir)
	clk := clock.NewFake(start)
	m := newManager(t, st, testKEK(t), clk, lifecycle.DefaultPolicy())
	before, gen, _ := st.Keys(context.Background())
	_ = m
	st.Close()

	st = openSQLite(t, dir)
	defer st.Close()
	other, err := issuer.New(issuer.Config{Issuer: "https://issuer.test", Store: st, Sealer: testKEK(t), Policy: lifecycle.DefaultPolicy(), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	err = other.Open(context.Background())
	if !errors.Is(err, issuer.ErrWrongKEK) || !strings.Contains(err.Error(), "refusing to start") {
		t.Fatalf("open with another KEK: %v", err)
	}
	after, gen2, _ := st.Keys(context.Background())
	if gen2 != gen || len(after) != len(before) {
		t.Fatalf("wrong KEK changed the store")
	}
}

func TestRunLoopRollsOnSchedule(t *testing.T) {
	m, clk, _ := newTestServer(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	prim := *m.Snapshot().Primary
	p := m.Policy()
	genAt := prim.NotAfter.Add(-p.GenerationThreshold)
	// Step through the polling ticks up to the generation threshold.
	for clk.Now().Before(genAt) {
		clk.BlockUntil(1)
		clk.Set(earlier(genAt, clk.Now().Add(p.RolloverInterval)))
	}
	clk.BlockUntil(1) // the loop has run the check and sleeps again
	snap := m.Snapshot()
	if len(snap.Published) != 2 || snap.Published[1].State != lifecycle.Next {
		t.Fatalf("at the generation threshold the loop published %d keys: %+v", len(snap.Published), snap.Published)
	}
	var doc struct{ Keys []json.RawMessage }
	json.Unmarshal(snap.JWKS, &doc)
	if len(doc.Keys) != 2 {
		t.Fatalf("JWKS has %d keys", len(doc.Keys))
	}
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// TestAdminRefusesBrowsers: without an admin token, a web page on the
// operator's machine must not be able to drive the admin API, by a
// cross-site "simple" request or by DNS rebinding.
func TestAdminRefusesBrowsers(t *testing.T) {
	m, _, ts := newTestServer(t, "")
	gen := m.Snapshot().Generation
	post := func(ctype string, hdr ...string) int {
		req, _ := http.NewRequest("POST", ts.URL+"/admin/keys/rotate", strings.NewReader(`{"urgent":true}`))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			if hdr[i] == "Host" {
				req.Host = hdr[i+1]
			} else {
				req.Header.Set(hdr[i], hdr[i+1])
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for name, c := range map[string]struct {
		ctype string
		hdr   []string
		want  int
	}{
		"text/plain simple request": {"text/plain", nil, 415},
		"no content type":           {"", nil, 415},
		"cross-site origin":         {"application/json", []string{"Origin", "https://evil.example"}, 403},
		"fetch metadata":            {"application/json", []string{"Sec-Fetch-Site", "cross-site"}, 403},
		"rebound host name":         {"application/json", []string{"Host", "rebind.evil.example"}, 403},
	} {
		if got := post(c.ctype, c.hdr...); got != c.want {
			t.Errorf("%s: %d, want %d", name, got, c.want)
		}
	}
	if g, _ := m.Store().Generation(context.Background()); g != gen {
		t.Fatal("a refused request rotated the keys")
	}
	if got := post("application/json", "Host", "localhost"); got != 200 {
		t.Fatalf("a plain CLI request to localhost: %d", got)
	}
}

// TestRequestMetrics: requests are counted by the endpoint they matched
// and tokens by protocol and application.
func TestRequestMetrics(t *testing.T) {
	st := openSQLite(t, t.TempDir())
	defer st.Close()
	reg := prometheus.NewRegistry()
	m := newManager(t, st, testKEK(t), clock.NewFake(start), lifecycle.DefaultPolicy())
	ts := httptest.NewServer(New(m, Options{Gatherer: reg, Registerer: reg}))
	defer ts.Close()
	for range 3 {
		do(t, "GET", ts.URL+issuer.JWKSPath, "", "")
	}
	do(t, "GET", ts.URL+"/nothing-here", "", "")
	_, body := do(t, "GET", ts.URL+MetricsPath, "", "")
	for _, want := range []string{
		`keyroll_http_requests_total{code="200",endpoint="GET /.well-known/jwks.json"} 3`,
		`keyroll_http_requests_total{code="404",endpoint="unmatched"} 1`,
		`keyroll_http_request_duration_seconds_count{endpoint="GET /.well-known/jwks.json"} 3`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// TestReadyz: ready while the primary can sign and the store answers; a
// store that went away makes it 503 (health, from the snapshot, stays 200).
func TestReadyz(t *testing.T) {
	st := openSQLite(t, t.TempDir())
	m := newManager(t, st, testKEK(t), clock.NewFake(start), lifecycle.DefaultPolicy())
	ts := httptest.NewServer(New(m, Options{}))
	defer ts.Close()
	if resp, body := do(t, "GET", ts.URL+issuer.ReadyPath, "", ""); resp.StatusCode != 200 || !strings.Contains(body, `"ok"`) {
		t.Fatalf("readyz: %d %s", resp.StatusCode, body)
	}
	st.Close()
	if resp, body := do(t, "GET", ts.URL+issuer.ReadyPath, "", ""); resp.StatusCode != 503 || !strings.Contains(body, "store is unreachable") {
		t.Errorf("readyz without a store: %d %s", resp.StatusCode, body)
	}
	if resp, _ := do(t, "GET", ts.URL+issuer.HealthPath, "", ""); resp.StatusCode != 200 {
		t.Errorf("healthz without a store: %d", resp.StatusCode)
	}
}

// TestAuditActors: the audit log says who made a change: a holder of the
// admin token, or a loopback client when none is configured.
func TestAuditActors(t *testing.T) {
	for token, want := range map[string]string{"": "loopback", "s3cret": "admin-token"} {
		m, _, ts := newTestServer(t, token)
		if resp, body := do(t, "POST", ts.URL+"/admin/keys/rotate", token, `{}`); resp.StatusCode != 200 {
			t.Fatalf("rotate: %d %s", resp.StatusCode, body)
		}
		ev, _ := m.Events(context.Background(), time.Time{}, 0)
		if last := ev[len(ev)-1]; last.Actor != want {
			t.Errorf("token %q: actor %q, want %q", token, last.Actor, want)
		}
	}
}
