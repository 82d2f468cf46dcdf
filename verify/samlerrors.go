package verify

import "errors"

// Reasons a SAML 2.0 response or WS-Federation token is rejected, one per
// check, so that each can be tested with errors.Is. Time, audience and
// issuer failures use the struct errors shared with JWTs
// ([*ExpiredError], [*NotYetValidError], [*AudienceError],
// [*IssuerError]); an unknown signing certificate is an
// [*UnknownKeyError]; a signature method that does not fit the signing
// certificate's key type (an ECDSA method with an RSA certificate, or the
// reverse) is [ErrKeyMismatch].
var (
	// ErrSAMLMalformed: not well-formed XML of an accepted shape, too large,
	// or carrying a DOCTYPE, a comment or a processing instruction (which
	// canonicalisation would drop from what is signed).
	ErrSAMLMalformed = errors.New("verify: malformed SAML")
	// ErrSAMLUnsupported: a SAML 1.1 assertion or an encrypted assertion.
	ErrSAMLUnsupported = errors.New("verify: unsupported SAML token")
	// ErrSAMLAssertionCount: the document holds no assertion or more than one.
	ErrSAMLAssertionCount = errors.New("verify: a SAML response must hold exactly one assertion")
	// ErrSAMLDuplicateID: two elements carry the same ID.
	ErrSAMLDuplicateID = errors.New("verify: duplicate ID in SAML document")
	// ErrSAMLStructure: the assertion is not where the protocol puts it
	// (a child of the Response, or of WS-Trust RequestedSecurityToken).
	ErrSAMLStructure = errors.New("verify: SAML assertion out of place")
	// ErrSAMLUnsigned: neither the assertion nor the response carries an
	// enveloped signature.
	ErrSAMLUnsigned = errors.New("verify: SAML assertion is not signed")
	// ErrSAMLReference: the signature does not reference exactly the
	// element it is enveloped in, by its ID.
	ErrSAMLReference = errors.New("verify: SAML signature does not cover its element")
	// ErrSAMLAlgorithm: a signature, digest, canonicalisation or transform
	// algorithm outside the allow-list.
	ErrSAMLAlgorithm = errors.New("verify: SAML signature algorithm not allowed")
	// ErrSAMLRecipient: the Recipient or Destination is not this service's
	// assertion consumer URL.
	ErrSAMLRecipient = errors.New("verify: SAML recipient mismatch")
	// ErrSAMLInResponseTo: the response answers another request.
	ErrSAMLInResponseTo = errors.New("verify: SAML InResponseTo mismatch")
	// ErrSAMLSubjectConfirmation: no bearer SubjectConfirmation that holds now.
	ErrSAMLSubjectConfirmation = errors.New("verify: no valid bearer subject confirmation")
	// ErrSAMLStatus: the response's status is not Success.
	ErrSAMLStatus = errors.New("verify: SAML response status is not success")
	// ErrSAMLReplay: this assertion was accepted before.
	ErrSAMLReplay = errors.New("verify: SAML assertion replayed")
)
