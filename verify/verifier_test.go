package verify

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/jwk"
	"github.com/keyroll/keyroll/jws"
)

const entraTemplate = "https://login.microsoftonline.com/{tenantid}/v2.0"

func TestEntraTenantTemplate(t *testing.T) {
	k := rsaKey(t, "k1")
	kj := k.jwk()
	kj.Issuer = entraTemplate // Entra publishes the template per key
	body := jwksOf(t, kj)
	tid := "8b966979-910b-487c-a604-69229b1ac75c"
	tenantIss := "https://login.microsoftonline.com/" + tid + "/v2.0"
	mk := func(iss, tid string) string {
		c := stdClaims(iss, t0)
		if tid != "" {
			c["tid"] = tid
		}
		return k.sign(t, c)
	}
	h := staticHarness(t, StaticBytes("entra", body))
	v, err := NewWithCache(entraTemplate, h.v.Cache(), WithAudience(testAudience), WithClock(h.clk))
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(h.ctx, mk(tenantIss, tid))
	if err != nil {
		t.Fatal(err)
	}
	if c.TenantID != tid || c.Issuer != tenantIss {
		t.Fatalf("claims = %+v", c)
	}
	for name, tok := range map[string]string{
		"tid of another tenant":   mk(tenantIss, "00000000-0000-0000-0000-000000000000"),
		"no tid":                  mk(tenantIss, ""),
		"tid breaking the issuer": mk("https://login.microsoftonline.com/x/y/v2.0", "x/y"),
		"literal template":        mk(entraTemplate, "{tenantid}"),
	} {
		var ie *IssuerError
		if _, err := v.Verify(h.ctx, tok); !errors.As(err, &ie) {
			t.Errorf("%s: err = %v, want *IssuerError", name, err)
		}
	}
	// Tenant allow-list.
	only, err := NewWithCache(entraTemplate, h.v.Cache(), WithAudience(testAudience), WithClock(h.clk), WithTenants("11111111-2222-3333-4444-555555555555"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := only.Verify(h.ctx, mk(tenantIss, tid)); ResultOf(err) != ResultIssuer {
		t.Fatalf("tenant outside the allow-list: %v", err)
	}
	// The key's own issuer member is checked even where the verifier's
	// issuer matches: a B2C-style key bound to another issuer.
	kj.Issuer = "https://other.example/{tenantid}/"
	h2 := staticHarness(t, StaticBytes("bound", jwksOf(t, kj)))
	v2, _ := NewWithCache(entraTemplate, h2.v.Cache(), WithAudience(testAudience), WithClock(h2.clk))
	var ie *IssuerError
	if _, err := v2.Verify(h.ctx, mk(tenantIss, tid)); !errors.As(err, &ie) || ie.KeyID != "k1" {
		t.Fatalf("key issuer mismatch: %v", err)
	}
}

func TestTokensWithoutKid(t *testing.T) {
	keys := []testKey{rsaKey(t, "k1"), rsaKey(t, "k2"), ecKey(t, "e1"), edKey(t, "d1")}
	var js []jwk.Key
	for _, k := range keys {
		js = append(js, k.jwk())
	}
	h := staticHarness(t, StaticBytes("set", jwksOf(t, js...)))
	for _, k := range keys {
		tok := k.signHeader(t, jws.Header{Alg: k.alg}, stdClaims(h.issuer, t0))
		c := h.mustVerify(tok)
		if c.KeyID != k.kid {
			t.Errorf("kid-less %s token verified by %q", k.kid, c.KeyID)
		}
	}
	// A forged kid-less token tries the keys of its type and fails as a bad signature.
	forged := keys[0].signHeader(t, jws.Header{Alg: "RS256"}, stdClaims(h.issuer, t0))
	forged = forged[:strings.LastIndexByte(forged, '.')+1] + strings.Repeat("A", 342)
	if err := h.verifyErr(forged); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("forged kid-less: %v", err)
	}
	// More candidates than the bound: refused without trying.
	h2 := staticHarness(t, StaticBytes("set", jwksOf(t, js...)), WithMaxKeyTries(1))
	tok := keys[1].signHeader(t, jws.Header{Alg: "RS256"}, stdClaims(h.issuer, t0))
	if err := h2.verifyErr(tok); !errors.Is(err, ErrAmbiguousKey) {
		t.Fatalf("ambiguous: %v", err)
	}
}

func TestAlgorithmsAndSkew(t *testing.T) {
	k := rsaKey(t, "k1")
	h := staticHarness(t, StaticBytes("set", jwksOf(t, k.jwk())), WithAlgorithms("RS256", "RS512"), WithSkew(5*time.Minute))
	h.mustVerify(k.signHeader(t, jws.Header{Alg: "RS512", Kid: "k1"}, stdClaims(h.issuer, t0)))
	if err := h.verifyErr(k.signHeader(t, jws.Header{Alg: "PS256", Kid: "k1"}, stdClaims(h.issuer, t0))); !errors.Is(err, ErrAlgorithm) {
		t.Fatalf("PS256 outside the list: %v", err)
	}
	c := stdClaims(h.issuer, t0)
	c["exp"] = t0.Add(-4 * time.Minute).Unix() // within the 5m skew
	h.mustVerify(k.sign(t, c))
	c["exp"] = t0.Add(-5 * time.Minute).Unix() // exactly at the edge: expired
	var ee *ExpiredError
	if err := h.verifyErr(k.sign(t, c)); !errors.As(err, &ee) || !ee.Expiry.Equal(t0.Add(-5*time.Minute)) {
		t.Fatalf("edge of skew: %v", err)
	}
}

func TestOptionValidation(t *testing.T) {
	src := StaticBytes("x", nil)
	for name, opts := range map[string][]Option{
		"no audience":       {},
		"unknown alg":       {WithAudience("a"), WithAlgorithms("HS256")},
		"empty alg list":    {WithAudience("a"), WithAlgorithms()},
		"negative skew":     {WithAudience("a"), WithSkew(-time.Second)},
		"min > refresh":     {WithAudience("a"), WithMinRefreshInterval(time.Hour), WithRefreshInterval(time.Minute)},
		"zero timeout":      {WithAudience("a"), WithFetchTimeout(0)},
		"tenants, no tmpl":  {WithAudience("a"), WithTenants("t")},
		"empty audience":    {WithAudience("")},
		"zero tries":        {WithAudience("a"), WithMaxKeyTries(0)},
		"zero max response": {WithAudience("a"), WithMaxResponseSize(0)},
	} {
		if _, err := New("https://issuer.example", src, opts...); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New("", src, WithAudience("a")); err == nil {
		t.Error("empty issuer accepted")
	}
	if _, err := New("", src, InsecureSkipIssuerCheck(), InsecureSkipAudienceCheck()); err != nil {
		t.Errorf("explicitly insecure verifier refused: %v", err)
	}
}

func TestRegistryIsolatesIssuers(t *testing.T) {
	ka, kb := rsaKey(t, "shared-kid"), rsaKey(t, "kb")
	// Both issuers publish a key under the same kid, but different keys.
	kbSame := testKey{kid: "shared-kid", alg: "RS256", signer: kb.signer}
	a, b := newFakeIssuer(t, ka), newFakeIssuer(t, kbSame)
	ha, hb := newHarness(t, a), newHarness(t, b)
	hb.clk = ha.clk
	reg, err := NewRegistry(ha.v, hb.v)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tokA := ka.sign(t, stdClaims(a.URL(), t0))
	tokB := kbSame.sign(t, stdClaims(b.URL(), t0))
	if c, err := reg.Verify(ctx, tokA); err != nil || c.Issuer != a.URL() {
		t.Fatalf("A via registry: %v", err)
	}
	if _, err := reg.Verify(ctx, tokB); err != nil {
		t.Fatalf("B via registry: %v", err)
	}
	// A's key claiming to be B: routed to B, whose same-kid key does not verify it.
	forged := ka.sign(t, stdClaims(b.URL(), t0))
	if _, err := reg.Verify(ctx, forged); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("A's key for B's issuer: %v", err)
	}
	// Straight to A's verifier: the signature holds, the issuer does not.
	var ie *IssuerError
	if _, err := ha.v.Verify(ctx, forged); !errors.As(err, &ie) {
		t.Fatalf("B's iss at A: %v", err)
	}
	if _, err := reg.Verify(ctx, ka.sign(t, stdClaims("https://nobody.example", t0))); !errors.Is(err, ErrUnknownIssuer) {
		t.Fatalf("unknown issuer: %v", err)
	}
	if _, err := NewRegistry(ha.v, ha.v); err == nil {
		t.Fatal("duplicate issuer accepted")
	}
	if ha.v.Count(ResultIssuer) != 1 || hb.v.Count(ResultBadSignature) != 1 {
		t.Fatalf("counters: A issuer=%d, B bad_signature=%d", ha.v.Count(ResultIssuer), hb.v.Count(ResultBadSignature))
	}
}

func TestClaimsAccessors(t *testing.T) {
	k := rsaKey(t, "k1")
	h := staticHarness(t, StaticBytes("set", jwksOf(t, k.jwk())))
	c := stdClaims(h.issuer, t0)
	c["roles"] = []string{"admin"}
	c["aud"] = []string{"x", testAudience, "y"}
	got := h.mustVerify(k.sign(t, c))
	var private struct {
		Roles []string `json:"roles"`
	}
	if err := got.Unmarshal(&private); err != nil || len(private.Roles) != 1 {
		t.Fatalf("Unmarshal: %v %+v", err, private)
	}
	if len(got.Audience) != 3 || got.Audience[1] != testAudience || !got.Has("nbf") || got.Has("tid") {
		t.Fatalf("claims = %+v", got)
	}
	if got.Header.Alg != "RS256" || got.Header.Kid != "k1" || !strings.Contains(got.Payload(), `"roles"`) {
		t.Fatalf("header/payload = %+v %s", got.Header, got.Payload())
	}
}
