package verify

import (
	"fmt"
	"slices"
	"strings"
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
	doc       *xdoc
	root      *xnode
	assertion *xnode
	kind      samlKind
}

// parseSAML reads data strictly: size-limited, the reader's XML subset
// (no DOCTYPE, comment, processing instruction or CDATA), every ID
// unique, exactly one SAML 2.0 assertion and it in the place the protocol
// puts it.
func parseSAML(data []byte) (samlDoc, error) {
	doc, err := parseXML(data, samlXMLLimits)
	if err != nil {
		return samlDoc{}, fmt.Errorf("%w: %v", ErrSAMLMalformed, err)
	}
	d := samlDoc{doc: doc, root: doc.root}
	if err := d.scan(); err != nil {
		doc.release()
		return samlDoc{}, err
	}
	if err := d.place(); err != nil {
		doc.release()
		return samlDoc{}, err
	}
	return d, nil
}

// scan checks every element, in document order: IDs unique, no SAML 1.1
// or encrypted assertion, exactly one SAML 2.0 assertion.
func (d *samlDoc) scan() error {
	var idBuf [16]string
	ids := idBuf[:0]
	count := 0
	for _, el := range d.doc.elements {
		for j := range el.attrs {
			if a := &el.attrs[j]; a.local == "ID" || a.local == "Id" || a.local == "AssertionID" {
				ids = append(ids, a.value)
			}
		}
		switch {
		case el.local == "Assertion" && el.ns == nsSAML:
			if count++; count == 1 {
				d.assertion = el
			}
		case el.local == "Assertion" && el.ns == nsSAML11:
			return fmt.Errorf("%w: SAML 1.1 assertion", ErrSAMLUnsupported)
		case el.local == "EncryptedAssertion":
			return fmt.Errorf("%w: encrypted assertion", ErrSAMLUnsupported)
		}
	}
	if dup, ok := duplicate(ids); ok {
		return fmt.Errorf("%w: %s", ErrSAMLDuplicateID, clip(dup))
	}
	if count != 1 {
		return fmt.Errorf("%w: found %d", ErrSAMLAssertionCount, count)
	}
	return nil
}

// duplicate returns a value that occurs twice in ids (which it may reorder).
func duplicate(ids []string) (string, bool) {
	if len(ids) > 16 {
		slices.Sort(ids)
		for i := 1; i < len(ids); i++ {
			if ids[i] == ids[i-1] {
				return ids[i], true
			}
		}
		return "", false
	}
	for i := range ids {
		for j := range i {
			if ids[i] == ids[j] {
				return ids[i], true
			}
		}
	}
	return "", false
}

// place checks that the assertion is where the envelope puts it: a child
// of samlp:Response, or of wst:RequestedSecurityToken in an RSTR (alone
// or in an RSTR collection).
func (d *samlDoc) place() error {
	r, parent := d.root, d.assertion.parent
	switch {
	case r.is(nsSAMLP, "Response"):
		d.kind = kindResponse
		if parent != r {
			return fmt.Errorf("%w: not a child of the Response", ErrSAMLStructure)
		}
		return nil
	case isTrust(r, "RequestSecurityTokenResponse"), isTrust(r, "RequestSecurityTokenResponseCollection"):
		d.kind = kindWSFed
		rstr := r
		if r.local == "RequestSecurityTokenResponseCollection" {
			var kids []*xnode
			for c := r.first; c != nil; c = c.next {
				if c.elem {
					kids = append(kids, c)
				}
			}
			if len(kids) != 1 || !isTrust(kids[0], "RequestSecurityTokenResponse") {
				return fmt.Errorf("%w: the collection must hold one RequestSecurityTokenResponse", ErrSAMLStructure)
			}
			rstr = kids[0]
		}
		if parent == nil || !isTrust(parent, "RequestedSecurityToken") || parent.parent != rstr {
			return fmt.Errorf("%w: not in RequestedSecurityToken", ErrSAMLStructure)
		}
		return nil
	}
	return fmt.Errorf("%w: root <%s> is neither a SAML Response nor a WS-Trust RequestSecurityTokenResponse", ErrSAMLMalformed, clip(r.local))
}

func isTrust(el *xnode, tag string) bool {
	return el.is(nsTrust05, tag) || el.is(nsTrust13, tag)
}

// child returns el's only child element ns:tag, nil if none, and an error
// if there are several.
func child(el *xnode, ns, tag string) (*xnode, error) {
	var found *xnode
	for c := el.first; c != nil; c = c.next {
		if c.is(ns, tag) {
			if found != nil {
				return nil, fmt.Errorf("%w: more than one <%s> in <%s>", ErrSAMLMalformed, tag, clip(el.local))
			}
			found = c
		}
	}
	return found, nil
}

// children returns el's child elements ns:tag.
func children(el *xnode, ns, tag string) []*xnode {
	var out []*xnode
	for c := el.first; c != nil; c = c.next {
		if c.is(ns, tag) {
			out = append(out, c)
		}
	}
	return out
}

// text returns el's character data, refusing element content: a value
// split by markup is never read as its first part.
func text(el *xnode) (string, error) {
	if el.first == nil {
		return "", nil
	}
	if el.first == el.last && !el.first.elem {
		return strings.TrimSpace(el.first.text), nil
	}
	var b strings.Builder
	for c := el.first; c != nil; c = c.next {
		if c.elem {
			return "", fmt.Errorf("%w: <%s> holds markup, not text", ErrSAMLMalformed, clip(el.local))
		}
		b.WriteString(c.text)
	}
	return strings.TrimSpace(b.String()), nil
}

// attr returns el's unqualified attribute key.
func attr(el *xnode, key string) string { return el.attr(key) }
