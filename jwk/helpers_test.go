package jwk_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	sharedfixtures "github.com/keyroll/keyroll/internal/fixtures"
	"github.com/keyroll/keyroll/internal/testissuer"
	"github.com/keyroll/keyroll/jwk"
)

// fixtures returns the repository's testdata/fixtures directory.
func fixtures(t testing.TB) string { return sharedfixtures.Dir(t) }

func readFixture(t testing.TB, parts ...string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(append([]string{fixtures(t)}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

var b64 = base64.RawURLEncoding

// wantKeyErr fails unless err is a *jwk.KeyError with exactly that reason.
func wantKeyErr(t *testing.T, err, reason error) *jwk.KeyError {
	t.Helper()
	var ke *jwk.KeyError
	if !errors.As(err, &ke) {
		t.Fatalf("error = %v (%T), want *jwk.KeyError with reason %v", err, err, reason)
	}
	if ke.Reason != reason || !errors.Is(err, reason) {
		t.Fatalf("error = %v, want reason %v", err, reason)
	}
	return ke
}

// jsonOf marshals v or fails.
func jsonOf(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testKeys are generated once per test binary.
var testKeys = sync.OnceValues(func() (map[string]crypto.Signer, error) {
	m := map[string]crypto.Signer{}
	var err error
	if m["RSA"], err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return nil, err
	}
	if m["RSA1024"], err = rsa.GenerateKey(rand.Reader, 1024); err != nil {
		return nil, err
	}
	for name, c := range map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()} {
		if m[name], err = ecdsa.GenerateKey(c, rand.Reader); err != nil {
			return nil, err
		}
	}
	_, m["Ed25519"], err = ed25519.GenerateKey(rand.Reader)
	return m, err
})

func key(t testing.TB, name string) crypto.Signer {
	t.Helper()
	m, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	return m[name]
}

// selfSigned makes a certificate for signer's public key.
func selfSigned(t testing.TB, signer crypto.Signer) *x509.Certificate {
	t.Helper()
	return testissuer.SelfSigned(t, signer, "keyroll test signing", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
}

// rsaJWK renders an RSA public key's n and e.
func rsaJWK(pub *rsa.PublicKey) (n, e string) {
	return b64.EncodeToString(pub.N.Bytes()), b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes())
}
