package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/issuer/oidc"
)

// TestAppsAdmin: create shows the secret once; list and show never do;
// the database holds neither the secret nor a test user's password.
func TestAppsAdmin(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := openSQLite(t, dir)
	t.Cleanup(func() { st.Close() })
	e := serveOn(t, st, testKEK(t), clock.NewFake(start))
	created := e.createApp(t, adminapi.CreateAppRequest{Name: "payroll-api", Audience: "api://payroll", TokenLifetimeSeconds: 600,
		RedirectURIs: []string{"https://payroll.example/signin-oidc"}})
	if len(created.ClientSecret) < 43 || len(created.App.ClientID) != 32 || created.App.TokenLifetimeSeconds != 600 ||
		created.App.SigningKey == nil || created.App.SigningKey.Override || created.App.Public {
		t.Fatalf("created %+v", created)
	}
	user, err := e.c.CreateUser(ctx, "alice", "")
	if err != nil || len(user.Password) < 16 {
		t.Fatalf("CreateUser with a generated password = (%+v, %v)", user, err)
	}
	for _, path := range []string{"/admin/apps", "/admin/apps/PAYROLL-API", "/admin/apps/" + created.App.ClientID, "/admin/users", "/admin/events"} {
		resp, body := do(t, "GET", e.ts.URL+path, "", "")
		if resp.StatusCode != 200 || strings.Contains(body, created.ClientSecret) || strings.Contains(body, user.Password) {
			t.Errorf("GET %s: %d, or it shows a secret: %s", path, resp.StatusCode, body)
		}
		if strings.Contains(path, "/apps/") && !strings.Contains(body, created.App.ClientID) {
			t.Errorf("GET %s does not show the app: %s", path, body)
		}
	}
	st.Close()
	for _, f := range []string{"keyroll.db", "keyroll.db-wal"} {
		data, _ := os.ReadFile(filepath.Join(dir, f))
		if bytes.Contains(data, []byte(created.ClientSecret)) || bytes.Contains(data, []byte(user.Password)) {
			t.Errorf("%s holds a client secret or password in clear", f)
		}
	}
}

func TestAppsAdminRefused(t *testing.T) {
	ctx := context.Background()
	e := newOAuthEnv(t)
	e.createApp(t, adminapi.CreateAppRequest{Name: "api"})
	cases := []struct {
		name   string
		req    adminapi.CreateAppRequest
		status int
		says   string
	}{
		{"duplicate name", adminapi.CreateAppRequest{Name: "API"}, 409, `named "api" exists`},
		{"bad name", adminapi.CreateAppRequest{Name: "a/b"}, 400, "application name"},
		{"client-id-like name", adminapi.CreateAppRequest{Name: "0123456789abcdef0123456789abcdef"}, 400, "looks like a client id"},
		{"http redirect", adminapi.CreateAppRequest{Name: "x", RedirectURIs: []string{"http://app.example/cb"}}, 400, "plain http"},
		{"fragment", adminapi.CreateAppRequest{Name: "x", RedirectURIs: []string{"https://app.example/cb#x"}}, 400, "fragment"},
		{"relative", adminapi.CreateAppRequest{Name: "x", RedirectURIs: []string{"/cb"}}, 400, "not an absolute URI"},
		{"custom scheme", adminapi.CreateAppRequest{Name: "x", RedirectURIs: []string{"myapp:/cb"}}, 400, "reversed domain"},
		{"duplicate URI", adminapi.CreateAppRequest{Name: "x", RedirectURIs: []string{"https://a.example/", "https://a.example/"}}, 400, "twice"},
		{"lifetime too long", adminapi.CreateAppRequest{Name: "x", TokenLifetimeSeconds: 7200}, 400, "MaxTokenLifetime"},
		{"lifetime too short", adminapi.CreateAppRequest{Name: "x", TokenLifetimeSeconds: 5}, 400, "token lifetime"},
		{"public without redirect", adminapi.CreateAppRequest{Name: "x", Public: true}, 400, "redirect URI"},
	}
	before := e.state(t)
	for _, c := range cases {
		if _, err := e.c.CreateApp(ctx, c.req); !isAPI(err, c.status, c.says) {
			t.Errorf("%s: %v, want %d saying %q", c.name, err, c.status, c.says)
		}
	}
	if _, err := e.c.CreateUser(ctx, "bob", "short"); !isAPI(err, 400, "8 to 1024") || strings.Contains(err.Error(), "short") {
		t.Errorf("short password: %v", err)
	}
	if _, err := e.c.CreateUser(ctx, "bad name", ""); !isAPI(err, 400, "user name") {
		t.Errorf("bad user name: %v", err)
	}
	if err := e.c.DeleteApp(ctx, "nosuch"); !isAPI(err, 404, "no application") {
		t.Errorf("delete unknown app: %v", err)
	}
	if err := e.c.DeleteUser(ctx, "nosuch"); !isAPI(err, 404, "no user") {
		t.Errorf("delete unknown user: %v", err)
	}
	before.mustEqual(t, "refused admin requests", e.state(t))
	resp, body := do(t, "POST", e.ts.URL+"/admin/apps", "", `{"name":"x","secret":"mine"}`)
	if resp.StatusCode != 400 || !strings.Contains(body, "unknown field") {
		t.Errorf("unknown field: %d %s", resp.StatusCode, body)
	}
}

func TestAppsDeleteAndUsers(t *testing.T) {
	ctx := context.Background()
	e := newOAuthEnv(t)
	app := e.createApp(t, adminapi.CreateAppRequest{Name: "api"})
	if err := e.c.DeleteApp(ctx, "api"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.ClientCredentials(ctx, app.App.ClientID, app.ClientSecret); err == nil {
		t.Error("a deleted app still gets tokens")
	}
	if apps, err := e.c.Apps(ctx); err != nil || len(apps) != 0 {
		t.Errorf("Apps after delete = (%v, %v)", apps, err)
	}
	e.user(t, "alice", "correct horse battery")
	e.user(t, "Bob", "correct horse battery")
	if _, err := e.c.CreateUser(ctx, "BOB", "correct horse battery"); !isAPI(err, 409, "exists") {
		t.Errorf("duplicate user: %v", err)
	}
	users, err := e.c.Users(ctx)
	if err != nil || len(users) != 2 || users[0].Username != "alice" || users[1].Username != "Bob" || !users[0].CreatedAt.Equal(start) {
		t.Errorf("Users = (%+v, %v)", users, err)
	}
	if err := e.c.DeleteUser(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if users, _ = e.c.Users(ctx); len(users) != 1 {
		t.Errorf("after delete %d users", len(users))
	}
}

func TestDiscoveryOAuth(t *testing.T) {
	e := newOAuthEnv(t)
	resp, body := do(t, "GET", e.ts.URL+issuer.DiscoveryPath, "", "")
	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("discovery: %d %v", resp.StatusCode, err)
	}
	want := map[string]string{
		"authorization_endpoint":                e.ts.URL + oidc.AuthorizePath,
		"token_endpoint":                        e.ts.URL + oidc.TokenPath,
		"userinfo_endpoint":                     e.ts.URL + oidc.UserInfoPath,
		"code_challenge_methods_supported":      "[S256]",
		"grant_types_supported":                 "[authorization_code client_credentials]",
		"token_endpoint_auth_methods_supported": "[client_secret_basic client_secret_post none]",
		"scopes_supported":                      "[openid profile]",
	}
	for k, v := range want {
		if got := jsonStr(doc[k]); got != v {
			t.Errorf("discovery %s = %s, want %s", k, got, v)
		}
	}
	if claims, _ := doc["claims_supported"].([]any); len(claims) < 8 {
		t.Errorf("claims_supported %v", doc["claims_supported"])
	}
}

func jsonStr(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		var s []string
		for _, e := range x {
			s = append(s, jsonStr(e))
		}
		return "[" + strings.Join(s, " ") + "]"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// TestCodeAcrossReplicas: a code issued by one replica is redeemed at
// another, once.
func TestCodeAcrossReplicas(t *testing.T) {
	dir := t.TempDir()
	sealer, clk := testKEK(t), clock.NewFake(start)
	stA, stB := openSQLite(t, dir), openSQLite(t, dir)
	t.Cleanup(func() { stA.Close(); stB.Close() })
	a, b := serveOn(t, stA, sealer, clk), serveOn(t, stB, sealer, clk)
	app := a.createApp(t, adminapi.CreateAppRequest{Name: "web", RedirectURIs: []string{"https://app.example/cb"}})
	a.user(t, "alice", "correct horse battery")
	req := newAuthRequest(app.App.ClientID, "https://app.example/cb")
	code := a.codeFor(t, req, "alice", "correct horse battery")
	status, tok, bad := b.postForm(t, redeem(code, req), app.App.ClientID, app.ClientSecret)
	if status != 200 || tok.IDToken == "" {
		t.Fatalf("redeem at the other replica: %d %+v", status, bad)
	}
	if status, _, _ = a.postForm(t, redeem(code, req), app.App.ClientID, app.ClientSecret); status != 400 {
		t.Errorf("the code redeemed at B was accepted again at A: %d", status)
	}
	// Replica B signs with a key pinned through replica A at once.
	if _, err := a.m.Rotate(context.Background(), false, "test"); err != nil {
		t.Fatal(err)
	}
	api := a.createApp(t, adminapi.CreateAppRequest{Name: "api"})
	res, err := a.c.Override(context.Background(), "api", adminapi.OverrideRequest{Next: true})
	if err != nil {
		t.Fatal(err)
	}
	if kid := kidOf(t, b.clientCredentials(t, api)); kid != res.App.SigningKey.KID {
		t.Errorf("replica B signed with %s, want the key pinned through A, %s", kid, res.App.SigningKey.KID)
	}
}

// TestAppsAdminGuarded: the application and user endpoints sit behind the
// admin token like the rest of /admin/.
func TestAppsAdminGuarded(t *testing.T) {
	_, _, ts := newTestServer(t, "s3cret")
	for _, r := range [][2]string{{"GET", "/admin/apps"}, {"POST", "/admin/apps"}, {"POST", "/admin/apps/x/override"},
		{"POST", "/admin/apps/x/token"}, {"GET", "/admin/users"}, {"POST", "/admin/users"}, {"DELETE", "/admin/users/x"}} {
		if resp, _ := do(t, r[0], ts.URL+r[1], "wrong", `{}`); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s %s with a wrong token: %d, want 401", r[0], r[1], resp.StatusCode)
		}
	}
	if resp, body := do(t, "POST", ts.URL+"/admin/apps", "s3cret", `{"name":"api"}`); resp.StatusCode != http.StatusCreated {
		t.Errorf("with the token: %d %s", resp.StatusCode, body)
	}
}
