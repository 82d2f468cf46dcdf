package verify

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/beevik/etree"
)

// XML namespaces of the SAML documents verify reads.
const (
	nsSAML    = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsSAMLP   = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsSAML11  = "urn:oasis:names:tc:SAML:1.0:assertion"
	nsDSig    = "http://www.w3.org/2000/09/xmldsig#"
	nsTrust05 = "http://schemas.xmlsoap.org/ws/2005/02/trust"
	nsTrust13 = "http://docs.oasis-open.org/ws-sx/ws-trust/200512"
)

// MaxSAMLSize bounds a SAML response or WS-Federation wresult.
const MaxSAMLSize = 256 << 10

// samlKind is the envelope an assertion came in.
type samlKind uint8

const (
	kindResponse samlKind = iota // samlp:Response
	kindWSFed                    // wst:RequestSecurityTokenResponse(Collection)
)

// samlDoc is a parsed document whose single assertion has been located.
type samlDoc struct {
	root      *etree.Element
	assertion *etree.Element
	kind      samlKind
}

// parseSAML reads data strictly: size-limited, no DOCTYPE, comment or
// processing instruction, every ID unique, exactly one SAML 2.0 assertion
// and it in the place the protocol puts it.
func parseSAML(data []byte) (*samlDoc, error) {
	if len(data) > MaxSAMLSize {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrSAMLMalformed, MaxSAMLSize)
	}
	if bytes.Contains(data, []byte("<!")) {
		return nil, fmt.Errorf("%w: DOCTYPE, CDATA or comment", ErrSAMLMalformed)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(data); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSAMLMalformed, err)
	}
	for _, tok := range doc.Child {
		switch t := tok.(type) {
		case *etree.ProcInst:
			if t.Target != "xml" {
				return nil, fmt.Errorf("%w: processing instruction", ErrSAMLMalformed)
			}
		case *etree.CharData:
			if strings.TrimSpace(t.Data) != "" {
				return nil, fmt.Errorf("%w: text outside the root element", ErrSAMLMalformed)
			}
		case *etree.Element:
		default:
			return nil, fmt.Errorf("%w: unexpected %T", ErrSAMLMalformed, tok)
		}
	}
	root := doc.Root()
	if root == nil {
		return nil, fmt.Errorf("%w: no root element", ErrSAMLMalformed)
	}
	var assertions []*etree.Element
	ids := map[string]bool{}
	if err := walkSAML(root, ids, &assertions); err != nil {
		return nil, err
	}
	if len(assertions) != 1 {
		return nil, fmt.Errorf("%w: found %d", ErrSAMLAssertionCount, len(assertions))
	}
	d := &samlDoc{root: root, assertion: assertions[0]}
	return d, d.place()
}

// walkSAML checks every element below el and collects the assertions.
func walkSAML(el *etree.Element, ids map[string]bool, assertions *[]*etree.Element) error {
	for _, a := range el.Attr {
		if a.Key == "ID" || a.Key == "Id" || a.Key == "AssertionID" {
			if ids[a.Value] {
				return fmt.Errorf("%w: %s", ErrSAMLDuplicateID, clip(a.Value))
			}
			ids[a.Value] = true
		}
	}
	switch ns := el.NamespaceURI(); {
	case el.Tag == "Assertion" && ns == nsSAML:
		*assertions = append(*assertions, el)
	case el.Tag == "Assertion" && ns == nsSAML11:
		return fmt.Errorf("%w: SAML 1.1 assertion", ErrSAMLUnsupported)
	case el.Tag == "EncryptedAssertion":
		return fmt.Errorf("%w: encrypted assertion", ErrSAMLUnsupported)
	}
	for _, tok := range el.Child {
		switch t := tok.(type) {
		case *etree.Element:
			if err := walkSAML(t, ids, assertions); err != nil {
				return err
			}
		case *etree.CharData:
		default:
			return fmt.Errorf("%w: %T inside <%s>", ErrSAMLMalformed, tok, el.Tag)
		}
	}
	return nil
}

// place checks that the assertion is where the envelope puts it: a child
// of samlp:Response, or of wst:RequestedSecurityToken in an RSTR (alone
// or in an RSTR collection).
func (d *samlDoc) place() error {
	r, parent := d.root, d.assertion.Parent()
	switch {
	case r.Tag == "Response" && r.NamespaceURI() == nsSAMLP:
		d.kind = kindResponse
		if parent != r {
			return fmt.Errorf("%w: not a child of the Response", ErrSAMLStructure)
		}
		return nil
	case isTrust(r, "RequestSecurityTokenResponse"), isTrust(r, "RequestSecurityTokenResponseCollection"):
		d.kind = kindWSFed
		rstr := r
		if r.Tag == "RequestSecurityTokenResponseCollection" {
			kids := r.ChildElements()
			if len(kids) != 1 || !isTrust(kids[0], "RequestSecurityTokenResponse") {
				return fmt.Errorf("%w: the collection must hold one RequestSecurityTokenResponse", ErrSAMLStructure)
			}
			rstr = kids[0]
		}
		if parent == nil || !isTrust(parent, "RequestedSecurityToken") || parent.Parent() != rstr {
			return fmt.Errorf("%w: not in RequestedSecurityToken", ErrSAMLStructure)
		}
		return nil
	}
	return fmt.Errorf("%w: root <%s> is neither a SAML Response nor a WS-Trust RequestSecurityTokenResponse", ErrSAMLMalformed, r.Tag)
}

func isTrust(el *etree.Element, tag string) bool {
	ns := el.NamespaceURI()
	return el.Tag == tag && (ns == nsTrust05 || ns == nsTrust13)
}

// child returns el's only child element ns:tag, nil if none, and an error
// if there are several.
func child(el *etree.Element, ns, tag string) (*etree.Element, error) {
	var found *etree.Element
	for _, c := range el.ChildElements() {
		if c.Tag == tag && c.NamespaceURI() == ns {
			if found != nil {
				return nil, fmt.Errorf("%w: more than one <%s> in <%s>", ErrSAMLMalformed, tag, el.Tag)
			}
			found = c
		}
	}
	return found, nil
}

// children returns el's child elements ns:tag.
func children(el *etree.Element, ns, tag string) []*etree.Element {
	var out []*etree.Element
	for _, c := range el.ChildElements() {
		if c.Tag == tag && c.NamespaceURI() == ns {
			out = append(out, c)
		}
	}
	return out
}

// text returns el's character data, refusing element content: a value
// split by markup is never read as its first part.
func text(el *etree.Element) (string, error) {
	var b strings.Builder
	for _, tok := range el.Child {
		switch t := tok.(type) {
		case *etree.CharData:
			b.WriteString(t.Data)
		default:
			return "", fmt.Errorf("%w: <%s> holds markup, not text", ErrSAMLMalformed, el.Tag)
		}
	}
	return strings.TrimSpace(b.String()), nil
}

// attr returns el's unqualified attribute key.
func attr(el *etree.Element, key string) string {
	for _, a := range el.Attr {
		if a.Space == "" && a.Key == key {
			return a.Value
		}
	}
	return ""
}
