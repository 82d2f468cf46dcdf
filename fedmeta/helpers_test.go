package fedmeta

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/keyroll/keyroll/internal/testissuer"
)

const fixtureDir = "testdata/real-world"

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type keyKind int

const (
	kindRSA2048 keyKind = iota
	kindP256
	kindP384
	kindP521
	kindEd25519
	kindRSA1024
)

type keyAndCert struct {
	key  crypto.Signer
	cert *x509.Certificate
}

// keyCache keeps RSA key generation (slow on a shared machine) to once per
// (kind, cn) per test binary. Tests that need distinct keys use distinct cns.
var keyCache sync.Map

// newKey returns a key of the given kind and a self-signed certificate for it.
func newKey(t testing.TB, kind keyKind, cn string) (crypto.Signer, *x509.Certificate) {
	t.Helper()
	id := fmt.Sprint(kind, "/", cn)
	if kc, ok := keyCache.Load(id); ok {
		return kc.(keyAndCert).key, kc.(keyAndCert).cert
	}
	key, cert := generateKey(t, kind, cn)
	keyCache.Store(id, keyAndCert{key, cert})
	return key, cert
}

func generateKey(t testing.TB, kind keyKind, cn string) (crypto.Signer, *x509.Certificate) {
	t.Helper()
	var key crypto.Signer
	var err error
	switch kind {
	case kindRSA2048:
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case kindRSA1024:
		key, err = rsa.GenerateKey(rand.Reader, 1024)
	case kindP256:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case kindP384:
		key, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case kindP521:
		key, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case kindEd25519:
		_, key, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	return key, selfSign(t, key, cn)
}

func selfSign(t testing.TB, key crypto.Signer, cn string) *x509.Certificate {
	t.Helper()
	return testissuer.SelfSigned(t, key, cn, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
}

// signedDoc builds and signs metadata publishing certs (signer first).
func signedDoc(t testing.TB, key crypto.Signer, cert *x509.Certificate, more ...*x509.Certificate) []byte {
	t.Helper()
	doc, err := Build(Config{
		EntityID:   "https://issuer.example/",
		PassiveURL: "https://issuer.example/wsfed",
		SSOURL:     "https://issuer.example/saml2",
		Certs:      append([]*x509.Certificate{cert}, more...),
		ID:         "_root",
	})
	if err != nil {
		t.Fatal(err)
	}
	signed, err := Sign(doc, key, cert)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// findSigning returns the signing certificate of md with the thumbprint.
func findSigning(t testing.TB, md *Metadata, thumb string) *x509.Certificate {
	t.Helper()
	for _, s := range md.Signing {
		if Thumbprint(s.Cert) == thumb {
			return s.Cert
		}
	}
	t.Fatalf("no signing certificate %s", thumb)
	return nil
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
