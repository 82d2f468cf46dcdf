// Package testissuer is test support for packages that verify keyroll
// tokens: pooled signing keys, self-signed certificates, token minting,
// and a fake OpenID Connect
// issuer on httptest whose JWKS, failures and fetch counts tests control.
//
// It is an ordinary package so that in-package tests of several packages
// can share it; it must never import the packages that use it (verify in
// particular), so helpers that need their types stay in those packages.
package testissuer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/keyroll/keyroll/jwk"
	"github.com/keyroll/keyroll/jws"
)

// T0 is where the tests' fake clocks start; certificates from
// [Key.WithCert] are valid around it.
var T0 = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

var pool sync.Map // kind/name → crypto.Signer: RSA generation is slow on a shared machine

// Signer returns the private key called name of the given kind ("RSA",
// "RSA1024", "P256", "P384" or "Ed25519"), generating it on first use and
// reusing it for the rest of the test binary.
func Signer(t testing.TB, kind, name string) crypto.Signer {
	t.Helper()
	id := kind + "/" + name
	if s, ok := pool.Load(id); ok {
		return s.(crypto.Signer)
	}
	s, err := generate(kind)
	if err != nil {
		t.Fatalf("key %s: %v", id, err)
	}
	got, _ := pool.LoadOrStore(id, s)
	return got.(crypto.Signer)
}

func generate(kind string) (s crypto.Signer, err error) {
	switch kind {
	case "RSA":
		return rsa.GenerateKey(rand.Reader, 2048)
	case "RSA1024":
		return rsa.GenerateKey(rand.Reader, 1024)
	case "P256":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "P384":
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "Ed25519":
		_, s, err = ed25519.GenerateKey(rand.Reader)
		return s, err
	}
	return nil, fmt.Errorf("unknown key kind %q", kind)
}

// kinds maps a JWS algorithm to the key kind [NewKey] uses for it.
var kinds = map[string]string{"RS256": "RSA", "ES256": "P256", "ES384": "P384", "EdDSA": "Ed25519"}

// Key is a signing key as an issuer holds it.
type Key struct {
	KID, Alg string
	Signer   crypto.Signer
	Cert     *x509.Certificate // nil until [Key.WithCert]
}

// NewKey returns the pooled key kid for alg ("RS256", "ES256", "ES384" or
// "EdDSA"); [Key.Sign] signs with alg.
func NewKey(t testing.TB, alg, kid string) Key {
	t.Helper()
	kind, ok := kinds[alg]
	if !ok {
		t.Fatalf("unknown alg %s", alg)
	}
	return Key{KID: kid, Alg: alg, Signer: Signer(t, kind, kid)}
}

// WithCert returns k with a self-signed certificate (for metadata and
// x5t), valid from a day before [T0] to a year after. Its serial is 1, so
// an RSA key (whose signatures are deterministic) gets the same
// certificate, and x5t, every time.
func (k Key) WithCert(t testing.TB) Key {
	t.Helper()
	k.Cert = selfSigned(t, big.NewInt(1), k.Signer, k.KID, T0.Add(-24*time.Hour), T0.Add(365*24*time.Hour))
	return k
}

// SelfSigned makes a self-signed signing certificate (a random serial,
// key usage digital signature) for signer's public key.
func SelfSigned(t testing.TB, signer crypto.Signer, cn string, notBefore, notAfter time.Time) *x509.Certificate {
	t.Helper()
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	return selfSigned(t, serial, signer, cn, notBefore, notAfter)
}

func selfSigned(t testing.TB, serial *big.Int, signer crypto.Signer, cn string, notBefore, notAfter time.Time) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, signer.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// X5T is the base64url SHA-1 thumbprint of k's certificate.
func (k Key) X5T() string {
	sum := sha1.Sum(k.Cert.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// JWK is k's published form: kid and use "sig", no alg (as Entra ID
// publishes).
func (k Key) JWK() jwk.Key {
	return jwk.Key{KID: k.KID, Use: "sig", Public: k.Signer.Public()}
}

// Claims is a token payload under construction.
type Claims map[string]any

// StdClaims is a payload from iss for aud, subject alice, valid for an hour
// from now.
func StdClaims(iss, aud string, now time.Time) Claims {
	return Claims{"iss": iss, "aud": aud, "sub": "alice", "iat": now.Unix(),
		"nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

// Sign mints a JWT of c with k's kid and alg.
func (k Key) Sign(t testing.TB, c Claims) string {
	t.Helper()
	return k.SignHeader(t, jws.Header{Alg: k.Alg, Kid: k.KID, Typ: "JWT"}, c)
}

// SignHeader signs c with k under the header h, whatever it says.
func (k Key) SignHeader(t testing.TB, h jws.Header, c Claims) string {
	t.Helper()
	payload, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.Sign(k.Signer, h, payload)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// JWKS is the JSON key set of keys.
func JWKS(t testing.TB, keys ...jwk.Key) []byte {
	t.Helper()
	b, err := json.Marshal(jwk.Set{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Keys converts a test package's own key values to [Key]s with conv, for
// packages whose tests keep a key type of their own.
func Keys[T any](ks []T, conv func(T) Key) []Key {
	out := make([]Key, len(ks))
	for i, k := range ks {
		out[i] = conv(k)
	}
	return out
}
