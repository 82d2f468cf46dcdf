package jws

import "errors"

// Sentinel reasons. Every error returned by this package is an [*Error] whose
// Reason is one of these, so errors.Is(err, ErrAlgNone) works.
var (
	// ErrMalformed: the token does not have exactly three segments, or a
	// segment that must not be empty is empty. errors.Is(err, ErrMalformed)
	// is also true for ErrEncoding, ErrHeaderJSON and ErrEmptySignature.
	ErrMalformed = errors.New("jws: malformed compact token")
	// ErrEncoding: a segment is not unpadded, canonical base64url.
	ErrEncoding = errors.New("jws: invalid base64url encoding")
	// ErrHeaderJSON: the header is not a well-formed JSON object, or a
	// member has the wrong JSON type.
	ErrHeaderJSON = errors.New("jws: invalid header JSON")
	// ErrEmptySignature: the signature segment is empty.
	ErrEmptySignature = errors.New("jws: empty signature")
	// ErrTooLarge: the token is longer than MaxTokenSize.
	ErrTooLarge = errors.New("jws: token too large")
	// ErrDuplicateHeader: a header member name occurs twice.
	ErrDuplicateHeader = errors.New("jws: duplicate header member")
	// ErrMissingAlg: the header has no alg member (or an empty one).
	ErrMissingAlg = errors.New("jws: header has no alg")
	// ErrAlgNone: alg is "none" in some spelling.
	ErrAlgNone = errors.New("jws: alg none is not accepted")
	// ErrUnsupportedAlg: alg is not one of Algorithms (HMAC included).
	ErrUnsupportedAlg = errors.New("jws: unsupported alg")
	// ErrEmbeddedKey: the header carries jwk, jku, x5u or x5c.
	ErrEmbeddedKey = errors.New("jws: header names its own key")
	// ErrUnsupportedCrit: the header has crit or b64; no extension is understood.
	ErrUnsupportedCrit = errors.New("jws: header uses an extension")
	// ErrKeyMismatch: the key's type or curve does not fit the alg.
	ErrKeyMismatch = errors.New("jws: key does not fit alg")
	// ErrWeakKey: the key is of the right type but unacceptable (RSA modulus
	// outside 2048..8192 bits, even or too small exponent, incomplete key).
	ErrWeakKey = errors.New("jws: key is unacceptable")
	// ErrInvalidSignature: the signature does not verify, or has the wrong
	// length or out-of-range values for the algorithm.
	ErrInvalidSignature = errors.New("jws: invalid signature")
	// ErrSigner: the crypto.Signer failed or returned an unusable signature.
	ErrSigner = errors.New("jws: signer failed")
)

// Error describes why a token, key or signature was refused.
type Error struct {
	// Reason is one of the Err* sentinels; callers branch on it.
	Reason error
	// Detail says what exactly is wrong. It never contains key material
	// or signature bytes.
	Detail string
}

// Error implements error.
func (e *Error) Error() string {
	if e.Detail == "" {
		return e.Reason.Error()
	}
	return e.Reason.Error() + ": " + e.Detail
}

// Unwrap returns Reason.
func (e *Error) Unwrap() error { return e.Reason }

// Is makes the syntactic reasons also match ErrMalformed.
func (e *Error) Is(target error) bool {
	if target != ErrMalformed {
		return false
	}
	switch e.Reason {
	case ErrEncoding, ErrHeaderJSON, ErrEmptySignature:
		return true
	}
	return false
}

func fail(reason error, detail string) *Error {
	return &Error{Reason: reason, Detail: detail}
}
