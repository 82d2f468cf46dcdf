package jws_test

import (
	"crypto"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/keyroll/keyroll/jws"
)

// Sign, Parse and VerifySignature agree for every algorithm.
func TestRoundTrip(t *testing.T) {
	k := getKeys(t)
	for _, alg := range jws.Algorithms() {
		t.Run(alg, func(t *testing.T) {
			signer := k.signerFor(alg)
			h := jws.Header{Alg: alg, Kid: "key-1", Typ: "JWT"}
			token, err := jws.Sign(signer, h, []byte(`{"sub":"alice"}`))
			if err != nil {
				t.Fatal(err)
			}
			tok, err := jws.Parse(token)
			if err != nil {
				t.Fatal(err)
			}
			if tok.Header.Alg != alg || tok.Header.Kid != "key-1" || tok.Header.Typ != "JWT" || string(tok.Payload) != `{"sub":"alice"}` {
				t.Fatalf("parsed %+v %q", tok.Header, tok.Payload)
			}
			if err := jws.VerifySignature(alg, signer.Public(), tok.SigningInput, tok.Signature); err != nil {
				t.Fatalf("verify: %v", err)
			}
			tampered := strings.Replace(tok.SigningInput, ".", ".e30", 1)
			err = jws.VerifySignature(alg, signer.Public(), tampered, tok.Signature)
			wantReason(t, err, jws.ErrInvalidSignature)
		})
	}
}

// ECDSA signatures are fixed-size r||s.
func TestSignECDSALength(t *testing.T) {
	k := getKeys(t)
	for alg, size := range map[string]int{"ES256": 64, "ES384": 96, "ES512": 132} {
		for range 20 { // leading zero bytes in r or s must still give full length
			token, err := jws.Sign(k.signerFor(alg), jws.Header{Alg: alg}, nil)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := jws.Parse(token)
			if err != nil {
				t.Fatal(err)
			}
			if len(tok.Signature) != size {
				t.Fatalf("%s signature is %d bytes, want %d", alg, len(tok.Signature), size)
			}
		}
	}
}

// Header strings survive escaping: Sign then Parse gives them back.
func TestSignHeaderEscaping(t *testing.T) {
	k := getKeys(t)
	h := jws.Header{Alg: "EdDSA", Kid: "quote\" back\\slash \x00\x1f\n tab\t é 😀 </script>", Typ: "at+jwt", Cty: "JWT", X5t: "x", X5tS256: "y"}
	token, err := jws.Sign(k.ed25519, h, []byte("payload"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.Parse(token)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Header.Kid != h.Kid || tok.Header.Typ != h.Typ || tok.Header.Cty != h.Cty || tok.Header.X5t != h.X5t || tok.Header.X5tS256 != h.X5tS256 {
		t.Errorf("header = %+v, want %+v", tok.Header, h)
	}
	if want := `{"alg":"EdDSA","kid":`; !strings.HasPrefix(string(tok.RawHeader), want) {
		t.Errorf("raw header %s does not start with %s", tok.RawHeader, want)
	}
}

func TestSignRejects(t *testing.T) {
	k := getKeys(t)
	tests := []struct {
		name    string
		key     crypto.Signer
		h       jws.Header
		payload []byte
		reason  error
	}{
		{"no alg", k.rsa, jws.Header{}, nil, jws.ErrMissingAlg},
		{"alg none", k.rsa, jws.Header{Alg: "none"}, nil, jws.ErrAlgNone},
		{"HMAC", k.rsa, jws.Header{Alg: "HS256"}, nil, jws.ErrUnsupportedAlg},
		{"crit", k.rsa, jws.Header{Alg: "RS256", Crit: []string{"exp"}}, nil, jws.ErrUnsupportedCrit},
		{"RSA alg with EC key", k.p256, jws.Header{Alg: "RS256"}, nil, jws.ErrKeyMismatch},
		{"ES256 with P-384 key", k.p384, jws.Header{Alg: "ES256"}, nil, jws.ErrKeyMismatch},
		{"EdDSA with RSA key", k.rsa, jws.Header{Alg: "EdDSA"}, nil, jws.ErrKeyMismatch},
		{"1024-bit RSA", k.rsa1024, jws.Header{Alg: "RS256"}, nil, jws.ErrWeakKey},
		{"nil signer", nil, jws.Header{Alg: "RS256"}, nil, jws.ErrKeyMismatch},
		{"invalid UTF-8 kid", k.rsa, jws.Header{Alg: "PS256", Kid: "\xff"}, nil, jws.ErrHeaderJSON},
		{"too large", k.ed25519, jws.Header{Alg: "EdDSA"}, make([]byte, jws.MaxTokenSize), jws.ErrTooLarge},
		{"signer fails", failingSigner{k.p256}, jws.Header{Alg: "ES256"}, nil, jws.ErrSigner},
		{"signer returns garbage", garbageSigner{k.rsa}, jws.Header{Alg: "RS256"}, nil, jws.ErrSigner},
		{"ECDSA signer returns non-DER", garbageSigner{k.p256}, jws.Header{Alg: "ES256"}, nil, jws.ErrSigner},
		{"signer's key differs from its Public", swappedSigner{k.p256b, k.p256.Public()}, jws.Header{Alg: "ES256"}, nil, jws.ErrSigner},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, err := jws.Sign(tt.key, tt.h, tt.payload)
			if token != "" {
				t.Errorf("token = %q, want none", token)
			}
			wantReason(t, err, tt.reason)
		})
	}
}

type failingSigner struct{ crypto.Signer }

func (failingSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("HSM offline")
}

type garbageSigner struct{ crypto.Signer }

func (g garbageSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return make([]byte, 256), nil
}

// swappedSigner signs with one key but reports another's public key.
type swappedSigner struct {
	crypto.Signer
	pub crypto.PublicKey
}

func (s swappedSigner) Public() crypto.PublicKey { return s.pub }
