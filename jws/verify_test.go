package jws_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"math/big"
	"testing"

	"github.com/keyroll/keyroll/jws"
)

// signed returns a valid signing input and signature for alg.
func signed(t *testing.T, alg string) (string, []byte) {
	t.Helper()
	token, err := jws.Sign(getKeys(t).signerFor(alg), jws.Header{Alg: alg}, []byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.Parse(token)
	if err != nil {
		t.Fatal(err)
	}
	return tok.SigningInput, tok.Signature
}

func TestVerifyRejectsKeys(t *testing.T) {
	k := getKeys(t)
	input, sig := signed(t, "RS256")
	pub := &k.rsa.PublicKey
	withE := func(e int) *rsa.PublicKey { return &rsa.PublicKey{N: pub.N, E: e} }
	huge := &rsa.PublicKey{N: new(big.Int).Lsh(big.NewInt(1), 8192), E: 65537} // 8193 bits
	tests := []struct {
		name   string
		alg    string
		key    crypto.PublicKey
		reason error
	}{
		{"no alg", "", pub, jws.ErrMissingAlg},
		{"alg none", "none", pub, jws.ErrAlgNone},
		{"alg None", "None", pub, jws.ErrAlgNone},
		{"HMAC", "HS256", pub, jws.ErrUnsupportedAlg},
		{"unknown", "RS1", pub, jws.ErrUnsupportedAlg},
		{"nil key", "RS256", nil, jws.ErrKeyMismatch},
		{"private key value", "RS256", k.rsa, jws.ErrKeyMismatch},
		{"RSA value, not pointer", "RS256", *pub, jws.ErrKeyMismatch},
		{"EC key for RS256", "RS256", k.p256.Public(), jws.ErrKeyMismatch},
		{"RSA key for ES256", "ES256", pub, jws.ErrKeyMismatch},
		{"P-384 key for ES256", "ES256", k.p384.Public(), jws.ErrKeyMismatch},
		{"P-256 key for ES512", "ES512", k.p256.Public(), jws.ErrKeyMismatch},
		{"Ed25519 key for PS256", "PS256", k.ed25519.Public(), jws.ErrKeyMismatch},
		{"RSA key for EdDSA", "EdDSA", pub, jws.ErrKeyMismatch},
		{"1024-bit modulus", "RS256", &k.rsa1024.PublicKey, jws.ErrWeakKey},
		{"8193-bit modulus", "RS256", huge, jws.ErrWeakKey},
		{"nil modulus", "PS256", &rsa.PublicKey{E: 65537}, jws.ErrWeakKey},
		{"exponent 1", "RS256", withE(1), jws.ErrWeakKey},
		{"exponent 0", "RS256", withE(0), jws.ErrWeakKey},
		{"negative exponent", "RS256", withE(-3), jws.ErrWeakKey},
		{"even exponent", "RS256", withE(65536), jws.ErrWeakKey},
		{"short Ed25519 key", "EdDSA", ed25519.PublicKey(make([]byte, 31)), jws.ErrWeakKey},
		{"EC key without point", "ES256", &ecdsa.PublicKey{Curve: k.p256.Curve}, jws.ErrWeakKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantReason(t, jws.VerifySignature(tt.alg, tt.key, input, sig), tt.reason)
			if err := jws.CheckKey(tt.alg, tt.key); err == nil {
				t.Error("CheckKey accepted the key")
			}
		})
	}
}

func TestVerifyRejectsSignatures(t *testing.T) {
	k := getKeys(t)
	rsIn, rsSig := signed(t, "RS256")
	esIn, esSig := signed(t, "ES256")
	edIn, edSig := signed(t, "EdDSA")
	n := k.p256.Curve.Params().N.FillBytes(make([]byte, 32))
	tests := []struct {
		name  string
		alg   string
		key   crypto.PublicKey
		input string
		sig   []byte
	}{
		{"RSA other input", "RS256", k.rsa.Public(), esIn, rsSig},
		{"RSA as PSS", "PS256", k.rsa.Public(), rsIn, rsSig},
		{"RSA other hash", "RS384", k.rsa.Public(), rsIn, rsSig},
		{"RSA leading zero", "RS256", k.rsa.Public(), rsIn, append([]byte{0}, rsSig...)},
		{"RSA truncated", "RS256", k.rsa.Public(), rsIn, rsSig[1:]},
		{"RSA empty", "RS256", k.rsa.Public(), rsIn, nil},
		{"ECDSA DER instead of r||s", "ES256", k.p256.Public(), esIn, derOf(esSig)},
		{"ECDSA one byte short", "ES256", k.p256.Public(), esIn, esSig[1:]},
		{"ECDSA one byte long", "ES256", k.p256.Public(), esIn, append([]byte{0}, esSig...)},
		{"ECDSA r zero", "ES256", k.p256.Public(), esIn, append(make([]byte, 32), esSig[32:]...)},
		{"ECDSA s zero", "ES256", k.p256.Public(), esIn, append(esSig[:32:32], make([]byte, 32)...)},
		{"ECDSA r = n", "ES256", k.p256.Public(), esIn, append(n[:32:32], esSig[32:]...)},
		{"ECDSA s = n", "ES256", k.p256.Public(), esIn, append(esSig[:32:32], n...)},
		{"ECDSA r+n overflows", "ES256", k.p256.Public(), esIn, append(bytesOf(addN(esSig[:32], n)), esSig[32:]...)},
		{"ECDSA other input", "ES256", k.p256.Public(), rsIn, esSig},
		{"Ed25519 short", "EdDSA", k.ed25519.Public(), edIn, edSig[:63]},
		{"Ed25519 other input", "EdDSA", k.ed25519.Public(), rsIn, edSig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantReason(t, jws.VerifySignature(tt.alg, tt.key, tt.input, tt.sig), jws.ErrInvalidSignature)
		})
	}
}

// High-S ECDSA signatures (s replaced by n-s) verify, as Wycheproof expects.
func TestVerifyAcceptsHighS(t *testing.T) {
	k := getKeys(t)
	in, sig := signed(t, "ES256")
	n := k.p256.Curve.Params().N
	s := new(big.Int).SetBytes(sig[32:])
	flipped := append(sig[:32:32], new(big.Int).Sub(n, s).FillBytes(make([]byte, 32))...)
	if err := jws.VerifySignature("ES256", k.p256.Public(), in, flipped); err != nil {
		t.Fatal(err)
	}
}

func derOf(rs []byte) []byte {
	half := len(rs) / 2
	r, s := new(big.Int).SetBytes(rs[:half]), new(big.Int).SetBytes(rs[half:])
	// Minimal DER by hand: enough for a test input of the wrong form.
	enc := func(v *big.Int) []byte {
		b := v.Bytes()
		if b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return append([]byte{2, byte(len(b))}, b...)
	}
	body := append(enc(r), enc(s)...)
	return append([]byte{0x30, byte(len(body))}, body...)
}

// addN returns r+n, which is a 33-byte number for P-256.
func addN(r, n []byte) *big.Int {
	return new(big.Int).Add(new(big.Int).SetBytes(r), new(big.Int).SetBytes(n))
}

// bytesOf keeps the low 32 bytes of v, as an overflowing encoder would.
func bytesOf(v *big.Int) []byte {
	b := v.Bytes()
	return b[len(b)-32:]
}

// VerifySignatureSHA256 uses the caller's SHA-256 of the signing input for
// RS256, PS256 and ES256, so a wrong one fails; other algorithms hash
// themselves and ignore it.
func TestVerifySignatureSHA256(t *testing.T) {
	var wrong [32]byte
	for _, alg := range []string{"RS256", "PS256", "ES256", "RS384", "ES384", "EdDSA"} {
		input, sig := signed(t, alg)
		pub := getKeys(t).signerFor(alg).Public()
		right := sha256.Sum256([]byte(input))
		if err := jws.VerifySignatureSHA256(alg, pub, input, &right, sig); err != nil {
			t.Errorf("%s with the right sum: %v", alg, err)
		}
		if err := jws.VerifySignatureSHA256(alg, pub, input, nil, sig); err != nil {
			t.Errorf("%s without a sum: %v", alg, err)
		}
		err := jws.VerifySignatureSHA256(alg, pub, input, &wrong, sig)
		if usesSHA256 := alg == "RS256" || alg == "PS256" || alg == "ES256"; usesSHA256 != (err != nil) {
			t.Errorf("%s with a wrong sum: %v", alg, err)
		}
	}
}
