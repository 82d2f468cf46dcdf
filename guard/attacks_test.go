package guard

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/jws"
)

func jwsHeader(k testKey, kid string) jws.Header { return jws.Header{Alg: k.alg, Kid: kid, Typ: "JWT"} }

// randomKID is a kid nobody publishes, different for every i.
func randomKID(i int) string { return fmt.Sprintf("unknown-%d-%d", i, time.Now().UnixNano()) }

// rawToken assembles a compact token from raw header and payload JSON.
func rawToken(header, payload string, sig []byte) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(payload)) + "." + enc(sig)
}

// hs256WithPublicKey is the classic key-confusion attack: HMAC-SHA256
// keyed with the issuer's public key (PEM), which an attacker knows.
func hs256WithPublicKey(t *testing.T, k testKey, payload string) string {
	der, err := x509.MarshalPKIXPublicKey(k.signer.Public())
	if err != nil {
		t.Fatal(err)
	}
	secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	enc := base64.RawURLEncoding.EncodeToString
	input := enc([]byte(`{"alg":"HS256","kid":"`+k.kid+`","typ":"JWT"}`)) + "." + enc([]byte(payload))
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(input))
	return input + "." + enc(mac.Sum(nil))
}

// TestGuardAttacksNeverReachUpstream: every forged, expired or misdirected
// token is answered 401 invalid_token (or 400 for a malformed header) and
// the upstream never sees it.
func TestGuardAttacksNeverReachUpstream(t *testing.T) {
	k1, rogue := newKey(t, "RS256", "k1"), newKey(t, "RS256", "rogue")
	s := newScenario(t, k1)
	now := s.clk.Now()
	with := func(mod func(claims)) string {
		c := stdClaims(s.iss.URL(), now)
		mod(c)
		return k1.sign(t, c)
	}
	payload := `{"iss":"` + s.iss.URL() + `","aud":"` + testAudience + `","sub":"admin","exp":` + fmt.Sprint(now.Add(time.Hour).Unix()) + `}`
	good := s.token(k1)
	parts := strings.Split(good, ".")
	cases := []struct{ name, tok, reason string }{
		{"alg none", rawToken(`{"alg":"none","kid":"k1"}`, payload, nil), "none"},
		{"alg none, signature kept", rawToken(`{"alg":"none","kid":"k1"}`, payload, []byte("x")), "none"},
		{"HS256 keyed with the public key", hs256WithPublicKey(t, k1, payload), "HS256"},
		{"expired", with(func(c claims) { c["exp"] = now.Add(-time.Hour).Unix() }), "expired"},
		{"wrong audience", with(func(c claims) { c["aud"] = "api://other" }), "aud"},
		{"wrong issuer", with(func(c claims) { c["iss"] = "https://evil.example" }), "issuer"},
		{"not yet valid", with(func(c claims) { c["nbf"] = now.Add(time.Hour).Unix() }), "nbf"},
		{"no exp", with(func(c claims) { delete(c, "exp") }), "exp"},
		{"signed by an unpublished key", rogue.signHeader(t, jwsHeader(rogue, "k1"), stdClaims(s.iss.URL(), now)), "signature"},
		{"payload swapped", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + parts[2], "signature"},
		{"embedded jwk", rawToken(`{"alg":"RS256","jwk":{"kty":"RSA","n":"AQAB","e":"AQAB"}}`, payload, []byte("sig")), "jwk"},
		{"garbage", "not.a.token", "malformed"},
		{"control characters in sub", with(func(c claims) { c["sub"] = "alice\r\nX-Admin: 1" }), "sub"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := s.g.mustReject(c.tok)
			if !strings.Contains(strings.ToLower(resp.challenge), strings.ToLower(c.reason)) {
				t.Errorf("challenge %q does not say %q", resp.challenge, c.reason)
			}
			if resp.header.Get("Cache-Control") != "no-store" {
				t.Error("a 401 must not be cached")
			}
		})
	}
	t.Run("no token", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, s.g.url+"/app", nil)
		req.Header.Set(SubjectHeader, "alice") // forged subject without a token
		if resp := s.g.do(req); resp.status != http.StatusUnauthorized || !strings.HasPrefix(resp.challenge, "Bearer") {
			t.Fatalf("no token: %d %q", resp.status, resp.challenge)
		}
	})
	t.Run("basic auth", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, s.g.url+"/app", nil)
		req.SetBasicAuth("alice", "secret")
		if resp := s.g.do(req); resp.status != http.StatusUnauthorized {
			t.Fatalf("basic auth: %d", resp.status)
		}
	})
	t.Run("two Authorization headers", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, s.g.url+"/app", nil)
		req.Header.Add("Authorization", "Bearer "+good)
		req.Header.Add("Authorization", "Bearer "+good)
		if resp := s.g.do(req); resp.status != http.StatusBadRequest || !strings.Contains(resp.challenge, "invalid_request") {
			t.Fatalf("two Authorization headers: %d %q", resp.status, resp.challenge)
		}
	})
	if n := s.up.hits.Load(); n != 0 {
		t.Fatalf("upstream was called %d times by rejected requests", n)
	}
	s.g.mustPass(good)
	if n := s.up.hits.Load(); n != 1 {
		t.Fatalf("upstream calls = %d, want 1", n)
	}
}

// TestGuardHeaderLimit: a request whose headers exceed the limit never
// reaches the verifier or the upstream.
func TestGuardHeaderLimit(t *testing.T) {
	k1 := newKey(t, "EdDSA", "k1")
	iss, up, ev := newFakeIssuer(t, k1), newUpstream(t), newEvents()
	cfg := config(iss, up, nil, ev)
	cfg.MaxHeaderBytes = 4 << 10
	g := start(t, cfg)
	req, _ := http.NewRequest(http.MethodGet, g.url+"/app", nil)
	req.Header.Set("Authorization", "Bearer "+k1.sign(t, stdClaims(iss.URL(), time.Now())))
	req.Header.Set("X-Padding", strings.Repeat("a", 8<<10))
	if resp := g.do(req); resp.status != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("oversized headers: %d, want 431", resp.status)
	}
	if up.hits.Load() != 0 {
		t.Fatal("oversized request reached the upstream")
	}
}

// TestGuardUpstreamDown: a valid request whose upstream is unreachable
// gets 502 and is counted.
func TestGuardUpstreamDown(t *testing.T) {
	k1 := newKey(t, "ES256", "k1")
	iss, up, ev := newFakeIssuer(t, k1), newUpstream(t), newEvents()
	cfg := config(iss, up, nil, ev)
	up.srv.Close()
	g := start(t, cfg)
	if resp := g.get("/app", k1.sign(t, stdClaims(iss.URL(), time.Now()))); resp.status != http.StatusBadGateway {
		t.Fatalf("upstream down: %d %s", resp.status, resp.body)
	}
	if m := g.metrics(); !strings.Contains(m, `keyroll_guard_requests_total{outcome="upstream_error"} 1`) {
		t.Fatalf("upstream error not counted:\n%s", m)
	}
}

// tamperKID returns tok with its header's kid replaced; the signature no
// longer matches, which does not matter for a kid nobody publishes.
func tamperKID(t testing.TB, tok, kid string) string {
	parts := strings.Split(tok, ".")
	hdr, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	hdr = []byte(strings.Replace(string(hdr), `"kid":"placeholder"`, `"kid":"`+kid+`"`, 1))
	parts[0] = base64.RawURLEncoding.EncodeToString(hdr)
	return strings.Join(parts, ".")
}
