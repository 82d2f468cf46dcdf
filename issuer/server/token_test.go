package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/issuer/oidc"
)

// TestClientCredentialsToken: the token carries every required claim and
// header member, is signed by the primary, and expires at the app's lifetime.
func TestClientCredentialsToken(t *testing.T) {
	e := newOAuthEnv(t)
	app := e.createApp(t, adminapi.CreateAppRequest{Name: "api", Audience: "api://orders", TokenLifetimeSeconds: 1800})
	resp, err := e.c.ClientCredentials(context.Background(), app.App.ClientID, app.ClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	if resp.TokenType != "Bearer" || resp.ExpiresIn != 1800 || resp.IDToken != "" {
		t.Errorf("token response %+v, want a Bearer token for 1800 s and no ID token", resp)
	}
	h, c := e.verified(t, resp.AccessToken)
	primary := e.m.Snapshot().Primary
	if h.Kid != primary.KID || h.Typ != "at+jwt" || h.Alg != "ES256" || h.X5t != x5t(*primary) || h.X5t == "" {
		t.Errorf("header %+v, want kid %s, typ at+jwt and x5t of the primary", h, primary.KID)
	}
	now := float64(start.Unix())
	want := map[string]any{"iss": e.ts.URL, "sub": app.App.ClientID, "aud": "api://orders", "client_id": app.App.ClientID,
		"azp": app.App.ClientID, "iat": now, "nbf": now, "exp": now + 1800}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("claim %s = %v, want %v", k, c[k], v)
		}
	}
	if jti, _ := c["jti"].(string); len(jti) < 20 {
		t.Errorf("jti %q is not a random id", jti)
	}
	if again := e.clientCredentials(t, app); again == resp.AccessToken {
		t.Error("two tokens are identical: jti is not random")
	}
}

// TestClientSecretPost: client_secret_post works like client_secret_basic.
func TestClientSecretPost(t *testing.T) {
	e := newOAuthEnv(t)
	app := e.createApp(t, adminapi.CreateAppRequest{Name: "api"})
	code, ok, bad := e.postForm(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {app.App.ClientID}, "client_secret": {app.ClientSecret}}, "", "")
	if code != 200 || ok.AccessToken == "" {
		t.Fatalf("client_secret_post: %d %+v", code, bad)
	}
	if _, c := e.verified(t, ok.AccessToken); c["aud"] != app.App.ClientID {
		t.Errorf("default audience %v, want the client id", c["aud"])
	}
}

// TestTokenEndpointErrors: every bad request gets the RFC 6749 error and
// changes nothing.
func TestTokenEndpointErrors(t *testing.T) {
	e := newOAuthEnv(t)
	conf := e.createApp(t, adminapi.CreateAppRequest{Name: "api"})
	pub := e.createApp(t, adminapi.CreateAppRequest{Name: "spa", Public: true, RedirectURIs: []string{"https://spa.example/cb"}})
	cc := url.Values{"grant_type": {"client_credentials"}}
	withID := func(v url.Values, kv ...string) url.Values {
		out := url.Values{}
		for k, x := range v {
			out[k] = x
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out.Add(kv[i], kv[i+1])
		}
		return out
	}
	id, secret := conf.App.ClientID, conf.ClientSecret
	cases := []struct {
		name       string
		form       url.Values
		user, pass string
		status     int
		code, says string
	}{
		{"wrong secret", cc, id, secret + "x", 401, "invalid_client", "client authentication failed"},
		{"wrong secret (post)", withID(cc, "client_id", id, "client_secret", "nope"), "", "", 401, "invalid_client", "client authentication failed"},
		{"no secret", withID(cc, "client_id", id), "", "", 401, "invalid_client", "client authentication failed"},
		{"unknown client", cc, "0123456789abcdef0123456789abcdef", secret, 401, "invalid_client", "client authentication failed"},
		{"no client", cc, "", "", 401, "invalid_client", "no client authentication"},
		{"two methods", withID(cc, "client_secret", secret), id, secret, 400, "invalid_request", "use one method"},
		{"public client credentials", withID(cc, "client_id", pub.App.ClientID), "", "", 400, "unauthorized_client", "public client"},
		{"public with secret", withID(cc, "client_id", pub.App.ClientID, "client_secret", "x"), "", "", 401, "invalid_client", "client authentication failed"},
		{"unsupported grant", url.Values{"grant_type": {"password"}}, id, secret, 400, "unsupported_grant_type", "password"},
		{"no grant", url.Values{}, id, secret, 400, "invalid_request", "grant_type is missing"},
		{"repeated parameter", withID(cc, "grant_type", "client_credentials"), id, secret, 400, "invalid_request", "repeated"},
		{"code missing", url.Values{"grant_type": {"authorization_code"}}, id, secret, 400, "invalid_request", "code is missing"},
		{"unknown code", url.Values{"grant_type": {"authorization_code"}, "code": {"forged"}}, id, secret, 400, "invalid_grant", "invalid or was already used"},
	}
	before := e.state(t)
	for _, c := range cases {
		status, ok, bad := e.postForm(t, c.form, c.user, c.pass)
		if status != c.status || bad.Code != c.code || !strings.Contains(bad.Description, c.says) || ok.AccessToken != "" {
			t.Errorf("%s: %d %+v, want %d %s saying %q", c.name, status, bad, c.status, c.code, c.says)
		}
		if strings.Contains(bad.Description, secret) {
			t.Errorf("%s: the error repeats the client secret", c.name)
		}
	}
	before.mustEqual(t, "refused token requests", e.state(t))
}

func TestTokenEndpointTransport(t *testing.T) {
	e := newOAuthEnv(t)
	resp, body := do(t, "GET", e.ts.URL+oidc.TokenPath, "", "")
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" || !strings.Contains(body, "invalid_request") {
		t.Errorf("GET token endpoint: %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, "POST", e.ts.URL+oidc.TokenPath, "", `{"grant_type":"client_credentials"}`, "Content-Type", "application/json")
	if resp.StatusCode != 400 || !strings.Contains(body, "x-www-form-urlencoded") {
		t.Errorf("JSON body: %d %s", resp.StatusCode, body)
	}
	big := "grant_type=client_credentials&x=" + strings.Repeat("a", 16<<10)
	resp, body = do(t, "POST", e.ts.URL+oidc.TokenPath, "", big, "Content-Type", "application/x-www-form-urlencoded")
	if resp.StatusCode != 400 || !strings.Contains(body, "limit") {
		t.Errorf("oversized body: %d %s", resp.StatusCode, body)
	}
}

// TestClientTokenError: the Go client returns a *adminapi.TokenError.
func TestClientTokenError(t *testing.T) {
	e := newOAuthEnv(t)
	app := e.createApp(t, adminapi.CreateAppRequest{Name: "api"})
	_, err := e.c.ClientCredentials(context.Background(), app.App.ClientID, "wrong")
	var te *adminapi.TokenError
	if !errors.As(err, &te) || te.Status != 401 || te.Code != "invalid_client" {
		t.Errorf("ClientCredentials with a wrong secret = %v, want a 401 invalid_client TokenError", err)
	}
}

// TestTokenExpiryCapped: a token never outlives its signing key's
// publication or certificate.
func TestTokenExpiryCapped(t *testing.T) {
	e := newOAuthEnv(t)
	app := e.createApp(t, adminapi.CreateAppRequest{Name: "api"})
	old := *e.m.Snapshot().Primary
	if _, err := e.m.Rotate(context.Background(), true, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Override(context.Background(), "api", adminapi.OverrideRequest{Key: old.Thumbprint}); err != nil {
		t.Fatal(err)
	}
	retired := e.m.Snapshot().Keys[0]
	unpublish := e.m.Policy().UnpublishAt(retired)
	e.clk.Set(unpublish.Add(-10 * time.Minute)) // the rollover check has not run: still retired
	tok := e.clientCredentials(t, app)
	h, c := e.verified(t, tok)
	if h.Kid != old.KID || int64(c["exp"].(float64)) != unpublish.Unix() {
		t.Errorf("token signed by %s expires %v, want the retired key's unpublish time %d", h.Kid, c["exp"], unpublish.Unix())
	}
	if got := issuer.TokenLimit(old, e.m.Policy()); !got.Equal(old.NotAfter) {
		t.Errorf("tokenLimit of a key that is not retired = %v, want its NotAfter %v", got, old.NotAfter)
	}
}
