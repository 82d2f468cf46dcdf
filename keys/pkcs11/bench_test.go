package pkcs11_test

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"testing"

	"github.com/keyroll/keyroll/keys"
	"github.com/keyroll/keyroll/keys/pkcs11"
	"github.com/keyroll/keyroll/keys/pkcs11/softhsmtest"
)

// BenchmarkSign compares a token signature through SoftHSM2 with the same
// signature in process (crypto/rsa, crypto/ecdsa), for the JWS algorithms:
//
//	go test ./keys/pkcs11/ -run '^$' -bench Sign -count 5
func BenchmarkSign(b *testing.B) {
	h := softhsmtest.New(b)
	tok, err := pkcs11.Open(pkcs11.Config{Module: h.Module, Token: h.Token("bench"), PIN: softhsmtest.PIN})
	if err != nil {
		b.Fatal(err)
	}
	defer tok.Close()
	digest := sha256.Sum256([]byte("header.payload"))
	for _, alg := range []string{"RS256", "ES256"} {
		spec := keys.Spec{Alg: alg}
		hsm, _, err := tok.Generate(spec, "https://issuer.test", now, now.AddDate(1, 0, 0))
		if err != nil {
			b.Fatal(err)
		}
		soft, err := keys.Generate(spec, "https://issuer.test", now, now.AddDate(1, 0, 0), nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range []struct {
			name   string
			signer crypto.Signer
		}{{"softhsm", hsm.Signer}, {"in-process", soft.Signer}} {
			b.Run(alg+"/"+c.name, func(b *testing.B) {
				for b.Loop() {
					if _, err := c.signer.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
