package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/issuer"
)

// jwksKIDs returns the kids the JWKS endpoint publishes.
func (e *oauthEnv) jwksKIDs(t *testing.T) map[string]bool {
	t.Helper()
	_, body := do(t, "GET", e.ts.URL+issuer.JWKSPath, "", "")
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal([]byte(body), &set); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, k := range set.Keys {
		out[k.Kid] = true
	}
	return out
}

// TestTransientAdmin: the admin API publishes a transient key that is in
// the JWKS and never promoted, withdraws it (twice without error), and
// refuses to withdraw a key that is not transient or does not exist,
// changing nothing.
func TestTransientAdmin(t *testing.T) {
	ctx := context.Background()
	e := newOAuthEnv(t)
	k, err := e.c.PublishTransient(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !k.Transient || k.State != "next" || k.PromoteAt != nil || len(k.Thumbprint) != 40 {
		t.Fatalf("published %+v, want a transient next key with no promotion date", k)
	}
	if !e.jwksKIDs(t)[k.KID] {
		t.Fatalf("transient key %s is not in the JWKS", k.KID)
	}
	ev, err := e.c.Events(ctx, start, 0)
	if err != nil || len(ev) == 0 || ev[len(ev)-1].KID != k.KID || ev[len(ev)-1].Actor != "loopback" {
		t.Fatalf("no audit event for the transient key: %+v %v", ev, err)
	}

	for i, ref := range []string{strings.ToLower(k.Thumbprint), k.KID} {
		got, err := e.c.WithdrawTransient(ctx, ref)
		if err != nil {
			t.Fatalf("withdrawal %d by %q: %v", i+1, ref, err)
		}
		if got.State != "expired" || got.EndedAt == nil || got.KID != k.KID {
			t.Fatalf("withdrawal %d answered %+v, want the key expired", i+1, got)
		}
	}
	if e.jwksKIDs(t)[k.KID] {
		t.Fatal("withdrawn transient key still in the JWKS")
	}

	before := e.state(t)
	primary := e.m.Snapshot().Primary
	_, err = e.c.WithdrawTransient(ctx, primary.Thumbprint)
	var ae *adminapi.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusConflict || !strings.Contains(ae.ErrorInfo.Error, "not a transient") {
		t.Fatalf("withdrawing the primary: %v, want 409 not a transient key", err)
	}
	_, err = e.c.WithdrawTransient(ctx, "0000000000000000000000000000000000000000")
	if !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
		t.Fatalf("withdrawing an unknown key: %v, want 404", err)
	}
	before.mustEqual(t, "refused withdrawals", e.state(t))
	if !e.jwksKIDs(t)[primary.KID] {
		t.Fatal("the primary left the JWKS")
	}
}

// TestTransientAdminNeedsToken: both endpoints sit behind the admin guard.
func TestTransientAdminNeedsToken(t *testing.T) {
	e := newOAuthEnv(t)
	e.ts.Config.Handler = New(e.m, Options{AdminToken: "s3cret"})
	before := e.state(t)
	for _, r := range []struct{ method, path string }{{"POST", "/admin/keys/transient"}, {"DELETE", "/admin/keys/transient/" + e.m.Snapshot().Primary.KID}} {
		resp, _ := do(t, r.method, e.ts.URL+r.path, "", "")
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s %s without the admin token: %d, want 401", r.method, r.path, resp.StatusCode)
		}
	}
	before.mustEqual(t, "unauthenticated transient requests", e.state(t))
}
