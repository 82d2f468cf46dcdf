// Package drilltest holds toy relying parties for testing keyroll drill:
// web APIs, an OIDC web application and a SAML 2.0 service provider or
// WS-Federation relying party ([FedApp]) that handle a key rollover well
// (keyroll's verify library, federation metadata refreshed on an unknown
// signer) or badly (a pinned thumbprint or certificate, keys read once at
// start-up), as the applications of seeds 000 and 004 do.
//
// They are test fixtures: small, strict enough to tell keys apart, and not
// hardened for production.
package drilltest

import (
	"context"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/jws"
	"github.com/keyroll/keyroll/verify"
)

// Check decides whether an application accepts a token and returns its
// claims.
type Check func(ctx context.Context, token string) (map[string]any, error)

// API is a web API: 200 "hello SUB" for a request whose bearer token check
// accepts, 401 with an RFC 6750 challenge otherwise.
func API(check Check) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, err := verify.BearerToken(r)
		var claims map[string]any
		if err == nil {
			claims, err = check(r.Context(), tok)
		}
		if err != nil {
			verify.Unauthorized(w, "toy", err)
			return
		}
		fmt.Fprintf(w, "hello %v\n", claims["sub"])
	})
}

// LibraryAPI is a web API protected by keyroll's verify library
// (verify.Middleware): it refreshes its keys when a token names an
// unknown one.
func LibraryAPI(v *verify.Verifier) http.Handler {
	return verify.Middleware(v, verify.WithRealm("toy"))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := verify.ClaimsFromContext(r.Context())
		fmt.Fprintf(w, "hello %s\n", c.Subject)
	}))
}

// Library is the Check of a verify.Verifier.
func Library(v *verify.Verifier) Check {
	return func(ctx context.Context, token string) (map[string]any, error) {
		c, err := v.Verify(ctx, token)
		if err != nil {
			return nil, err
		}
		var claims map[string]any
		return claims, c.Unmarshal(&claims)
	}
}

// Startup reads the issuer's JWKS once, now, and returns a Check that
// never reads it again: keys published later are unknown to it.
func Startup(ctx context.Context, issuerURL, audience string, opts ...verify.Option) (Check, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(issuerURL, "/")+issuer.JWKSPath, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("drilltest: JWKS: HTTP %d %v", resp.StatusCode, err)
	}
	v, err := verify.New(issuerURL, verify.StaticBytes("jwks read at start-up", body), append(opts, verify.WithAudience(audience))...)
	if err != nil {
		return nil, err
	}
	return Library(v), nil
}

// ErrNotPinned: the token is not signed with the pinned certificate.
var ErrNotPinned = errors.New("drilltest: token not signed with the pinned certificate")

// Pinned returns a Check that accepts only tokens signed with one
// certificate (DER), as an application configured with one thumbprint
// does: the token's x5t must be that certificate's SHA-1 and the signature
// must verify with its key; iss and aud must match and exp lie ahead.
func Pinned(issuerURL, audience string, certDER []byte, now func() time.Time) (Check, error) {
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, err
	}
	sum := sha1.Sum(certDER)
	x5t := base64.RawURLEncoding.EncodeToString(sum[:])
	return func(_ context.Context, token string) (map[string]any, error) {
		t, err := jws.Parse(token)
		if err != nil {
			return nil, err
		}
		if t.Header.X5t != x5t {
			return nil, fmt.Errorf("%w: x5t %q", ErrNotPinned, t.Header.X5t)
		}
		if err := jws.VerifySignature(t.Header.Alg, cert.PublicKey, t.SigningInput, t.Signature); err != nil {
			return nil, err
		}
		return checkClaims(t.Payload, issuerURL, audience, now())
	}, nil
}

func checkClaims(payload []byte, iss, aud string, now time.Time) (map[string]any, error) {
	var c struct {
		Iss string `json:"iss"`
		Aud string `json:"aud"`
		Exp int64  `json:"exp"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, err
	}
	switch {
	case c.Iss != iss:
		return nil, fmt.Errorf("drilltest: iss %q", c.Iss)
	case c.Aud != aud:
		return nil, fmt.Errorf("drilltest: aud %q", c.Aud)
	case !now.Before(time.Unix(c.Exp, 0)):
		return nil, errors.New("drilltest: expired")
	}
	var claims map[string]any
	return claims, json.Unmarshal(payload, &claims)
}

// Open is a web API that checks nothing: 200 "hello" for every request,
// with or without a token, as an unauthenticated endpoint answers.
func Open() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello\n")
	})
}

// Unverified returns a Check that reads a token's claims and checks iss,
// aud and exp but never its signature, as an application that decodes
// tokens without verifying them does.
func Unverified(issuerURL, audience string, now func() time.Time) Check {
	return func(_ context.Context, token string) (map[string]any, error) {
		t, err := jws.Parse(token)
		if err != nil {
			return nil, err
		}
		return checkClaims(t.Payload, issuerURL, audience, now())
	}
}
