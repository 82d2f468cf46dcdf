package saml

import (
	"crypto/x509"
	"fmt"

	"github.com/beevik/etree"

	"github.com/keyroll/keyroll/internal/xmlsafe"
)

// ParsePostRequest reads an AuthnRequest of the HTTP-POST binding from the
// SAMLRequest form value (base64 of the XML, line breaks allowed). A
// ds:Signature, if present, must be enveloped in the root, reference the
// root's unique ID and verify under one of certs (see verifyEnveloped); the
// fields are then read from the element the verifier returns, never from the
// original tree. Without a signature, requireSigned gives ErrUnsigned.
func ParsePostRequest(samlRequestB64 string, certs []*x509.Certificate, requireSigned bool) (*AuthnRequest, error) {
	if len(samlRequestB64) > MaxEncodedSize {
		return nil, fmt.Errorf("%w: SAMLRequest of %d bytes, limit %d", ErrTooLarge, len(samlRequestB64), MaxEncodedSize)
	}
	data, err := decodeBase64("SAMLRequest", samlRequestB64)
	if err != nil {
		return nil, err
	}
	root, err := readXML(data, requestLimits, NSProtocol, "AuthnRequest")
	if err != nil {
		return nil, err
	}
	sigs := 0
	xmlsafe.Walk(root, func(e *etree.Element) error {
		if xmlsafe.Is(e, NSDSig, "Signature") {
			sigs++
		}
		return nil
	})
	if sigs == 0 {
		if requireSigned {
			return nil, fmt.Errorf("%w: the POST request has no ds:Signature", ErrUnsigned)
		}
		return readAuthnRequest(root)
	}
	verified, err := verifyEnveloped(root, certs)
	if err != nil {
		return nil, err
	}
	req, err := readAuthnRequest(verified)
	if err != nil {
		return nil, err
	}
	req.Signed = true
	return req, nil
}
