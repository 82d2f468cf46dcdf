package fedmeta

import (
	"fmt"
	"strings"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/keyroll/keyroll/internal/xmlsafe"
)

// envelopedSignature returns the document's only ds:Signature, which must be
// a child of the root.
func envelopedSignature(root *etree.Element) (*etree.Element, error) {
	var sigs []*etree.Element
	xmlsafe.Walk(root, func(el *etree.Element) error {
		if xmlsafe.Is(el, NSDSig, "Signature") {
			sigs = append(sigs, el)
		}
		return nil
	})
	switch {
	case len(sigs) == 0:
		return nil, fmt.Errorf("%w: no ds:Signature element", ErrNoSignature)
	case len(sigs) > 1:
		return nil, fmt.Errorf("%w: %d ds:Signature elements, want exactly one", ErrInvalidSignature, len(sigs))
	case sigs[0].Parent() != root:
		return nil, fmt.Errorf("%w: the signature is inside %s, not a child of the root element "+
			"(it does not sign the document)", ErrInvalidSignature, xmlsafe.Describe(sigs[0].Parent()))
	}
	return sigs[0], nil
}

// Algorithms Verify accepts.
var (
	allowedSigMethods = map[string]bool{
		dsig.RSASHA1SignatureMethod: true, dsig.RSASHA256SignatureMethod: true,
		dsig.RSASHA384SignatureMethod: true, dsig.RSASHA512SignatureMethod: true,
		dsig.ECDSASHA256SignatureMethod: true, dsig.ECDSASHA384SignatureMethod: true,
		dsig.ECDSASHA512SignatureMethod: true,
	}
	allowedDigests = map[string]bool{
		"http://www.w3.org/2000/09/xmldsig#sha1": true, "http://www.w3.org/2001/04/xmlenc#sha256": true,
		"http://www.w3.org/2001/04/xmldsig-more#sha384": true, "http://www.w3.org/2001/04/xmlenc#sha512": true,
	}
	allowedC14N = map[string]bool{
		string(dsig.CanonicalXML10ExclusiveAlgorithmId):             true,
		string(dsig.CanonicalXML10ExclusiveWithCommentsAlgorithmId): true,
		string(dsig.CanonicalXML10RecAlgorithmId):                   true,
		string(dsig.CanonicalXML11AlgorithmId):                      true,
	}
)

// checkSignedInfo requires one Reference to the root element with the
// enveloped transform and allow-listed algorithms; it returns the
// SignatureMethod.
func checkSignedInfo(root, sig *etree.Element) (string, error) {
	sis := xmlsafe.Children(sig, NSDSig, "SignedInfo")
	if len(sis) != 1 || len(xmlsafe.Children(sig, NSDSig, "SignatureValue")) != 1 {
		return "", fmt.Errorf("%w: want one SignedInfo and one SignatureValue", ErrInvalidSignature)
	}
	si := sis[0]
	method := algorithm(xmlsafe.Child(si, NSDSig, "SignatureMethod"))
	if !allowedSigMethods[method] {
		return "", fmt.Errorf("%w: signature method %q not allowed", ErrInvalidSignature, method)
	}
	refs := xmlsafe.Children(si, NSDSig, "Reference")
	if len(refs) != 1 {
		return "", fmt.Errorf("%w: %d References, want exactly one (to the root element)", ErrInvalidSignature, len(refs))
	}
	if err := checkReferenceURI(root, refs[0]); err != nil {
		return "", err
	}
	if d := algorithm(xmlsafe.Child(refs[0], NSDSig, "DigestMethod")); !allowedDigests[d] {
		return "", fmt.Errorf("%w: digest method %q not allowed", ErrInvalidSignature, d)
	}
	return method, checkTransforms(refs[0])
}

func algorithm(el *etree.Element) string {
	if el == nil {
		return ""
	}
	v, _ := xmlsafe.Attr(el, "Algorithm")
	return v
}

func checkReferenceURI(root, ref *etree.Element) error {
	uri, ok := xmlsafe.Attr(ref, "URI")
	id, _ := xmlsafe.Attr(root, "ID")
	if !ok || (uri != "" && (id == "" || uri != "#"+id)) {
		return fmt.Errorf("%w: Reference URI %q does not point at the root element (ID %q)", ErrInvalidSignature, uri, id)
	}
	if id != "" && countID(root, id) > 1 {
		return fmt.Errorf("%w: ID %q appears on more than one element", ErrInvalidSignature, id)
	}
	return nil
}

// countID counts elements carrying an ID attribute (any prefix) equal to id.
func countID(root *etree.Element, id string) int {
	n := 0
	xmlsafe.Walk(root, func(el *etree.Element) error {
		for _, a := range el.Attr {
			if strings.EqualFold(a.Key, "ID") && a.Value == id {
				n++
			}
		}
		return nil
	})
	return n
}

func checkTransforms(ref *etree.Element) error {
	enveloped := 0
	for _, t := range xmlsafe.Children(xmlsafe.Child(ref, NSDSig, "Transforms"), NSDSig, "Transform") {
		switch alg := algorithm(t); {
		case alg == string(dsig.EnvelopedSignatureAltorithmId):
			enveloped++
		case !allowedC14N[alg]:
			return fmt.Errorf("%w: transform %q not allowed", ErrInvalidSignature, alg)
		}
	}
	if enveloped != 1 {
		return fmt.Errorf("%w: the Reference must use the enveloped-signature transform once", ErrInvalidSignature)
	}
	return nil
}
