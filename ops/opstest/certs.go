package opstest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"testing"
	"time"

	"github.com/keyroll/keyroll/fedmeta"
	"github.com/keyroll/keyroll/internal/testissuer"
	"github.com/keyroll/keyroll/jwk"
)

// Signing is a constructed signing certificate with its key.
type Signing struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// NewCert makes a self-signed ECDSA P-256 certificate valid from notBefore
// to notAfter.
func NewCert(t testing.TB, cn string, notBefore, notAfter time.Time) Signing {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c := testissuer.SelfSigned(t, key, cn, notBefore, notAfter)
	return Signing{Cert: c, Key: key}
}

// JWKS publishes certs as a JWKS with x5c, kid "k"+position.
func JWKS(t testing.TB, certs ...Signing) []byte {
	t.Helper()
	var set jwk.Set
	for i, c := range certs {
		k, err := jwk.FromCertificate(c.Cert, "k"+string(rune('1'+i)), "")
		if err != nil {
			t.Fatal(err)
		}
		set.Keys = append(set.Keys, k)
	}
	data, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Metadata publishes certs as federation metadata signed by signer.
func Metadata(t testing.TB, entityID string, signer Signing, certs ...Signing) []byte {
	t.Helper()
	signed, err := fedmeta.Sign(Unsigned(t, entityID, certs...), signer.Key, signer.Cert)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// Unsigned publishes certs as federation metadata without a signature.
func Unsigned(t testing.TB, entityID string, certs ...Signing) []byte {
	t.Helper()
	cfg := fedmeta.Config{EntityID: entityID, PassiveURL: entityID + "wsfed"}
	for _, c := range certs {
		cfg.Certs = append(cfg.Certs, c.Cert)
	}
	doc, err := fedmeta.Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}
