package saml

import (
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/keyroll/keyroll/internal/xmlsafe"
)

// Algorithms accepted in enveloped signatures of incoming messages.
var (
	envelopedMethods = map[string]bool{
		dsig.RSASHA256SignatureMethod: true, dsig.RSASHA384SignatureMethod: true, dsig.RSASHA512SignatureMethod: true,
		dsig.ECDSASHA256SignatureMethod: true, dsig.ECDSASHA384SignatureMethod: true, dsig.ECDSASHA512SignatureMethod: true,
	}
	envelopedDigests = map[string]bool{
		"http://www.w3.org/2001/04/xmlenc#sha256": true, "http://www.w3.org/2001/04/xmldsig-more#sha384": true,
		"http://www.w3.org/2001/04/xmlenc#sha512": true,
	}
	excC14N = string(dsig.CanonicalXML10ExclusiveAlgorithmId)
)

// verifyEnveloped checks the one ds:Signature of root against certs and
// returns the element the signature covers, as the verifier rebuilt it. To
// rule out signature wrapping, the document must hold exactly one signature,
// a direct child of root, with one Reference to root's ID, which no other
// element carries; the transforms must be enveloped-signature and exclusive
// C14N. Certificates in KeyInfo are ignored.
func verifyEnveloped(root *etree.Element, certs []*x509.Certificate) (*etree.Element, error) {
	var sigs []*etree.Element
	xmlsafe.Walk(root, func(e *etree.Element) error {
		if xmlsafe.Is(e, NSDSig, "Signature") {
			sigs = append(sigs, e)
		}
		return nil
	})
	switch {
	case len(sigs) != 1:
		return nil, fmt.Errorf("%w: %d ds:Signature elements, want exactly one", ErrBadSignature, len(sigs))
	case sigs[0].Parent() != root:
		return nil, fmt.Errorf("%w: the signature is inside %s, not a child of the root element", ErrBadSignature, xmlsafe.Describe(sigs[0].Parent()))
	case len(certs) == 0:
		return nil, fmt.Errorf("%w: the request is signed, but no certificates were given to verify it", ErrBadSignature)
	}
	sig := sigs[0]
	method, err := checkSignedInfo(root, sig)
	if err != nil {
		return nil, err
	}
	// KeyInfo is outside SignedInfo: removing it changes nothing signed and
	// makes the verifier use only the certificate it is handed.
	if ki := xmlsafe.Child(sig, NSDSig, "KeyInfo"); ki != nil {
		sig.RemoveChild(ki)
	}
	if strings.Contains(method, "ecdsa-") {
		sv := xmlsafe.Child(sig, NSDSig, "SignatureValue")
		raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(sv.Text()), ""))
		if err == nil {
			var der []byte
			if der, err = derECDSA(raw); err == nil {
				sv.SetText(base64.StdEncoding.EncodeToString(der))
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%w: ECDSA SignatureValue: %v", ErrBadSignature, err)
		}
	}
	var last error
	for _, c := range certs {
		if c == nil {
			continue
		}
		ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{c}})
		ctx.IdAttribute = "ID"
		// The given certificates are the trust anchor; their dates are the
		// caller's policy (SP certificates are often expired self-signed ones).
		ctx.Clock = dsig.NewFakeClockAt(c.NotBefore)
		verified, err := ctx.Validate(root)
		if err == nil {
			return verified, nil
		}
		last = err
	}
	return nil, fmt.Errorf("%w: the signature verifies under none of the %d given certificates (last: %v)", ErrBadSignature, len(certs), last)
}

// checkSignedInfo requires one SignedInfo with exclusive C14N, an
// allow-listed method, and one Reference to root's ID with the enveloped and
// exclusive C14N transforms and an allow-listed digest; it returns the
// signature method.
func checkSignedInfo(root, sig *etree.Element) (string, error) {
	sis := xmlsafe.Children(sig, NSDSig, "SignedInfo")
	if len(sis) != 1 || len(xmlsafe.Children(sig, NSDSig, "SignatureValue")) != 1 {
		return "", fmt.Errorf("%w: want one SignedInfo and one SignatureValue", ErrBadSignature)
	}
	si := sis[0]
	if c := algorithm(xmlsafe.Child(si, NSDSig, "CanonicalizationMethod")); c != excC14N {
		return "", fmt.Errorf("%w: canonicalization %q (want exclusive C14N)", ErrUnsupportedAlgorithm, c)
	}
	method := algorithm(xmlsafe.Child(si, NSDSig, "SignatureMethod"))
	if !envelopedMethods[method] {
		return "", fmt.Errorf("%w: signature method %q (want RSA or ECDSA with SHA-256 or stronger)", ErrUnsupportedAlgorithm, method)
	}
	refs := xmlsafe.Children(si, NSDSig, "Reference")
	if len(refs) != 1 {
		return "", fmt.Errorf("%w: %d References, want exactly one (to the root element)", ErrBadSignature, len(refs))
	}
	id, _ := xmlsafe.Attr(root, "ID")
	if uri, _ := xmlsafe.Attr(refs[0], "URI"); id == "" || uri != "#"+id {
		return "", fmt.Errorf("%w: Reference URI %q does not point at the root element (ID %q)", ErrBadSignature, uri, id)
	}
	if n := countID(root, id); n != 1 {
		return "", fmt.Errorf("%w: ID %q appears on %d elements", ErrBadSignature, id, n)
	}
	if d := algorithm(xmlsafe.Child(refs[0], NSDSig, "DigestMethod")); !envelopedDigests[d] {
		return "", fmt.Errorf("%w: digest method %q (want SHA-256 or stronger)", ErrUnsupportedAlgorithm, d)
	}
	var transforms []string
	for _, t := range xmlsafe.Children(xmlsafe.Child(refs[0], NSDSig, "Transforms"), NSDSig, "Transform") {
		transforms = append(transforms, algorithm(t))
	}
	enveloped := string(dsig.EnvelopedSignatureAltorithmId)
	if !(len(transforms) == 1 && transforms[0] == enveloped) &&
		!(len(transforms) == 2 && transforms[0] == enveloped && transforms[1] == excC14N) {
		return "", fmt.Errorf("%w: transforms %q (want enveloped-signature, then exclusive C14N)", ErrUnsupportedAlgorithm, transforms)
	}
	return method, nil
}

func algorithm(e *etree.Element) string {
	if e == nil {
		return ""
	}
	v, _ := xmlsafe.Attr(e, "Algorithm")
	return v
}

// countID counts elements with an attribute named ID (any prefix, any case)
// equal to id: a second one is how wrapping attacks make a verifier and a
// reader look at different elements.
func countID(root *etree.Element, id string) int {
	n := 0
	xmlsafe.Walk(root, func(e *etree.Element) error {
		for _, a := range e.Attr {
			if strings.EqualFold(a.Key, "ID") && a.Value == id {
				n++
			}
		}
		return nil
	})
	return n
}
