package saml

import (
	"errors"

	"github.com/keyroll/keyroll/internal/xmlsafe"
)

// Sentinel errors. Returned errors wrap one of these (test with errors.Is)
// and say what exactly was wrong.
var (
	// ErrMalformed: the message is not well-formed XML, not of the expected
	// shape, or not correctly encoded for its binding.
	ErrMalformed = errors.New("saml: malformed message")
	// ErrTooLarge: the message exceeds a size or element-count limit
	// (also matches xmlsafe.ErrTooLarge).
	ErrTooLarge = errors.New("saml: message too large")
	// ErrDTD: the message holds a DTD or markup declaration (also matches
	// xmlsafe.ErrDTD).
	ErrDTD = errors.New("saml: DTD or markup declaration not allowed")
	// ErrUnsigned: a signature is required and the message has none.
	ErrUnsigned = errors.New("saml: message is not signed")
	// ErrBadSignature: the signature does not verify under any of the given
	// certificates, or is placed or formed so that it would not cover what
	// is read (signature wrapping).
	ErrBadSignature = errors.New("saml: bad signature")
	// ErrUnsupportedAlgorithm: the signature or digest algorithm is not on
	// the allow-list.
	ErrUnsupportedAlgorithm = errors.New("saml: unsupported signature algorithm")
	// ErrUnsupportedKey: a Signer's key cannot sign (not RSA of 2048 bits or
	// more, nor ECDSA P-256) or does not match its certificate.
	ErrUnsupportedKey = errors.New("saml: unsupported signing key")
	// ErrInvalid: a value given to a Build function cannot be written (a
	// required field is empty, a time is missing or out of order, text
	// holds characters XML cannot carry).
	ErrInvalid = errors.New("saml: invalid message content")
)

var xmlsafeLabels = map[error]error{
	xmlsafe.ErrTooLarge:  ErrTooLarge,
	xmlsafe.ErrDTD:       ErrDTD,
	xmlsafe.ErrMalformed: ErrMalformed,
}
