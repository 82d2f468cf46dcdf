package verify

import (
	"fmt"
	"strings"
	"sync"
)

// Exclusive XML Canonicalization 1.0 without comments
// (https://www.w3.org/TR/xml-exc-c14n/) of a subtree of the reader's
// tree, with the enveloped-signature transform as one element left out.
// The reader refuses what this would have to treat specially (comments,
// processing instructions, xml:* attributes, namespace undeclarations),
// so an element renders its name, the namespace declarations it visibly
// uses (or the InclusiveNamespaces PrefixList names) that its nearest
// rendered ancestor has not rendered with the same value, its attributes
// sorted by namespace URI then local name, and its content.

// c14nState is one canonicalisation in progress.
type c14nState struct {
	out      []byte
	rendered []xbinding // namespace declarations rendered by the open output ancestors
	incl     []string   // InclusiveNamespaces PrefixList
	skip     *xnode     // the enveloped signature
}

// canonicalize appends the exclusive canonical form of el, without skip
// and its subtree, to dst.
func canonicalize(dst []byte, el, skip *xnode, inclusive []string) ([]byte, error) {
	st := c14nStates.Get().(*c14nState)
	st.out, st.rendered, st.incl, st.skip = dst, st.rendered[:0], inclusive, skip
	err := st.element(el)
	dst = st.out
	clear(st.rendered[:cap(st.rendered)])
	st.out, st.incl, st.skip = nil, nil, nil
	c14nStates.Put(st)
	return dst, err
}

// c14nStates recycles canonicalisation states (their namespace stacks).
var c14nStates = sync.Pool{New: func() any { return &c14nState{rendered: make([]xbinding, 0, 16)} }}

// parsePrefixList reads an InclusiveNamespaces PrefixList. "#default" is
// refused: the reader allows no undeclared default namespace to render.
func parsePrefixList(list string) ([]string, error) {
	f := strings.Fields(list)
	for _, p := range f {
		if p == "#default" {
			return nil, fmt.Errorf("%w: InclusiveNamespaces #default is not supported", ErrSAMLUnsupported)
		}
	}
	return f, nil
}

// renderedNS is the value the nearest output ancestor rendered for prefix.
func (st *c14nState) renderedNS(prefix string) (string, bool) {
	for i := len(st.rendered) - 1; i >= 0; i-- {
		if st.rendered[i].prefix == prefix {
			return st.rendered[i].uri, true
		}
	}
	return "", false
}

// need adds (prefix, uri) to decls unless it is there or already rendered.
func (st *c14nState) need(decls []xbinding, prefix, uri string) []xbinding {
	for _, d := range decls {
		if d.prefix == prefix {
			return decls
		}
	}
	if have, ok := st.renderedNS(prefix); ok && have == uri || !ok && prefix == "" && uri == "" {
		return decls
	}
	return append(decls, xbinding{prefix, uri})
}

func (st *c14nState) element(el *xnode) error {
	mark := len(st.rendered)
	var declBuf [8]xbinding
	decls := st.need(declBuf[:0], el.prefix, el.ns)
	var attrBuf [16]*xattr
	attrs := attrBuf[:0]
	qualified := ""
	for i := range el.attrs {
		a := &el.attrs[i]
		if a.isNSDecl() {
			continue
		}
		if a.prefix != "" {
			// Two namespaces of attributes on one element is where
			// canonicalisers disagree (goxmldsig sorts by name, the
			// specification by namespace URI): refused.
			if qualified != "" && qualified != a.ns {
				return fmt.Errorf("%w: <%s> has attributes in two namespaces", ErrSAMLUnsupported, clip(el.local))
			}
			qualified = a.ns
			decls = st.need(decls, a.prefix, a.ns)
		}
		attrs = append(attrs, a)
	}
	for _, p := range st.incl {
		if uri, ok := el.lookupNS(p); ok && p != "" {
			decls = st.need(decls, p, uri)
		}
	}
	for i := 1; i < len(decls); i++ { // insertion sort: default first, then by prefix
		for j := i; j > 0 && decls[j].prefix < decls[j-1].prefix; j-- {
			decls[j], decls[j-1] = decls[j-1], decls[j]
		}
	}
	for i := 1; i < len(attrs); i++ { // unqualified first, then by namespace URI, then local name
		for j := i; j > 0 && attrLess(attrs[j], attrs[j-1]); j-- {
			attrs[j], attrs[j-1] = attrs[j-1], attrs[j]
		}
	}

	st.out = append(st.out, '<')
	st.out = appendQName(st.out, el.prefix, el.local)
	for _, d := range decls {
		if d.prefix == "" {
			st.out = append(st.out, ` xmlns="`...)
		} else {
			st.out = append(st.out, " xmlns:"...)
			st.out = append(st.out, d.prefix...)
			st.out = append(st.out, `="`...)
		}
		st.out = escapeAttrC14N(st.out, d.uri)
		st.out = append(st.out, '"')
		st.rendered = append(st.rendered, d)
	}
	for _, a := range attrs {
		st.out = append(st.out, ' ')
		st.out = appendQName(st.out, a.prefix, a.local)
		st.out = append(st.out, `="`...)
		if a.plain {
			st.out = append(st.out, a.value...)
		} else {
			st.out = escapeAttrC14N(st.out, a.value)
		}
		st.out = append(st.out, '"')
	}
	st.out = append(st.out, '>')
	for c := el.first; c != nil; c = c.next {
		switch {
		case c == st.skip:
		case c.elem:
			if err := st.element(c); err != nil {
				return err
			}
		case c.plain:
			st.out = append(st.out, c.text...)
		default:
			st.out = escapeTextC14N(st.out, c.text)
		}
	}
	st.out = append(st.out, "</"...)
	st.out = appendQName(st.out, el.prefix, el.local)
	st.out = append(st.out, '>')
	st.rendered = st.rendered[:mark]
	return nil
}

func attrLess(a, b *xattr) bool {
	if a.ns != b.ns {
		return a.ns < b.ns
	}
	return a.local < b.local
}

func appendQName(dst []byte, prefix, local string) []byte {
	if prefix != "" {
		dst = append(dst, prefix...)
		dst = append(dst, ':')
	}
	return append(dst, local...)
}

// escapeAttrC14N escapes an attribute value as C14N does: & < " and the
// white space characters tab, line feed and carriage return.
func escapeAttrC14N(dst []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '"':
			esc = "&quot;"
		case '\t':
			esc = "&#x9;"
		case '\n':
			esc = "&#xA;"
		case '\r':
			esc = "&#xD;"
		default:
			continue
		}
		dst = append(dst, s[last:i]...)
		dst = append(dst, esc...)
		last = i + 1
	}
	return append(dst, s[last:]...)
}

// escapeTextC14N escapes character data as C14N does: & < > and carriage
// return.
func escapeTextC14N(dst []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\r':
			esc = "&#xD;"
		default:
			continue
		}
		dst = append(dst, s[last:i]...)
		dst = append(dst, esc...)
		last = i + 1
	}
	return append(dst, s[last:]...)
}
