package jwk

import (
	"errors"
	"strconv"
	"strings"
)

// Errors for a document that is not a key set.
var (
	// ErrNotJWKS: the document is not a JSON object with a "keys" array.
	ErrNotJWKS = errors.New("jwk: not a JWK set")
	// ErrTooLarge: the document is longer than MaxSetSize.
	ErrTooLarge = errors.New("jwk: document too large")
)

// Reasons a single key is refused; a [*KeyError] carries one of them.
var (
	// ErrMalformed: not a JSON object, a member of the wrong type, bad
	// base64url, wrong coordinate sizes, an EC point off its curve, a bad
	// x5c certificate or thumbprint.
	ErrMalformed = errors.New("jwk: malformed key")
	// ErrDuplicateMember: a member name occurs twice in the key object.
	ErrDuplicateMember = errors.New("jwk: duplicate member in key")
	// ErrSymmetric: kty "oct"; keyroll uses public keys only.
	ErrSymmetric = errors.New("jwk: symmetric key")
	// ErrPrivate: private key members (d, p, q, dp, dq, qi, oth) are present.
	ErrPrivate = errors.New("jwk: key contains private members")
	// ErrUnsupported: a kty other than RSA, EC, OKP, or a curve other than
	// P-256, P-384, P-521, Ed25519.
	ErrUnsupported = errors.New("jwk: unsupported key type or curve")
	// ErrNotForSigning: use is not "sig", or key_ops lacks "verify".
	ErrNotForSigning = errors.New("jwk: key is not for signature verification")
	// ErrUnsupportedAlg: alg names no algorithm keyroll verifies.
	ErrUnsupportedAlg = errors.New("jwk: unsupported alg")
	// ErrAlgMismatch: alg does not fit the key type or curve, or (from
	// Key.CheckAlg) a token's alg differs from the key's.
	ErrAlgMismatch = errors.New("jwk: alg does not fit the key")
	// ErrWeakKey: an RSA modulus outside 2048..8192 bits, an exponent that
	// is even, 1 or over 32 bits, or a modulus with the ROCA fingerprint.
	ErrWeakKey = errors.New("jwk: weak key")
	// ErrCertMismatch: the x5c leaf holds another key, or x5t / x5t#S256
	// is not the leaf's thumbprint.
	ErrCertMismatch = errors.New("jwk: certificate does not match the key")
	// ErrDuplicateKID: another key in the set has the same kid but a
	// different public key.
	ErrDuplicateKID = errors.New("jwk: kid shared by different keys")
)

// KeyError says why one key was refused.
type KeyError struct {
	Index  int    // position in the set's "keys" array; -1 for ParseKey
	KID    string // the key's kid, if it could be read
	Reason error  // one of the Err* reasons above
	Detail string // what exactly is wrong; never key material
}

// Error implements error.
func (e *KeyError) Error() string {
	var where []string
	if e.Index >= 0 {
		where = append(where, "key "+strconv.Itoa(e.Index))
	}
	if e.KID != "" {
		kid := e.KID
		if len(kid) > 64 {
			kid = kid[:64] + "..."
		}
		where = append(where, "kid "+strconv.Quote(kid))
	}
	s := e.Reason.Error()
	if len(where) > 0 {
		s += " (" + strings.Join(where, ", ") + ")"
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap returns Reason.
func (e *KeyError) Unwrap() error { return e.Reason }

func keyErr(reason error, detail string) *KeyError {
	return &KeyError{Index: -1, Reason: reason, Detail: detail}
}
