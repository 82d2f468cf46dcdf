package jws

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"strconv"
)

// VerifySignature checks sig over signingInput with pub for alg. Supported:
// RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA. The key type
// must match the alg (RS*/PS* need *rsa.PublicKey, ES256 a P-256
// *ecdsa.PublicKey, ES384 P-384, ES512 P-521, EdDSA an ed25519.PublicKey);
// see [CheckKey] for the key policy, applied before any cryptography.
//
// PSS signatures must use MGF1 with the same hash and a salt as long as the
// hash (RFC 7518 section 3.5). ECDSA signatures are the fixed-size r||s of
// RFC 7518 section 3.4; a wrong length, or r or s equal to zero or not below
// the group order, is rejected. Both s and n-s verify (ECDSA signatures are
// malleable; the Wycheproof vectors expect high-S signatures to verify).
// EdDSA means Ed25519 only. Any failure returns an [*Error].
func VerifySignature(alg string, pub crypto.PublicKey, signingInput string, sig []byte) error {
	a, err := resolveAlg(alg)
	if err != nil {
		return err
	}
	if err := a.checkKey(pub); err != nil {
		return err
	}
	return a.verify(pub, signingInput, nil, sig)
}

// VerifySignatureSHA256 is [VerifySignature] for a caller that already
// holds sum, the SHA-256 of signingInput (for instance because it hashed
// the whole token on the way): RS256, PS256 and ES256 use it instead of
// hashing again; the other algorithms ignore it. A wrong sum only makes a
// valid signature fail.
func VerifySignatureSHA256(alg string, pub crypto.PublicKey, signingInput string, sum *[32]byte, sig []byte) error {
	a, err := resolveAlg(alg)
	if err != nil {
		return err
	}
	if err := a.checkKey(pub); err != nil {
		return err
	}
	return a.verify(pub, signingInput, sum, sig)
}

// verify checks sig; pub has passed checkKey. pre, if not nil, is the
// SHA-256 of signingInput.
func (a *algorithm) verify(pub crypto.PublicKey, signingInput string, pre *[32]byte, sig []byte) error {
	var ok bool
	switch a.fam {
	case famPKCS1:
		d := digestOf(a.hash, signingInput, pre)
		ok = rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), a.hash, d.bytes(a.hash), sig) == nil
	case famPSS:
		d := digestOf(a.hash, signingInput, pre)
		ok = rsa.VerifyPSS(pub.(*rsa.PublicKey), a.hash, d.bytes(a.hash), sig, pssOptions) == nil
	case famECDSA:
		return a.verifyECDSA(pub.(*ecdsa.PublicKey), signingInput, pre, sig)
	default:
		if len(sig) != ed25519.SignatureSize {
			return badLength(a, len(sig))
		}
		ok = ed25519.Verify(pub.(ed25519.PublicKey), stringBytes(signingInput), sig)
	}
	if !ok {
		return errMismatch
	}
	return nil
}

var (
	pssOptions  = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}
	errMismatch = fail(ErrInvalidSignature, "signature does not match")
)

func (a *algorithm) verifyECDSA(pub *ecdsa.PublicKey, signingInput string, pre *[32]byte, sig []byte) error {
	if len(sig) != 2*a.size {
		return badLength(a, len(sig))
	}
	r, s := sig[:a.size], sig[a.size:]
	if !a.inRange(r) || !a.inRange(s) {
		return fail(ErrInvalidSignature, "r or s is zero or not below the group order")
	}
	var der [2*(3+67) + 3]byte // SEQUENCE of two INTEGERs of at most 67 bytes
	d := digestOf(a.hash, signingInput, pre)
	if !ecdsa.VerifyASN1(pub, d.bytes(a.hash), appendDER(der[:0], r, s)) {
		return errMismatch
	}
	return nil
}

func badLength(a *algorithm, n int) *Error {
	return fail(ErrInvalidSignature, a.name+" signature is "+strconv.Itoa(n)+" bytes")
}

// inRange reports whether the big-endian v (a.size bytes) is in [1, n-1].
func (a *algorithm) inRange(v []byte) bool {
	zero := true
	for _, c := range v {
		if c != 0 {
			zero = false
			break
		}
	}
	if zero {
		return false
	}
	for i, c := range v { // constant-length compare with the order
		if c != a.order[i] {
			return c < a.order[i]
		}
	}
	return false // equal to n
}

// hashed holds a digest without a heap allocation.
type hashed [64]byte

func (h *hashed) bytes(hash crypto.Hash) []byte { return h[:hash.Size()] }

// digestOf is digest, taking pre (the SHA-256 of s) when hash is SHA-256
// and pre is given.
func digestOf(hash crypto.Hash, s string, pre *[32]byte) (d hashed) {
	if pre != nil && hash == crypto.SHA256 {
		copy(d[:], pre[:])
		return d
	}
	return digest(hash, s)
}

// digest hashes s with one of SHA-256, SHA-384, SHA-512.
func digest(hash crypto.Hash, s string) (d hashed) {
	b := stringBytes(s)
	switch hash {
	case crypto.SHA256:
		sum := sha256.Sum256(b)
		copy(d[:], sum[:])
	case crypto.SHA384:
		sum := sha512.Sum384(b)
		copy(d[:], sum[:])
	default:
		sum := sha512.Sum512(b)
		copy(d[:], sum[:])
	}
	return d
}
