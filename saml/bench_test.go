package saml

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"testing"
)

// BenchmarkBuildResponse builds and signs a typical Response (two
// attributes) with an RSA-2048 key. Compare "response" and "assertion"
// (one signature) with BenchmarkRSASignFloor, and "both" with twice it:
//
//	go test -run '^$' -bench 'BuildResponse|RSASignFloor' -count 5 ./saml
func BenchmarkBuildResponse(b *testing.B) {
	s := testSigner(b, "rsa-idp")
	for _, c := range []struct {
		name              string
		signResp, signAss bool
	}{{"response", true, false}, {"assertion", false, true}, {"both", true, true}} {
		b.Run(c.name, func(b *testing.B) {
			r := testResponse()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := BuildResponse(r, s, c.signResp, c.signAss); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRSASignFloor is one raw RSA-SHA256 PKCS #1 v1.5 signature over a
// 32-byte digest with the same key: the floor BuildResponse is measured
// against.
func BenchmarkRSASignFloor(b *testing.B) {
	key := testSigner(b, "rsa-idp").Key.(*rsa.PrivateKey)
	digest := sha256.Sum256([]byte("keyroll"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:]); err != nil {
			b.Fatal(err)
		}
	}
}
