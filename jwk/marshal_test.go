package jwk_test

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/keyroll/keyroll/jwk"
)

// FromCertificate, MarshalJSON and ParseKey round-trip every key type.
func TestCertificateRoundTrip(t *testing.T) {
	tests := []struct{ key, alg, wantAlg string }{
		{"RSA", "", "RS256"}, {"RSA", "PS384", "PS384"}, {"P-256", "", "ES256"}, {"P-384", "ES384", "ES384"},
		{"P-521", "", "ES512"}, {"Ed25519", "EdDSA", "EdDSA"},
	}
	for _, tt := range tests {
		t.Run(tt.key+" "+tt.wantAlg, func(t *testing.T) {
			cert := selfSigned(t, key(t, tt.key))
			k, err := jwk.FromCertificate(cert, "kid-"+tt.key, tt.alg)
			if err != nil {
				t.Fatal(err)
			}
			if k.Alg != tt.wantAlg || k.Use != "sig" || len(k.Certs) != 1 || k.X5T == "" || k.X5TS256 == "" {
				t.Fatalf("FromCertificate = %+v", k)
			}
			data, err := json.Marshal(k)
			if err != nil {
				t.Fatal(err)
			}
			got, err := jwk.ParseKey(data)
			if err != nil {
				t.Fatalf("ParseKey(%s): %v", data, err)
			}
			assertSameKey(t, got, k)
		})
	}
}

func assertSameKey(t *testing.T, got, want jwk.Key) {
	t.Helper()
	if got.KID != want.KID || got.Kty != want.Kty || got.Alg != want.Alg || got.Use != want.Use || got.Issuer != want.Issuer ||
		got.X5T != want.X5T || got.X5TS256 != want.X5TS256 || len(got.Certs) != len(want.Certs) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if !want.Public.(interface{ Equal(crypto.PublicKey) bool }).Equal(got.Public) {
		t.Fatal("public keys differ")
	}
	for i := range got.Certs {
		if !got.Certs[i].Equal(want.Certs[i]) {
			t.Fatalf("certificate %d differs", i)
		}
	}
}

func TestFromCertificateThumbprints(t *testing.T) {
	cert := selfSigned(t, key(t, "P-256"))
	k, err := jwk.FromCertificate(cert, "k", "")
	if err != nil {
		t.Fatal(err)
	}
	s256 := sha256.Sum256(cert.Raw)
	if k.X5TS256 != b64.EncodeToString(s256[:]) {
		t.Errorf("x5t#S256 = %s", k.X5TS256)
	}
	if got, want := jwk.SHA256Thumbprint(cert.Raw), strings.ToUpper(hex.EncodeToString(s256[:])); got != want {
		t.Errorf("SHA256Thumbprint = %s, want %s", got, want)
	}
	x5t, _ := b64.DecodeString(k.X5T)
	if jwk.SHA1Thumbprint(cert.Raw) != strings.ToUpper(hex.EncodeToString(x5t)) {
		t.Error("x5t and SHA1Thumbprint disagree")
	}
}

func TestFromCertificateRejects(t *testing.T) {
	if _, err := jwk.FromCertificate(selfSigned(t, key(t, "P-256")), "k", "ES384"); !errors.Is(err, jwk.ErrAlgMismatch) {
		t.Errorf("P-256 for ES384: %v", err)
	}
	if _, err := jwk.FromCertificate(selfSigned(t, key(t, "RSA1024")), "k", ""); !errors.Is(err, jwk.ErrWeakKey) {
		t.Errorf("1024-bit RSA: %v", err)
	}
	if _, err := jwk.FromCertificate(selfSigned(t, key(t, "RSA")), "k", "HS256"); !errors.Is(err, jwk.ErrUnsupportedAlg) {
		t.Errorf("HS256: %v", err)
	}
	if _, err := jwk.FromCertificate(nil, "k", ""); err == nil {
		t.Error("nil certificate accepted")
	}
}

// Members come out in the documented order.
func TestMarshalMemberOrder(t *testing.T) {
	pub := &rsa.PublicKey{N: new(big.Int).Lsh(big.NewInt(1), 2047), E: 65537}
	pub.N.Add(pub.N, big.NewInt(1))
	k := jwk.Key{KID: "k1", Alg: "RS256", Issuer: "https://issuer.example", Public: pub, X5T: "t1", X5TS256: "t256"}
	data, err := k.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	n := b64.EncodeToString(pub.N.Bytes())
	want := `{"kty":"RSA","use":"sig","kid":"k1","alg":"RS256","n":"` + n + `","e":"AQAB","x5t":"t1","x5t#S256":"t256","issuer":"https://issuer.example"}`
	if string(data) != want {
		t.Errorf("MarshalJSON =\n%s\nwant\n%s", data, want)
	}
	ec := selfSigned(t, key(t, "P-256"))
	k, _ = jwk.FromCertificate(ec, "e1", "")
	data, _ = k.MarshalJSON()
	order := []string{`"kty"`, `"use"`, `"kid"`, `"alg"`, `"crv"`, `"x"`, `"y"`, `"x5c"`, `"x5t"`, `"x5t#S256"`}
	last := -1
	for _, m := range order {
		i := bytes.Index(data, []byte(m+":"))
		if i <= last {
			t.Fatalf("%s out of order in %s", m, data)
		}
		last = i
	}
}

func TestMarshalRefuses(t *testing.T) {
	rsaPub := key(t, "RSA").Public()
	other := selfSigned(t, key(t, "P-256"))
	tests := map[string]jwk.Key{
		"weak RSA":          {Public: key(t, "RSA1024").Public()},
		"alg for other key": {Public: rsaPub, Alg: "ES256"},
		"unknown alg":       {Public: rsaPub, Alg: "HS256"},
		"no key":            {},
		"x5c of other key":  {Public: rsaPub, Certs: []*x509.Certificate{other}},
	}
	for name, k := range tests {
		if data, err := json.Marshal(k); err == nil {
			t.Errorf("%s: marshalled %s", name, data)
		}
	}
}

// A real Entra set survives Set marshalling and ParseSet unchanged.
func TestSetRoundTrip(t *testing.T) {
	keys, _, err := jwk.ParseSet(readFixture(t, "real-world", "jwks", "entra-common-discovery-keys-2020.json"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(jwk.Set{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	again, skipped, err := jwk.ParseSet(data)
	if err != nil || len(skipped) != 0 || len(again) != len(keys) {
		t.Fatalf("%v %v %d", err, skipped, len(again))
	}
	for i := range keys {
		assertSameKey(t, again[i], keys[i])
	}
	var set jwk.Set
	if err := json.Unmarshal(data, &set); err != nil || len(set.Keys) != len(keys) {
		t.Fatalf("json.Unmarshal into Set: %v", err)
	}
	assertSameKey(t, set.Keys[2], keys[2])
	if err := json.Unmarshal([]byte(`{"keys":[{"kty":"oct","k":"AA"}]}`), &set); !errors.Is(err, jwk.ErrSymmetric) {
		t.Errorf("unmarshal of an oct key: %v", err)
	}
}

func TestDefaultAlg(t *testing.T) {
	for name, want := range map[string]string{"RSA": "RS256", "P-256": "ES256", "P-384": "ES384", "P-521": "ES512", "Ed25519": "EdDSA"} {
		if got := jwk.DefaultAlg(jwk.Key{Public: key(t, name).Public()}); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
	if got := jwk.DefaultAlg(jwk.Key{}); got != "" {
		t.Errorf("no key: %q", got)
	}
}
