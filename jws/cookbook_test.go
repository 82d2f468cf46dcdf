package jws_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"math/big"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyroll/keyroll/jwk"
	"github.com/keyroll/keyroll/jws"
)

// RFC 7520 section 4 examples (ietf-jose/cookbook). keyroll parses compact
// serialization only: the JSON and flattened JSON serializations, detached
// content and unprotected headers are out of scope, so those forms are
// checked to be refused and their signatures are checked in compact form
// where one exists.

type signing struct {
	ProtectedB64 string            `json:"protected_b64u"`
	Unprotected  map[string]string `json:"unprotected"`
	SigInput     string            `json:"sig-input"`
	Sig          string            `json:"sig"`
}

type cookbook struct {
	Input struct {
		Payload string          `json:"payload"`
		Key     json.RawMessage `json:"key"`
	} `json:"input"`
	Signing json.RawMessage `json:"signing"`
	Output  struct {
		Compact  string          `json:"compact"`
		JSON     json.RawMessage `json:"json"`
		JSONFlat json.RawMessage `json:"json_flat"`
	} `json:"output"`
}

func loadCookbook(t *testing.T, name string) cookbook {
	t.Helper()
	var c cookbook
	readJSON(t, filepath.Join(fixtures(t), "jose-cookbook", "jws", name), &c)
	return c
}

// publicJWK parses a cookbook key after checking that the private key as
// given is refused, then dropping its private members.
func publicJWK(t *testing.T, raw json.RawMessage) jwk.Key {
	t.Helper()
	if _, err := jwk.ParseKey(raw); !errors.Is(err, jwk.ErrPrivate) {
		t.Fatalf("private JWK: %v, want ErrPrivate", err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"d", "p", "q", "dp", "dq", "qi"} {
		delete(m, p)
	}
	pub, _ := json.Marshal(m)
	k, err := jwk.ParseKey(pub)
	if err != nil {
		t.Fatalf("public JWK: %v", err)
	}
	return k
}

func TestCookbookCompactVerifies(t *testing.T) {
	for _, name := range []string{"4_1.rsa_v15_signature.json", "4_2.rsa-pss_signature.json", "4_3.ecdsa_signature.json"} {
		t.Run(name, func(t *testing.T) {
			c := loadCookbook(t, name)
			key := publicJWK(t, c.Input.Key)
			tok, err := jws.Parse(c.Output.Compact)
			if err != nil {
				t.Fatal(err)
			}
			if string(tok.Payload) != c.Input.Payload || tok.Header.Kid != "bilbo.baggins@hobbiton.example" {
				t.Errorf("payload %q kid %q", tok.Payload, tok.Header.Kid)
			}
			if err := key.Verify(tok); err != nil {
				t.Fatalf("verify: %v", err)
			}
			if err := jws.VerifySignature(tok.Header.Alg, key.Public, tok.SigningInput+"x", tok.Signature); err == nil {
				t.Error("modified signing input verified")
			}
		})
	}
}

// RSASSA-PKCS1-v1_5 is deterministic: signing the RFC's header and payload
// with the RFC's private key must give the RFC's token byte for byte.
func TestCookbookSignReproducesRS256(t *testing.T) {
	c := loadCookbook(t, "4_1.rsa_v15_signature.json")
	priv := rsaPrivate(t, c.Input.Key)
	got, err := jws.Sign(priv, jws.Header{Alg: "RS256", Kid: "bilbo.baggins@hobbiton.example"}, []byte(c.Input.Payload))
	if err != nil {
		t.Fatal(err)
	}
	if got != c.Output.Compact {
		t.Errorf("Sign = %s\nwant   %s", got, c.Output.Compact)
	}
}

// ECDSA is randomised; a token signed with the RFC's P-521 key verifies with
// the RFC's public key.
func TestCookbookSignES512(t *testing.T) {
	c := loadCookbook(t, "4_3.ecdsa_signature.json")
	var m map[string]string
	if err := json.Unmarshal(c.Input.Key, &m); err != nil {
		t.Fatal(err)
	}
	priv, err := ecdsa.ParseRawPrivateKey(elliptic.P521(), b64d(t, m["d"]))
	if err != nil {
		t.Fatal(err)
	}
	token, err := jws.Sign(priv, jws.Header{Alg: "ES512"}, []byte(c.Input.Payload))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.Parse(token)
	if err != nil {
		t.Fatal(err)
	}
	if err := publicJWK(t, c.Input.Key).Verify(tok); err != nil {
		t.Fatal(err)
	}
}

func TestCookbookHMACRefused(t *testing.T) {
	for _, name := range []string{"4_4.hmac-sha2_integrity_protection.json", "4_5.signature_with_detached_content.json"} {
		c := loadCookbook(t, name)
		if _, err := jws.Parse(c.Output.Compact); !errors.Is(err, jws.ErrUnsupportedAlg) {
			t.Errorf("%s: %v, want ErrUnsupportedAlg", name, err)
		}
	}
}

// No JSON serialization is accepted by Parse.
func TestCookbookJSONSerializationRefused(t *testing.T) {
	names := []string{"4_1.rsa_v15_signature.json", "4_2.rsa-pss_signature.json", "4_3.ecdsa_signature.json",
		"4_4.hmac-sha2_integrity_protection.json", "4_5.signature_with_detached_content.json",
		"4_6.protecting_specific_header_fields.json", "4_7.protecting_content_only.json", "4_8.multiple_signatures.json"}
	for _, name := range names {
		c := loadCookbook(t, name)
		for _, doc := range []json.RawMessage{c.Output.JSON, c.Output.JSONFlat} {
			if doc == nil {
				continue
			}
			if _, err := jws.Parse(string(doc)); !errors.Is(err, jws.ErrMalformed) {
				t.Errorf("%s: JSON serialization: %v, want a malformed-token error", name, err)
			}
		}
	}
}

// 4.6 and 4.7 protect only some or no header fields; their compact forms are
// an HMAC token and a token without a protected header.
func TestCookbookUnprotectedHeaders(t *testing.T) {
	c := loadCookbook(t, "4_6.protecting_specific_header_fields.json")
	var s signing
	if err := json.Unmarshal(c.Signing, &s); err != nil {
		t.Fatal(err)
	}
	if _, err := jws.Parse(s.SigInput + "." + s.Sig); !errors.Is(err, jws.ErrUnsupportedAlg) {
		t.Errorf("4.6 compact: %v, want ErrUnsupportedAlg", err)
	}
	c = loadCookbook(t, "4_7.protecting_content_only.json")
	if err := json.Unmarshal(c.Signing, &s); err != nil {
		t.Fatal(err)
	}
	wantReason(t, parseErr(s.SigInput+"."+s.Sig), jws.ErrMalformed)
}

// 4.8 signs one payload three times: RS256 with a protected header, ES512
// with only an unprotected header, HS256.
func TestCookbookMultipleSignatures(t *testing.T) {
	c := loadCookbook(t, "4_8.multiple_signatures.json")
	var sigs []signing
	var rawKeys []json.RawMessage
	if err := json.Unmarshal(c.Signing, &sigs); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(c.Input.Key, &rawKeys); err != nil || len(sigs) != 3 || len(rawKeys) != 3 {
		t.Fatalf("unexpected fixture shape: %v", err)
	}
	rsaKey, ecKey := publicJWK(t, rawKeys[0]), publicJWK(t, rawKeys[1])

	tok, err := jws.Parse(sigs[0].SigInput + "." + sigs[0].Sig)
	if err != nil {
		t.Fatal(err)
	}
	if err := rsaKey.Verify(tok); err != nil {
		t.Errorf("RS256 signature in compact form: %v", err)
	}

	// Without a protected header there is no compact form keyroll accepts,
	// but the signature itself verifies over the RFC's signing input.
	wantReason(t, parseErr(sigs[1].SigInput+"."+sigs[1].Sig), jws.ErrMalformed)
	if err := jws.VerifySignature("ES512", ecKey.Public, sigs[1].SigInput, b64d(t, sigs[1].Sig)); err != nil {
		t.Errorf("ES512 signature: %v", err)
	}

	wantReason(t, parseErr(sigs[2].SigInput+"."+sigs[2].Sig), jws.ErrUnsupportedAlg)
}

func parseErr(token string) error {
	_, err := jws.Parse(token)
	return err
}

func b64d(t *testing.T, s string) []byte {
	t.Helper()
	b, err := b64.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rsaPrivate builds an RSA private key from a JWK's n, e, d, p, q.
func rsaPrivate(t *testing.T, raw json.RawMessage) *rsa.PrivateKey {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	num := func(name string) *big.Int { return new(big.Int).SetBytes(b64d(t, m[name])) }
	priv := &rsa.PrivateKey{
		PublicKey: rsa.PublicKey{N: num("n"), E: int(num("e").Int64())},
		D:         num("d"),
		Primes:    []*big.Int{num("p"), num("q")},
	}
	priv.Precompute()
	if err := priv.Validate(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m["kid"], "bilbo") {
		t.Fatalf("unexpected key %q", m["kid"])
	}
	return priv
}
