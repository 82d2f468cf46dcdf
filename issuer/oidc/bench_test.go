package oidc

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/issuer/issuertest"
	"github.com/keyroll/keyroll/issuer/signin"
	"github.com/keyroll/keyroll/jws"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// benchEnv is an issuer with keys of alg, one confidential app and the
// provider over them.
type benchEnv struct {
	m      *issuer.Manager
	p      *Provider
	h      http.Handler
	app    store.Application
	secret string
}

func benchIssuer(b *testing.B, alg string) *benchEnv {
	b.Helper()
	st := issuertest.OpenSQLite(b, b.TempDir())
	b.Cleanup(func() { st.Close() })
	m := issuertest.NewManager(b, "https://issuer.test", st, issuertest.KEK(b), clock.NewFake(issuertest.Start), lifecycle.DefaultPolicy(), alg)
	p := New(m, st, signin.New(st, m.Now, m.Logger(), true), m.Logger())
	app, secret, err := m.CreateApp(context.Background(), issuer.AppSpec{Name: "bench", Audience: "api://bench"}, "bench")
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	p.Register(mux)
	return &benchEnv{m: m, p: p, h: mux, app: app, secret: secret}
}

// BenchmarkIssueClientCredentials is issuance without HTTP or the store:
// choose the application's key from the snapshot, build the claims, sign
// with jws.Sign (which also verifies the signature it made).
func BenchmarkIssueClientCredentials(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256"} {
		b.Run(alg, func(b *testing.B) {
			s := benchIssuer(b, alg)
			app := s.app
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.p.mint(ctx, grant{app: app}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSignFloor is the raw signature: the primary's crypto.Signer on
// the SHA-256 of a signing input the size of a client-credentials token's.
func BenchmarkSignFloor(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256"} {
		b.Run(alg, func(b *testing.B) {
			s := benchIssuer(b, alg)
			signer, err := s.m.Signer(context.Background(), s.m.Snapshot().Primary.KID)
			if err != nil {
				b.Fatal(err)
			}
			input := []byte(strings.Repeat("x", 420))
			b.ReportAllocs()
			for b.Loop() {
				sum := sha256.Sum256(input)
				if _, err := signer.Sign(rand.Reader, sum[:], crypto.SHA256); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTokenEndpoint is a whole client_credentials request through the
// HTTP handler (no network): form parsing, the application read from
// SQLite, the secret check, issuance and the JSON answer.
func BenchmarkTokenEndpoint(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256"} {
		b.Run(alg, func(b *testing.B) {
			s := benchIssuer(b, alg)
			body := url.Values{"grant_type": {"client_credentials"}}.Encode()
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("POST", TokenPath, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(s.app.ClientID, s.secret)
				w := httptest.NewRecorder()
				s.h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
		})
	}
}

// BenchmarkJWSSign is jws.Sign alone on a client-credentials token's header
// and claims: the signature plus the check jws.Sign makes of it. Issuance
// over this is the issuer's own overhead.
func BenchmarkJWSSign(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256"} {
		b.Run(alg, func(b *testing.B) {
			s := benchIssuer(b, alg)
			k := *s.m.Snapshot().Primary
			signer, err := s.m.Signer(context.Background(), k.KID)
			if err != nil {
				b.Fatal(err)
			}
			resp, err := s.p.mint(context.Background(), grant{app: s.app})
			if err != nil {
				b.Fatal(err)
			}
			tok, err := jws.Parse(resp.AccessToken)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := jws.Sign(signer, tok.Header, tok.Payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
