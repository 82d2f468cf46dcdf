// Package credential makes and checks the issuer's secrets: random
// values, client ids and client secrets (kept as SHA-256, compared in
// constant time) and argon2id password hashes.
package credential

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
)

// Random returns n random bytes in base64url without padding.
func Random(n int) string {
	b := make([]byte, n)
	rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// Sizes of the random values the issuer hands out.
const (
	clientIDBytes = 16 // client ids: 32 hex digits
	secretBytes   = 32 // client secrets: 256 bits
)

// NewClientID returns a fresh client id: 32 lower-case hex digits.
func NewClientID() string {
	b := make([]byte, clientIDBytes)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// NewClientSecret returns a fresh client secret and the SHA-256 the store
// keeps. A 256-bit random secret needs no slow hash: SHA-256 of it cannot
// be reversed by guessing.
func NewClientSecret() (secret string, hash []byte) {
	secret = Random(secretBytes)
	return secret, SecretHash(secret)
}

// SecretHash is what the store keeps of a client secret.
func SecretHash(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// SecretMatches compares a presented client secret with a stored hash in
// constant time.
func SecretMatches(presented string, hash []byte) bool {
	return len(hash) == sha256.Size && subtle.ConstantTimeCompare(SecretHash(presented), hash) == 1
}
