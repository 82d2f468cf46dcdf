package jws_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyroll/keyroll/jws"
)

// benchToken is a realistic RS256 ID token: 3-member header, ~700-byte
// claims, 2048-bit key.
var benchToken = sync.OnceValues(func() (string, *rsa.PrivateKey) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	claims := `{"aud":"6e74172b-be56-4843-9ff4-e66a39bb12e3","iss":"https://login.example.com/9122040d-6c67-4c5b-b112-36a304b66dad/v2.0",` +
		`"iat":1700000000,"nbf":1700000000,"exp":1700003600,"aio":"` + strings.Repeat("A", 120) + `",` +
		`"name":"Alice Example","oid":"00000000-0000-0000-66f3-3332eca7ea81","preferred_username":"alice@example.com",` +
		`"rh":"0.ARoAv4j5cvGGr0GRqy180BHbR0tR3AbBWxK","roles":["reader","writer"],"sub":"AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",` +
		`"tid":"9122040d-6c67-4c5b-b112-36a304b66dad","uti":"fqiBqXLPj0eQa82S-IYFAA","ver":"2.0","nonce":"` + strings.Repeat("n", 64) + `"}`
	h := jws.Header{Alg: "RS256", Kid: "nOo3ZDrODXEK1jKWhXslHR_KXEg", Typ: "JWT"}
	token, err := jws.Sign(key, h, []byte(claims))
	if err != nil {
		panic(err)
	}
	return token, key
})

func BenchmarkParse(b *testing.B) {
	token, _ := benchToken()
	b.ReportAllocs()
	b.SetBytes(int64(len(token)))
	for b.Loop() {
		if _, err := jws.Parse(token); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyRS256 is the whole hot path: parse the token, then verify
// its signature with a trusted key.
func BenchmarkVerifyRS256(b *testing.B) {
	token, key := benchToken()
	pub := &key.PublicKey
	b.ReportAllocs()
	for b.Loop() {
		tok, err := jws.Parse(token)
		if err != nil {
			b.Fatal(err)
		}
		if err := jws.VerifySignature(tok.Header.Alg, pub, tok.SigningInput, tok.Signature); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFloorRS256 is the least any RS256 verifier must do: SHA-256 of
// the signing input and rsa.VerifyPKCS1v15, with the signature already
// decoded and the signing input already a byte slice.
func BenchmarkFloorRS256(b *testing.B) {
	token, key := benchToken()
	tok, err := jws.Parse(token)
	if err != nil {
		b.Fatal(err)
	}
	input, sig, pub := []byte(tok.SigningInput), tok.Signature, &key.PublicKey
	b.ReportAllocs()
	for b.Loop() {
		sum := sha256.Sum256(input)
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRS256OverFloor alternates the whole verification path and the
// floor in one loop and reports the ratio of their median times ("x-floor"),
// which stays meaningful on a busy machine where separate runs drift and
// preemption spikes single iterations. keyroll's target is at most 1.05.
func BenchmarkRS256OverFloor(b *testing.B) {
	token, key := benchToken()
	pub := &key.PublicKey
	tok, err := jws.Parse(token)
	if err != nil {
		b.Fatal(err)
	}
	input, sig := []byte(tok.SigningInput), tok.Signature
	full := make([]time.Duration, 0, 1<<16)
	floor := make([]time.Duration, 0, 1<<16)
	for i := 0; b.Loop(); i++ {
		t0 := time.Now()
		if i%2 == 0 { // alternate the order so neither side always runs warm
			verifyToken(b, token, pub)
		}
		t1 := time.Now()
		sum := sha256.Sum256(input)
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if i%2 == 1 {
			verifyToken(b, token, pub)
		}
		t3 := time.Now()
		full = append(full, t1.Sub(t0)+t3.Sub(t2))
		floor = append(floor, t2.Sub(t1))
	}
	b.ReportMetric(float64(median(full))/float64(median(floor)), "x-floor")
}

func verifyToken(b *testing.B, token string, pub *rsa.PublicKey) {
	t, err := jws.Parse(token)
	if err != nil {
		b.Fatal(err)
	}
	if err := jws.VerifySignature(t.Header.Alg, pub, t.SigningInput, t.Signature); err != nil {
		b.Fatal(err)
	}
}

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}
