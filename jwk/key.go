package jwk

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/keyroll/keyroll/jws"
)

// Key is a public signature-verification key from a JWKS.
type Key struct {
	KID    string // "kid"
	Kty    string // "kty": "RSA", "EC" or "OKP"
	Alg    string // "alg" as published; empty means any alg fitting the key (see DefaultAlg)
	Use    string // "use": "sig" or empty
	Issuer string // "issuer" (Entra ID publishes it per key); empty if absent

	Public  crypto.PublicKey    // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
	Certs   []*x509.Certificate // x5c, leaf first (nil if absent)
	X5T     string              // x5t as published (base64url SHA-1 of the leaf DER)
	X5TS256 string              // x5t#S256 as published
}

// Set is a JWKS document.
type Set struct {
	Keys []Key `json:"keys"`
}

// DefaultAlg returns the alg to assume for a key without one: RSA→RS256,
// EC P-256→ES256, P-384→ES384, P-521→ES512, OKP Ed25519→EdDSA; "" for any
// other key.
func DefaultAlg(k Key) string {
	switch pub := k.Public.(type) {
	case *rsa.PublicKey:
		return "RS256"
	case *ecdsa.PublicKey:
		switch pub.Curve {
		case elliptic.P256():
			return "ES256"
		case elliptic.P384():
			return "ES384"
		case elliptic.P521():
			return "ES512"
		}
	case ed25519.PublicKey:
		return "EdDSA"
	}
	return ""
}

// CheckAlg reports whether a token whose header says alg may be verified with
// k: alg must equal k.Alg when the key names one (else a [*KeyError] with
// [ErrAlgMismatch]) and must fit the key as [jws.CheckKey] decides (else its
// *jws.Error); an RSA key without alg verifies RS* and PS*. A verifier must
// call it when it picks a key, so a key published for PS512 never verifies
// an RS256 token.
func (k Key) CheckAlg(alg string) error {
	if k.Alg != "" && alg != k.Alg {
		return &KeyError{Index: -1, KID: k.KID, Reason: ErrAlgMismatch, Detail: "key is for " + k.Alg + ", token uses " + quoteShort(alg)}
	}
	return jws.CheckKey(alg, k.Public)
}

// Verify checks the signature of a parsed token with k: [Key.CheckAlg] for
// the token's alg, then [jws.VerifySignature].
func (k Key) Verify(t *jws.Token) error {
	if err := k.CheckAlg(t.Header.Alg); err != nil {
		return err
	}
	return jws.VerifySignature(t.Header.Alg, k.Public, t.SigningInput, t.Signature)
}

// SHA1Thumbprint returns the SHA-1 of a certificate's DER as upper-case hex,
// the form Microsoft tools print and AD FS and WIF configurations hold.
func SHA1Thumbprint(der []byte) string {
	sum := sha1.Sum(der)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// SHA256Thumbprint returns the SHA-256 of a certificate's DER as upper-case hex.
func SHA256Thumbprint(der []byte) string {
	sum := sha256.Sum256(der)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// quoteShort quotes a publisher- or attacker-chosen string for an error.
func quoteShort(s string) string {
	if len(s) > 32 {
		s = s[:32] + "..."
	}
	return strconv.Quote(s)
}
