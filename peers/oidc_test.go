package peers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/issuer/issuertest"
	koidc "github.com/keyroll/keyroll/issuer/oidc"
	"github.com/keyroll/keyroll/issuer/server"
	"github.com/keyroll/keyroll/issuer/signin"
	"github.com/keyroll/keyroll/jws"
	"github.com/keyroll/keyroll/keys"
	"github.com/keyroll/keyroll/verify"
)

// keyroll is an in-process keyroll issuer on the wall clock (the peer
// libraries read the wall clock too) and its admin client.
type keyroll struct {
	url   string
	m     *issuer.Manager
	admin *adminapi.Client
}

func startKeyroll(t *testing.T, alg string) *keyroll {
	t.Helper()
	m, ts := issuertest.Serve(t, issuer.Config{KeySpec: keys.Spec{Alg: alg}}, func(m *issuer.Manager) http.Handler {
		return server.New(m, server.Options{})
	})
	return &keyroll{url: ts.URL, m: m, admin: &adminapi.Client{BaseURL: ts.URL}}
}

// signInAs plays a fresh browser session with its own cookie jar: it opens
// authURL, fills keyroll's sign-in form and returns the redirect back to
// the application.
func signInAs(t *testing.T, authURL, username, password string) *url.URL {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	form, err := signin.ParseLoginForm(page)
	if err != nil {
		t.Fatalf("authorize answered %d without a sign-in form: %v\n%s", resp.StatusCode, err, page)
	}
	action, _ := resp.Request.URL.Parse(form.Action)
	resp, err = browser.PostForm(action.String(), form.Values(username, password))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in answered %d, want 303 back to the application", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func random(t *testing.T) string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// TestGoOIDCAuthorizationCode: go-oidc and x/oauth2, unmodified, discover
// keyroll, run the authorization-code flow with PKCE through keyroll's
// sign-in page, and verify the ID token; UserInfo answers for the access
// token. Then the application is pinned to the next key, and go-oidc,
// meeting an unknown kid, fetches the keys again and still verifies.
func TestGoOIDCAuthorizationCode(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			ctx := context.Background()
			kr := startKeyroll(t, alg)
			const redirect = "http://127.0.0.1:8400/callback"
			app, err := kr.admin.CreateApp(ctx, adminapi.CreateAppRequest{Name: "portal", RedirectURIs: []string{redirect}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := kr.admin.CreateUser(ctx, "alice", "correct horse battery"); err != nil {
				t.Fatal(err)
			}
			provider, err := oidc.NewProvider(ctx, kr.url)
			if err != nil {
				t.Fatalf("go-oidc discovery: %v", err)
			}
			cfg := oauth2.Config{ClientID: app.App.ClientID, ClientSecret: app.ClientSecret, Endpoint: provider.Endpoint(),
				RedirectURL: redirect, Scopes: []string{oidc.ScopeOpenID, "profile"}}
			verifier := provider.Verifier(&oidc.Config{ClientID: app.App.ClientID})
			signIn := func() (kid string) {
				t.Helper()
				state, nonce, pkce := random(t), random(t), oauth2.GenerateVerifier()
				loc := signInAs(t, cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(pkce), oidc.Nonce(nonce)), "alice", "correct horse battery")
				if loc.Query().Get("state") != state {
					t.Fatalf("state %q came back as %q", state, loc.Query().Get("state"))
				}
				tok, err := cfg.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(pkce))
				if err != nil {
					t.Fatalf("x/oauth2 Exchange: %v", err)
				}
				raw, _ := tok.Extra("id_token").(string)
				id, err := verifier.Verify(ctx, raw)
				if err != nil {
					t.Fatalf("go-oidc Verify: %v", err)
				}
				if id.Subject != "alice" || id.Nonce != nonce {
					t.Errorf("ID token sub %q nonce %q, want alice and %q", id.Subject, id.Nonce, nonce)
				}
				info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
				if err != nil || info.Subject != "alice" {
					t.Errorf("go-oidc UserInfo = (%+v, %v), want alice", info, err)
				}
				parsed, err := jws.Parse(raw)
				if err != nil {
					t.Fatal(err)
				}
				return parsed.Header.Kid
			}
			if kid := signIn(); kid != kr.m.Snapshot().Primary.KID {
				t.Errorf("ID token signed by %s, want the primary", kid)
			}

			if _, err := kr.admin.Rotate(ctx, false); err != nil {
				t.Fatal(err)
			}
			res, err := kr.admin.Override(ctx, "portal", adminapi.OverrideRequest{Next: true})
			if err != nil {
				t.Fatal(err)
			}
			if kid := signIn(); kid != res.App.SigningKey.KID { // a key go-oidc has not fetched yet
				t.Errorf("ID token signed by %s, want the pinned next key %s", kid, res.App.SigningKey.KID)
			}
		})
	}
}

// TestGoOIDCPublicClient: a public client (no secret) completes the flow
// with PKCE through x/oauth2.
func TestGoOIDCPublicClient(t *testing.T) {
	ctx := context.Background()
	kr := startKeyroll(t, "ES256")
	const redirect = "http://127.0.0.1:8400/callback"
	app, err := kr.admin.CreateApp(ctx, adminapi.CreateAppRequest{Name: "cli", Public: true, RedirectURIs: []string{redirect}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kr.admin.CreateUser(ctx, "bob", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	provider, err := oidc.NewProvider(ctx, kr.url)
	if err != nil {
		t.Fatal(err)
	}
	cfg := oauth2.Config{ClientID: app.App.ClientID, Endpoint: provider.Endpoint(), RedirectURL: redirect, Scopes: []string{oidc.ScopeOpenID}}
	pkce := oauth2.GenerateVerifier()
	loc := signInAs(t, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(pkce)), "bob", "correct horse battery")
	tok, err := cfg.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(pkce))
	if err != nil {
		t.Fatalf("public client Exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if _, err := provider.Verifier(&oidc.Config{ClientID: app.App.ClientID}).Verify(ctx, raw); err != nil {
		t.Fatalf("go-oidc Verify: %v", err)
	}
}

// TestClientCredentialsVerified: x/oauth2's client-credentials flow gets
// access tokens that keyroll's relying-party library verifies, also after
// the application is pinned to the next key (an unknown kid: the library
// refreshes its keys) and when the application's override is revoked (the
// primary signs again).
func TestClientCredentialsVerified(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			ctx := context.Background()
			kr := startKeyroll(t, alg)
			app, err := kr.admin.CreateApp(ctx, adminapi.CreateAppRequest{Name: "orders", Audience: "api://orders"})
			if err != nil {
				t.Fatal(err)
			}
			cc := clientcredentials.Config{ClientID: app.App.ClientID, ClientSecret: app.ClientSecret, TokenURL: kr.url + koidc.TokenPath}
			// The library refreshes on an unknown kid at most every 5 minutes;
			// its clock is moved past that rather than waited for.
			clk := clock.NewFake(time.Now())
			v, err := verify.New(kr.url, verify.Discovery(kr.url), verify.WithAudience("api://orders"), verify.WithClock(clk))
			if err != nil {
				t.Fatal(err)
			}
			check := func(wantKID string) {
				t.Helper()
				tok, err := cc.Token(ctx)
				if err != nil {
					t.Fatalf("x/oauth2 client credentials: %v", err)
				}
				claims, err := v.Verify(ctx, tok.AccessToken)
				if err != nil {
					t.Fatalf("verify: %v", err)
				}
				if claims.Subject != app.App.ClientID || claims.KeyID != wantKID || claims.Header.Typ != "at+jwt" {
					t.Errorf("claims sub %q kid %q typ %q, want the client id, %s and at+jwt", claims.Subject, claims.KeyID, claims.Header.Typ, wantKID)
				}
			}
			check(kr.m.Snapshot().Primary.KID)
			if _, err := kr.admin.Rotate(ctx, false); err != nil {
				t.Fatal(err)
			}
			res, err := kr.admin.Override(ctx, "orders", adminapi.OverrideRequest{Next: true})
			if err != nil {
				t.Fatal(err)
			}
			clk.Advance(verify.DefaultMinRefreshInterval + time.Second)
			check(res.App.SigningKey.KID)
			if _, err := kr.admin.Revoke(ctx, res.App.KeyOverride); err != nil {
				t.Fatal(err)
			}
			check(kr.m.Snapshot().Primary.KID)
		})
	}
}
