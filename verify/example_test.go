package verify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/keyroll/keyroll/jwk"
	"github.com/keyroll/keyroll/jws"
	"github.com/keyroll/keyroll/verify"
)

// demoIssuer is a tiny OpenID Connect issuer for the examples: discovery,
// a JWKS with one ES256 key, and a function minting tokens with it.
type demoIssuer struct {
	*httptest.Server
	key *ecdsa.PrivateKey
}

func newDemoIssuer() *demoIssuer {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	d := &demoIssuer{key: key}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]string{"issuer": d.URL, "jwks_uri": d.URL + "/keys"})
		case "/keys":
			json.NewEncoder(w).Encode(jwk.Set{Keys: []jwk.Key{{KID: "2024-1", Public: key.Public()}}})
		default:
			http.NotFound(w, r)
		}
	}))
	return d
}

func (d *demoIssuer) token(sub, aud string, exp time.Time) string {
	payload, _ := json.Marshal(map[string]any{"iss": d.URL, "sub": sub, "aud": aud,
		"iat": time.Now().Unix(), "exp": exp.Unix(), "roles": []string{"reader"}})
	tok, _ := jws.Sign(d.key, jws.Header{Alg: "ES256", Kid: "2024-1", Typ: "JWT"}, payload)
	return tok
}

// A verifier for one issuer, found through OpenID Connect discovery.
func Example() {
	issuer := newDemoIssuer()
	defer issuer.Close()

	v, err := verify.New(issuer.URL, verify.Discovery(issuer.URL), verify.WithAudience("api://orders"))
	if err != nil {
		panic(err)
	}
	claims, err := v.Verify(context.Background(), issuer.token("alice", "api://orders", time.Now().Add(time.Hour)))
	if err != nil {
		panic(err)
	}
	var private struct {
		Roles []string `json:"roles"`
	}
	claims.Unmarshal(&private)
	fmt.Println(claims.Subject, claims.KeyID, private.Roles)

	_, err = v.Verify(context.Background(), issuer.token("bob", "api://other", time.Now().Add(time.Hour)))
	fmt.Println(verify.ResultOf(err), err)
	// Output:
	// alice 2024-1 [reader]
	// audience verify: token audience ["api://other"] not accepted
}

// Typed errors say why a token was refused.
func ExampleExpiredError() {
	issuer := newDemoIssuer()
	defer issuer.Close()
	v, _ := verify.New(issuer.URL, verify.Discovery(issuer.URL), verify.WithAudience("api://orders"))

	expiry := time.Now().Add(-time.Hour).Truncate(time.Second)
	_, err := v.Verify(context.Background(), issuer.token("alice", "api://orders", expiry))
	var expired *verify.ExpiredError
	if errors.As(err, &expired) {
		fmt.Println("expired", time.Since(expired.Expiry).Round(time.Hour))
	}
	// Output:
	// expired 1h0m0s
}

// Protecting an HTTP handler: the claims are in the request context, and
// requests without a valid bearer token never reach the handler.
func ExampleMiddleware() {
	issuer := newDemoIssuer()
	defer issuer.Close()
	v, _ := verify.New(issuer.URL, verify.Discovery(issuer.URL), verify.WithAudience("api://orders"))

	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := verify.ClaimsFromContext(r.Context())
		fmt.Fprintf(w, "hello %s", c.Subject)
	})
	srv := httptest.NewServer(verify.Middleware(v, verify.WithRealm("orders"))(app))
	defer srv.Close()

	for _, auth := range []string{"", "Bearer " + issuer.token("alice", "api://orders", time.Now().Add(time.Hour)),
		"Bearer " + issuer.token("alice", "api://billing", time.Now().Add(time.Hour))} {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, _ := http.DefaultClient.Do(req)
		resp.Body.Close()
		fmt.Println(strings.TrimSpace(fmt.Sprint(resp.StatusCode, " ", resp.Header.Get("WWW-Authenticate"))))
	}
	// Output:
	// 401 Bearer realm="orders"
	// 200
	// 401 Bearer realm="orders", error="invalid_token", error_description="verify: token audience ['api://billing'] not accepted"
}

// A persisted cache lets a restarted process verify tokens while the
// issuer is unreachable.
func ExampleWithCacheFile() {
	issuer := newDemoIssuer()
	dir, _ := os.MkdirTemp("", "keyroll-example")
	defer os.RemoveAll(dir)
	cacheFile := filepath.Join(dir, "keys.json")
	tok := issuer.token("alice", "api://orders", time.Now().Add(time.Hour))

	v, _ := verify.New(issuer.URL, verify.Discovery(issuer.URL), verify.WithAudience("api://orders"), verify.WithCacheFile(cacheFile))
	v.Cache().Refresh(context.Background()) // fetches and persists the keys

	issuer.Close() // the issuer goes down; the process restarts
	restarted, _ := verify.New(issuer.URL, verify.Discovery(issuer.URL), verify.WithAudience("api://orders"), verify.WithCacheFile(cacheFile))
	fmt.Println("ready:", restarted.Cache().Ready() == nil)
	_, err := restarted.Verify(context.Background(), tok)
	fmt.Println("verified:", err == nil)
	// Output:
	// ready: true
	// verified: true
}
