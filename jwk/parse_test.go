package jwk_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/keyroll/keyroll/jwk"
)

// obj is a JWK under construction.
type obj map[string]any

func rsaObj(t *testing.T, pub *rsa.PublicKey) obj {
	n, e := rsaJWK(pub)
	return obj{"kty": "RSA", "kid": "r1", "n": n, "e": e}
}

func ecObj(t *testing.T, crv string) obj {
	point, err := key(t, crv).Public().(*ecdsa.PublicKey).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	size := (len(point) - 1) / 2
	return obj{"kty": "EC", "kid": "e1", "crv": crv, "x": b64.EncodeToString(point[1 : 1+size]), "y": b64.EncodeToString(point[1+size:])}
}

func (o obj) with(kv ...any) obj {
	c := obj{}
	for k, v := range o {
		c[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

func TestParseKeyAccepts(t *testing.T) {
	rsaPub := key(t, "RSA").Public().(*rsa.PublicKey)
	base := rsaObj(t, rsaPub)
	n, _ := rsaJWK(rsaPub)
	tests := []struct {
		name string
		data []byte
		alg  string
	}{
		{"RSA with alg RS256 and no use", jsonOf(t, base.with("alg", "RS256")), "RS256"},
		{"RSA without alg", jsonOf(t, base.with("use", "sig")), ""},
		{"RSA for PS512", jsonOf(t, base.with("alg", "PS512")), "PS512"},
		{"RSA with a leading zero octet in n", jsonOf(t, base.with("n", b64.EncodeToString(append([]byte{0}, rsaPub.N.Bytes()...)))), ""},
		{"RSA with key_ops verify", jsonOf(t, base.with("key_ops", []string{"verify"})), ""},
		{"unknown members are ignored", []byte(`{"kty":"RSA","n":"` + n + `","e":"AQAB","x-extra":{"a":[1,2]},"nbf":123}`), ""},
		{"escaped member names", []byte(`{"k\u0074y":"RSA","n":"` + n + `","\u0065":"AQAB"}`), ""},
		{"P-256", jsonOf(t, ecObj(t, "P-256").with("alg", "ES256")), "ES256"},
		{"P-384", jsonOf(t, ecObj(t, "P-384")), ""},
		{"P-521", jsonOf(t, ecObj(t, "P-521").with("alg", "ES512")), "ES512"},
		{"Ed25519", jsonOf(t, obj{"kty": "OKP", "crv": "Ed25519", "x": b64.EncodeToString([]byte(key(t, "Ed25519").Public().(ed25519.PublicKey))), "alg": "EdDSA"}), "EdDSA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := jwk.ParseKey(tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if k.Public == nil || k.Alg != tt.alg {
				t.Errorf("key = %+v", k)
			}
		})
	}
	k, err := jwk.ParseKey(jsonOf(t, base))
	if err != nil || !rsaPub.Equal(k.Public) || k.KID != "r1" || k.Kty != "RSA" {
		t.Errorf("RSA key = %+v, %v", k, err)
	}
}

func TestParseKeyRejects(t *testing.T) {
	rsaPub := key(t, "RSA").Public().(*rsa.PublicKey)
	base := rsaObj(t, rsaPub)
	n, e := rsaJWK(rsaPub)
	ec := ecObj(t, "P-256")
	otherCert := selfSigned(t, key(t, "P-256"))
	rsaCert := selfSigned(t, key(t, "RSA"))
	x5c := []string{base64.StdEncoding.EncodeToString(rsaCert.Raw)}
	wrongThumb := b64.EncodeToString(make([]byte, 20))
	huge := new(big.Int).Lsh(big.NewInt(1), 8192)
	huge.Add(huge, big.NewInt(1))
	badY := []byte(ec["y"].(string))
	badY[5] ^= 1
	tests := []struct {
		name   string
		data   []byte
		reason error
	}{
		{"not JSON", []byte(`{"kty":`), jwk.ErrMalformed},
		{"an array", []byte(`[]`), jwk.ErrMalformed},
		{"trailing data", append(jsonOf(t, base), `{}`...), jwk.ErrMalformed},
		{"duplicate member", []byte(`{"kty":"RSA","kty":"RSA","n":"` + n + `","e":"` + e + `"}`), jwk.ErrDuplicateMember},
		{"duplicate member, escaped", []byte(`{"kty":"RSA","n":"` + n + `","e":"AQAB","\u0065":"AQAB"}`), jwk.ErrDuplicateMember},
		{"no kty", jsonOf(t, base.with("kty", nil)), jwk.ErrMalformed},
		{"kty not a string", jsonOf(t, base.with("kty", 1)), jwk.ErrMalformed},
		{"kid not a string", jsonOf(t, base.with("kid", 7)), jwk.ErrMalformed},
		{"oct", jsonOf(t, obj{"kty": "oct", "k": "AAAA", "alg": "HS256"}), jwk.ErrSymmetric},
		{"unknown kty", jsonOf(t, obj{"kty": "DSA"}), jwk.ErrUnsupported},
		{"RSA private", jsonOf(t, base.with("d", "AQAB")), jwk.ErrPrivate},
		{"RSA private primes only", jsonOf(t, base.with("p", "AQAB", "q", "AQAB")), jwk.ErrPrivate},
		{"EC private", jsonOf(t, ec.with("d", "AQAB")), jwk.ErrPrivate},
		{"use enc", jsonOf(t, base.with("use", "enc")), jwk.ErrNotForSigning},
		{"unknown use", jsonOf(t, base.with("use", "tls")), jwk.ErrNotForSigning},
		{"key_ops encrypt", jsonOf(t, base.with("key_ops", []string{"encrypt"})), jwk.ErrNotForSigning},
		{"key_ops repeated", jsonOf(t, base.with("key_ops", []string{"verify", "verify"})), jwk.ErrMalformed},
		{"key_ops not strings", jsonOf(t, base.with("key_ops", []int{1})), jwk.ErrMalformed},
		{"RSA without e", jsonOf(t, base.with("e", nil)), jwk.ErrMalformed},
		{"n with padding", jsonOf(t, base.with("n", n+"==")), jwk.ErrMalformed},
		{"n in the standard alphabet", jsonOf(t, base.with("n", strings.NewReplacer("-", "+", "_", "/").Replace(n)+"+/")), jwk.ErrMalformed},
		{"n with a line break", jsonOf(t, base.with("n", n[:10]+"\n"+n[10:])), jwk.ErrMalformed},
		{"n a number", jsonOf(t, base.with("n", 65537)), jwk.ErrMalformed},
		{"1024-bit RSA", jsonOf(t, rsaObj(t, key(t, "RSA1024").Public().(*rsa.PublicKey))), jwk.ErrWeakKey},
		{"8193-bit RSA", jsonOf(t, base.with("n", b64.EncodeToString(huge.Bytes()))), jwk.ErrWeakKey},
		{"even exponent", jsonOf(t, base.with("e", "AQAA")), jwk.ErrWeakKey},
		{"exponent 1", jsonOf(t, base.with("e", "AQ")), jwk.ErrWeakKey},
		{"exponent over 32 bits", jsonOf(t, base.with("e", "AQAAAAAB")), jwk.ErrWeakKey},
		{"alg HS256 on RSA", jsonOf(t, base.with("alg", "HS256")), jwk.ErrUnsupportedAlg},
		{"alg RSA-OAEP", jsonOf(t, base.with("alg", "RSA-OAEP")), jwk.ErrUnsupportedAlg},
		{"alg none", jsonOf(t, base.with("alg", "none")), jwk.ErrUnsupportedAlg},
		{"alg ES256 on RSA", jsonOf(t, base.with("alg", "ES256")), jwk.ErrAlgMismatch},
		{"alg RS256 on EC", jsonOf(t, ec.with("alg", "RS256")), jwk.ErrAlgMismatch},
		{"alg ES384 on P-256", jsonOf(t, ec.with("alg", "ES384")), jwk.ErrAlgMismatch},
		{"alg ES521", jsonOf(t, ec.with("alg", "ES521")), jwk.ErrUnsupportedAlg},
		{"EC crv secp256k1", jsonOf(t, ec.with("crv", "secp256k1")), jwk.ErrUnsupported},
		{"EC without crv", jsonOf(t, ec.with("crv", nil)), jwk.ErrUnsupported},
		{"EC P-256 point labelled P-384", jsonOf(t, ec.with("crv", "P-384")), jwk.ErrMalformed},
		{"EC point off the curve", jsonOf(t, ec.with("y", string(badY))), jwk.ErrMalformed},
		{"EC without y", jsonOf(t, ec.with("y", nil)), jwk.ErrMalformed},
		{"EC short x", jsonOf(t, ec.with("x", b64.EncodeToString(make([]byte, 31)))), jwk.ErrMalformed},
		{"OKP X25519", jsonOf(t, obj{"kty": "OKP", "crv": "X25519", "x": b64.EncodeToString(make([]byte, 32))}), jwk.ErrUnsupported},
		{"OKP Ed448", jsonOf(t, obj{"kty": "OKP", "crv": "Ed448", "x": b64.EncodeToString(make([]byte, 57))}), jwk.ErrUnsupported},
		{"Ed25519 short x", jsonOf(t, obj{"kty": "OKP", "crv": "Ed25519", "x": b64.EncodeToString(make([]byte, 31))}), jwk.ErrMalformed},
		{"x5c of another key", jsonOf(t, base.with("x5c", []string{base64.StdEncoding.EncodeToString(otherCert.Raw)})), jwk.ErrCertMismatch},
		{"x5t not the leaf's", jsonOf(t, base.with("x5c", x5c, "x5t", wrongThumb)), jwk.ErrCertMismatch},
		{"x5t#S256 not the leaf's", jsonOf(t, base.with("x5c", x5c, "x5t#S256", b64.EncodeToString(make([]byte, 32)))), jwk.ErrCertMismatch},
		{"x5t of the wrong size", jsonOf(t, base.with("x5t", b64.EncodeToString(make([]byte, 32)))), jwk.ErrMalformed},
		{"x5c base64url", jsonOf(t, base.with("x5c", []string{b64.EncodeToString(rsaCert.Raw)})), jwk.ErrMalformed},
		{"x5c not a certificate", jsonOf(t, base.with("x5c", []string{"AAAA"})), jwk.ErrMalformed},
		{"x5c a string", jsonOf(t, base.with("x5c", x5c[0])), jwk.ErrMalformed},
		{"x5c too long", jsonOf(t, base.with("x5c", slices11(x5c[0]))), jwk.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := jwk.ParseKey(tt.data)
			if k.Public != nil {
				t.Errorf("key returned with error")
			}
			ke := wantKeyErr(t, err, tt.reason)
			if ke.Index != -1 {
				t.Errorf("Index = %d, want -1", ke.Index)
			}
		})
	}
}

func slices11(s string) []string {
	out := make([]string, 11)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestParseKeyTooLarge(t *testing.T) {
	data := append([]byte(`{"kty":"RSA","pad":"`), bytes.Repeat([]byte("a"), jwk.MaxSetSize)...)
	if _, err := jwk.ParseKey(append(data, `"}`...)); !errors.Is(err, jwk.ErrTooLarge) {
		t.Errorf("err = %v, want ErrTooLarge", err)
	}
}

func TestParseSetDocumentErrors(t *testing.T) {
	tests := []struct {
		name   string
		data   string
		reason error
	}{
		{"empty", ``, jwk.ErrNotJWKS},
		{"not JSON", `keys`, jwk.ErrNotJWKS},
		{"truncated", `{"keys":[`, jwk.ErrNotJWKS},
		{"array", `[{"kty":"RSA"}]`, jwk.ErrNotJWKS},
		{"a single JWK", `{"kty":"RSA","n":"AQAB","e":"AQAB"}`, jwk.ErrNotJWKS},
		{"keys null", `{"keys":null}`, jwk.ErrNotJWKS},
		{"keys an object", `{"keys":{}}`, jwk.ErrNotJWKS},
		{"keys twice", `{"keys":[],"keys":[]}`, jwk.ErrNotJWKS},
		{"keys twice, escaped", `{"keys":[],"k\u0065ys":[]}`, jwk.ErrNotJWKS},
		{"trailing data", `{"keys":[]} {}`, jwk.ErrNotJWKS},
		{"too large", `{"keys":[],"pad":"` + strings.Repeat("a", jwk.MaxSetSize) + `"}`, jwk.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, skipped, err := jwk.ParseSet([]byte(tt.data))
			if !errors.Is(err, tt.reason) || keys != nil || skipped != nil {
				t.Errorf("ParseSet = %v, %v, %v; want error %v", keys, skipped, err, tt.reason)
			}
		})
	}
}

// Bad keys are skipped and reported; good ones are kept in order.
func TestParseSetSkips(t *testing.T) {
	rsaPub := key(t, "RSA").Public().(*rsa.PublicKey)
	good1 := rsaObj(t, rsaPub).with("kid", "good1", "alg", "RS256")
	good2 := ecObj(t, "P-384").with("kid", "good2")
	set := obj{"keys": []any{
		obj{"kty": "oct", "kid": "sym", "k": "AAAA"},
		good1,
		rsaObj(t, rsaPub).with("kid", "enc", "use", "enc"),
		"not an object",
		good2,
		rsaObj(t, key(t, "RSA1024").Public().(*rsa.PublicKey)).with("kid", "small"),
	}}
	keys, skipped, err := jwk.ParseSet(jsonOf(t, set))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].KID != "good1" || keys[1].KID != "good2" {
		t.Fatalf("keys = %v", keys)
	}
	want := []struct {
		index  int
		kid    string
		reason error
	}{{0, "sym", jwk.ErrSymmetric}, {2, "enc", jwk.ErrNotForSigning}, {3, "", jwk.ErrMalformed}, {5, "small", jwk.ErrWeakKey}}
	if len(skipped) != len(want) {
		t.Fatalf("skipped = %v", skipped)
	}
	for i, w := range want {
		ke := wantKeyErr(t, skipped[i], w.reason)
		if ke.Index != w.index || ke.KID != w.kid {
			t.Errorf("skipped[%d] = %v, want index %d kid %q", i, ke, w.index, w.kid)
		}
		if w.kid != "" && !strings.Contains(ke.Error(), w.kid) {
			t.Errorf("message %q does not name the kid", ke.Error())
		}
	}
}

// Different keys under one kid are ambiguous: all of them are dropped. The
// same key listed twice is harmless and kept.
func TestParseSetDuplicateKID(t *testing.T) {
	a := rsaObj(t, key(t, "RSA").Public().(*rsa.PublicKey)).with("kid", "same")
	b := ecObj(t, "P-256").with("kid", "same")
	c := ecObj(t, "P-384").with("kid", "other")
	keys, skipped, err := jwk.ParseSet(jsonOf(t, obj{"keys": []any{a, c, b}}))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].KID != "other" || len(skipped) != 2 {
		t.Fatalf("keys %v skipped %v", keys, skipped)
	}
	if ke := wantKeyErr(t, skipped[0], jwk.ErrDuplicateKID); ke.Index != 0 {
		t.Errorf("index %d", ke.Index)
	}
	if ke := wantKeyErr(t, skipped[1], jwk.ErrDuplicateKID); ke.Index != 2 {
		t.Errorf("index %d", ke.Index)
	}
	keys, skipped, err = jwk.ParseSet(jsonOf(t, obj{"keys": []any{a, a.with("alg", "PS256")}}))
	if err != nil || len(keys) != 2 || len(skipped) != 0 {
		t.Errorf("same key twice: %v %v %v", keys, skipped, err)
	}
}

func TestParseSetEmpty(t *testing.T) {
	keys, skipped, err := jwk.ParseSet([]byte(` {"keys":[],"other":1} `))
	if err != nil || len(keys) != 0 || len(skipped) != 0 {
		t.Errorf("ParseSet = %v %v %v", keys, skipped, err)
	}
}
