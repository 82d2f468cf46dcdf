package jws

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"strconv"
)

// RSA modulus sizes accepted for verification and signing, in bits.
const (
	MinRSABits = 2048
	MaxRSABits = 8192
)

type family uint8

const (
	famPKCS1 family = iota + 1 // RSASSA-PKCS1-v1_5
	famPSS                     // RSASSA-PSS, MGF1 with the same hash, salt = hash size
	famECDSA                   // ECDSA, signature is fixed-size r||s
	famEdDSA                   // Ed25519
)

type algorithm struct {
	name  string
	fam   family
	hash  crypto.Hash    // zero for EdDSA (signs the message itself)
	curve elliptic.Curve // ECDSA only
	size  int            // ECDSA only: bytes of r and of s
	order []byte         // ECDSA only: the group order n, size bytes big-endian
}

var (
	algRS256 = &algorithm{name: "RS256", fam: famPKCS1, hash: crypto.SHA256}
	algRS384 = &algorithm{name: "RS384", fam: famPKCS1, hash: crypto.SHA384}
	algRS512 = &algorithm{name: "RS512", fam: famPKCS1, hash: crypto.SHA512}
	algPS256 = &algorithm{name: "PS256", fam: famPSS, hash: crypto.SHA256}
	algPS384 = &algorithm{name: "PS384", fam: famPSS, hash: crypto.SHA384}
	algPS512 = &algorithm{name: "PS512", fam: famPSS, hash: crypto.SHA512}
	algES256 = ecAlg("ES256", crypto.SHA256, elliptic.P256(), 32)
	algES384 = ecAlg("ES384", crypto.SHA384, elliptic.P384(), 48)
	algES512 = ecAlg("ES512", crypto.SHA512, elliptic.P521(), 66)
	algEdDSA = &algorithm{name: "EdDSA", fam: famEdDSA}
)

func ecAlg(name string, h crypto.Hash, c elliptic.Curve, size int) *algorithm {
	order := c.Params().N.FillBytes(make([]byte, size))
	return &algorithm{name: name, fam: famECDSA, hash: h, curve: c, size: size, order: order}
}

// lookupAlg returns the algorithm called name, or nil.
func lookupAlg(name string) *algorithm {
	switch name {
	case "RS256":
		return algRS256
	case "RS384":
		return algRS384
	case "RS512":
		return algRS512
	case "PS256":
		return algPS256
	case "PS384":
		return algPS384
	case "PS512":
		return algPS512
	case "ES256":
		return algES256
	case "ES384":
		return algES384
	case "ES512":
		return algES512
	case "EdDSA":
		return algEdDSA
	}
	return nil
}

// Algorithms returns the names of the supported algorithms.
func Algorithms() []string {
	return []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
}

// Supported reports whether alg is one of [Algorithms].
func Supported(alg string) bool { return lookupAlg(alg) != nil }

// resolveAlg maps an alg name to its algorithm or an error saying why not.
func resolveAlg(name string) (*algorithm, error) {
	if a := lookupAlg(name); a != nil {
		return a, nil
	}
	return nil, algError(name)
}

// algError classifies an alg name that lookupAlg does not know.
func algError(name string) *Error {
	switch {
	case name == "":
		return fail(ErrMissingAlg, "")
	case isNone(name):
		return fail(ErrAlgNone, "")
	}
	return fail(ErrUnsupportedAlg, strconv.Quote(truncate(name)))
}

// isNone reports whether s is "none" in any letter case.
func isNone(s string) bool {
	if len(s) != 4 {
		return false
	}
	for i := 0; i < 4; i++ {
		if s[i]|0x20 != "none"[i] {
			return false
		}
	}
	return true
}

// truncate keeps attacker-chosen strings in error messages short.
func truncate(s string) string {
	const max = 32
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}

// CheckKey reports whether pub may be used with alg: the algorithm must be
// supported, the key type must match it (RS*/PS* need *rsa.PublicKey, ES256
// a P-256 *ecdsa.PublicKey, ES384 P-384, ES512 P-521, EdDSA an
// ed25519.PublicKey) and an RSA key must have a 2048..8192-bit modulus and an
// odd exponent greater than 1. These are the checks [VerifySignature] makes
// before any cryptography.
func CheckKey(alg string, pub crypto.PublicKey) error {
	a, err := resolveAlg(alg)
	if err != nil {
		return err
	}
	return a.checkKey(pub)
}

func (a *algorithm) checkKey(pub crypto.PublicKey) error {
	switch a.fam {
	case famPKCS1, famPSS:
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return keyMismatch(a, pub)
		}
		return checkRSA(k)
	case famECDSA:
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok || k.Curve != a.curve {
			return keyMismatch(a, pub)
		}
		if k.X == nil || k.Y == nil {
			return fail(ErrWeakKey, "ECDSA key has no point")
		}
		return nil
	default:
		k, ok := pub.(ed25519.PublicKey)
		if !ok {
			return keyMismatch(a, pub)
		}
		if len(k) != ed25519.PublicKeySize {
			return fail(ErrWeakKey, "Ed25519 key is "+strconv.Itoa(len(k))+" bytes")
		}
		return nil
	}
}

// checkRSA applies keyroll's RSA key policy.
func checkRSA(k *rsa.PublicKey) error {
	if k == nil || k.N == nil {
		return fail(ErrWeakKey, "RSA key has no modulus")
	}
	if bits := k.N.BitLen(); bits < MinRSABits || bits > MaxRSABits {
		return fail(ErrWeakKey, "RSA modulus is "+strconv.Itoa(bits)+" bits, want 2048..8192")
	}
	if k.E <= 1 || k.E%2 == 0 {
		return fail(ErrWeakKey, "RSA exponent "+strconv.Itoa(k.E)+" is not odd and greater than 1")
	}
	return nil
}

func keyMismatch(a *algorithm, pub crypto.PublicKey) *Error {
	return fail(ErrKeyMismatch, a.name+" cannot use "+describeKey(pub))
}

// describeKey names a key's type for error messages.
func describeKey(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return "an RSA key"
	case *ecdsa.PublicKey:
		if k.Curve == nil {
			return "an ECDSA key without curve"
		}
		return "an ECDSA " + k.Curve.Params().Name + " key"
	case ed25519.PublicKey:
		return "an Ed25519 key"
	case nil:
		return "a nil key"
	}
	return "a key of unsupported type"
}
