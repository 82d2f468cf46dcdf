package jwk

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"math/big"
)

// Thumbprint returns the RFC 7638 thumbprint of pub: the base64url SHA-256
// of its required JWK members in lexicographic order, without whitespace.
// Keys other than RSA, ECDSA (P-256/384/521) and Ed25519 give ErrUnsupported.
func Thumbprint(pub crypto.PublicKey) (string, error) {
	b64 := base64.RawURLEncoding.EncodeToString
	var s string
	switch k := pub.(type) {
	case *rsa.PublicKey:
		s = `{"e":"` + b64(big.NewInt(int64(k.E)).Bytes()) + `","kty":"RSA","n":"` + b64(k.N.Bytes()) + `"}`
	case *ecdsa.PublicKey:
		size := (k.Curve.Params().BitSize + 7) / 8
		raw, err := k.Bytes() // 0x04 || X || Y
		if err != nil {
			return "", ErrUnsupported
		}
		s = `{"crv":"` + k.Curve.Params().Name + `","kty":"EC","x":"` + b64(raw[1:1+size]) + `","y":"` + b64(raw[1+size:]) + `"}`
	case ed25519.PublicKey:
		s = `{"crv":"Ed25519","kty":"OKP","x":"` + b64(k) + `"}`
	default:
		return "", ErrUnsupported
	}
	sum := sha256.Sum256([]byte(s))
	return b64(sum[:]), nil
}
