package bench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/keyroll/keyroll/jwk"
	"github.com/keyroll/keyroll/jws"
)

// Algorithms are the algorithms compared.
var Algorithms = []string{"RS256", "ES256", "EdDSA"}

// FreshTokens is how many distinct tokens a fixture signs (see Fixture.Distinct).
const FreshTokens = 32

// Issuer and Audience are the iss and aud of every token.
const (
	Issuer   = "https://login.example.com/8b966979-910b-487c-a604-69229b1ac75c/v2.0"
	Audience = "api://orders"
	kid      = "bench-key-1"
)

// Fixture is one algorithm's key, its JWKS server and its tokens.
type Fixture struct {
	Alg    string
	Public crypto.PublicKey
	// Token is valid for an hour from its creation; Tampered are copies
	// with a flipped signature bit or an altered payload, which every
	// implementation must reject.
	Token    string
	Tampered []string
	// Distinct are FreshTokens valid tokens like Token that differ only
	// in jti, for measuring verification of tokens never seen before by
	// a verifier that remembers tokens.
	Distinct []string

	srv  *httptest.Server
	mu   sync.Mutex
	hits map[string]int // JWKS fetches by path
}

// NewFixture makes a key for alg, a token signed with it (the claims of
// an Entra ID access token, about 900 bytes) and a server publishing the
// key as a JWKS at every path, counting fetches per path.
func NewFixture(alg string) (*Fixture, error) {
	signer, err := newSigner(alg)
	if err != nil {
		return nil, err
	}
	f := &Fixture{Alg: alg, Public: signer.Public(), hits: map[string]int{}}
	if f.Token, err = sign(signer, alg, claims(time.Now())); err != nil {
		return nil, err
	}
	f.Tampered = tamper(f.Token)
	for i := range FreshTokens {
		c := claims(time.Now())
		c["jti"] = fmt.Sprintf("9f7c2b1e-5d4a-4c3b-8a21-%012d", i)
		tok, err := sign(signer, alg, c)
		if err != nil {
			return nil, err
		}
		f.Distinct = append(f.Distinct, tok)
	}
	set, err := json.Marshal(jwk.Set{Keys: []jwk.Key{{KID: kid, Alg: alg, Use: "sig", Public: signer.Public()}}})
	if err != nil {
		return nil, err
	}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.hits[r.URL.Path]++
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(set)
	}))
	return f, nil
}

// JWKSURL returns a URL of the key set whose fetches are counted under name.
func (f *Fixture) JWKSURL(name string) string { return f.srv.URL + "/" + name + "/jwks.json" }

// Fetches returns how often the JWKS was fetched under name.
func (f *Fixture) Fetches(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits["/"+name+"/jwks.json"]
}

// Close stops the JWKS server.
func (f *Fixture) Close() { f.srv.Close() }

func newSigner(alg string) (crypto.Signer, error) {
	switch alg {
	case "RS256":
		return rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}
	return nil, fmt.Errorf("bench: unsupported algorithm %q", alg)
}

func claims(now time.Time) map[string]any {
	return map[string]any{
		"iss": Issuer, "aud": Audience, "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"tid": "8b966979-910b-487c-a604-69229b1ac75c", "oid": "00000000-0000-0000-66f3-3332eca7ea81",
		"name": "Alice Example", "preferred_username": "alice@example.com",
		"scp": "User.Read Files.Read", "ver": "2.0", "azp": "6e74172b-be56-4843-9ff4-e66a39bb12e3",
		"uti": "AbCdEf123456", "roles": []string{"Task.Read", "Task.Write"}, "jti": "9f7c2b1e-5d4a-4c3b-8a21-0e6f5d4c3b2a",
	}
}

func sign(s crypto.Signer, alg string, c map[string]any) (string, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	return jws.Sign(s, jws.Header{Alg: alg, Kid: kid, Typ: "JWT"}, payload)
}

// tamper returns tok with one signature bit flipped, and tok with its
// payload's sub changed under the original signature.
func tamper(tok string) []string {
	parts := strings.Split(tok, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[len(sig)/2] ^= 1
	flipped := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	forged := strings.Replace(string(payload), `"sub":"AAAA`, `"sub":"BBBB`, 1)
	swapped := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + parts[2]
	return []string{flipped, swapped}
}

// errAccepted: an implementation accepted a token it must reject.
var errAccepted = errors.New("bench: accepted a tampered token")
