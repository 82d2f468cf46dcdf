package jws_test

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
	"os"
	"sync"
	"testing"

	sharedfixtures "github.com/keyroll/keyroll/internal/fixtures"
	"github.com/keyroll/keyroll/jws"
)

// fixtures returns the repository's testdata/fixtures directory.
func fixtures(t testing.TB) string { return sharedfixtures.Dir(t) }

// readJSON decodes a fixture file into v.
func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

var b64 = base64.RawURLEncoding

// compact builds header.payload.signature from raw parts.
func compact(header, payload string, sig []byte) string {
	return b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload)) + "." + b64.EncodeToString(sig)
}

// wantReason fails unless err is a *jws.Error with exactly that Reason.
func wantReason(t *testing.T, err, reason error) {
	t.Helper()
	var je *jws.Error
	if !errors.As(err, &je) {
		t.Fatalf("error = %v (%T), want *jws.Error with reason %v", err, err, reason)
	}
	if je.Reason != reason || !errors.Is(err, reason) {
		t.Fatalf("error = %v, want reason %v", err, reason)
	}
}

// testKeys holds one signing key per algorithm family, made once.
type testKeys struct {
	rsa       *rsa.PrivateKey
	p256      *ecdsa.PrivateKey
	p256b     *ecdsa.PrivateKey
	p384      *ecdsa.PrivateKey
	p521      *ecdsa.PrivateKey
	ed25519   ed25519.PrivateKey
	rsa1024   *rsa.PrivateKey
	generated error
}

var (
	keysOnce sync.Once
	keys     testKeys
)

func getKeys(t testing.TB) *testKeys {
	t.Helper()
	keysOnce.Do(func() {
		var err, e error
		must := func(e error) {
			if e != nil && err == nil {
				err = e
			}
		}
		keys.rsa, e = rsa.GenerateKey(rand.Reader, 2048)
		must(e)
		keys.p256, e = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		must(e)
		keys.p256b, e = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		must(e)
		keys.p384, e = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		must(e)
		keys.p521, e = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
		must(e)
		_, keys.ed25519, e = ed25519.GenerateKey(rand.Reader)
		must(e)
		keys.rsa1024, e = rsa.GenerateKey(rand.Reader, 1024)
		must(e)
		keys.generated = err
	})
	if keys.generated != nil {
		t.Fatal(keys.generated)
	}
	return &keys
}

// signerFor returns the test key that fits alg.
func (k *testKeys) signerFor(alg string) crypto.Signer {
	switch alg[:2] {
	case "RS", "PS":
		return k.rsa
	case "Ed":
		return k.ed25519
	}
	switch alg {
	case "ES256":
		return k.p256
	case "ES384":
		return k.p384
	}
	return k.p521
}
