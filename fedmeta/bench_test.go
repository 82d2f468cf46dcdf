package fedmeta

import (
	"crypto/x509"
	"testing"
)

// go test ./fedmeta -run '^$' -bench . -benchmem

func BenchmarkParseEntraTenant(b *testing.B) {
	data := readFixture(b, "entra-tenant-8b966979.xml")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyEntraTenant(b *testing.B) {
	data := readFixture(b, "entra-tenant-8b966979.xml")
	md, err := Parse(data)
	if err != nil {
		b.Fatal(err)
	}
	pin := []*x509.Certificate{md.Signing[0].Cert}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Verify(data, pin); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildSignP256(b *testing.B) {
	key, cert := newKey(b, kindP256, "bench")
	for b.Loop() {
		signedDoc(b, key, cert)
	}
}
