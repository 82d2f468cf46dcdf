package jwk_test

import (
	"crypto/rsa"
	"errors"
	"strings"
	"testing"

	"github.com/keyroll/keyroll/jwk"
	"github.com/keyroll/keyroll/jws"
)

func TestCheckAlg(t *testing.T) {
	rsaKey := jwk.Key{KID: "r", Public: key(t, "RSA").Public()}
	pinned := jwk.Key{KID: "p", Alg: "PS512", Public: key(t, "RSA").Public()}
	ec := jwk.Key{KID: "e", Public: key(t, "P-256").Public()}
	tests := []struct {
		name   string
		k      jwk.Key
		alg    string
		reason error // nil: accepted
	}{
		{"RSA without alg, RS256", rsaKey, "RS256", nil},
		{"RSA without alg, PS384", rsaKey, "PS384", nil},
		{"RSA without alg, ES256", rsaKey, "ES256", jws.ErrKeyMismatch},
		{"RSA without alg, HS256", rsaKey, "HS256", jws.ErrUnsupportedAlg},
		{"pinned PS512", pinned, "PS512", nil},
		{"pinned PS512, RS256", pinned, "RS256", jwk.ErrAlgMismatch},
		{"P-256, ES256", ec, "ES256", nil},
		{"P-256, ES384", ec, "ES384", jws.ErrKeyMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.k.CheckAlg(tt.alg)
			if tt.reason == nil && err != nil || tt.reason != nil && !errors.Is(err, tt.reason) {
				t.Errorf("CheckAlg(%s) = %v, want %v", tt.alg, err, tt.reason)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	signer := key(t, "RSA")
	token, err := jws.Sign(signer, jws.Header{Alg: "RS256", Kid: "r"}, []byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.Parse(token)
	if err != nil {
		t.Fatal(err)
	}
	if err := (jwk.Key{Public: signer.Public()}).Verify(tok); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if err := (jwk.Key{Alg: "PS256", Public: signer.Public()}).Verify(tok); !errors.Is(err, jwk.ErrAlgMismatch) {
		t.Errorf("Verify with a PS256 key: %v", err)
	}
	other := &rsa.PublicKey{N: key(t, "RSA").Public().(*rsa.PublicKey).N, E: 3}
	if err := (jwk.Key{Public: other}).Verify(tok); !errors.Is(err, jws.ErrInvalidSignature) {
		t.Errorf("Verify with another key: %v", err)
	}
}

func TestKeyErrorMessage(t *testing.T) {
	err := &jwk.KeyError{Index: 3, KID: strings.Repeat("k", 100), Reason: jwk.ErrWeakKey, Detail: "RSA modulus is 1024 bits"}
	msg := err.Error()
	if !strings.Contains(msg, "key 3") || !strings.Contains(msg, "1024 bits") || strings.Contains(msg, strings.Repeat("k", 65)) {
		t.Errorf("message %q", msg)
	}
	if got := (&jwk.KeyError{Index: -1, Reason: jwk.ErrPrivate}).Error(); got != jwk.ErrPrivate.Error() {
		t.Errorf("bare message %q", got)
	}
}
