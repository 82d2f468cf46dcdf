package fedmeta

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// readDoc applies the raw-byte checks and parses data into a tree whose root
// is a SAML 2.0 EntityDescriptor.
func readDoc(data []byte) (*etree.Document, *etree.Element, error) {
	if err := checkRaw(data); err != nil {
		return nil, nil, err
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	doc := etree.NewDocument()
	doc.ReadSettings = etree.ReadSettings{MaxDepth: MaxDepth, PreserveDuplicateAttrs: true}
	if err := doc.ReadFromBytes(data); err != nil {
		return nil, nil, fmt.Errorf("%w: not well-formed XML: %v", ErrMalformed, err)
	}
	root, err := singleRoot(doc)
	if err != nil {
		return nil, nil, err
	}
	if err := checkAttrs(root); err != nil {
		return nil, nil, err
	}
	if is(root, NSMetadata, "EntitiesDescriptor") {
		return nil, nil, fmt.Errorf("%w: root element is an EntitiesDescriptor: aggregates of several "+
			"entities are not supported, want one EntityDescriptor", ErrMalformed)
	}
	if !is(root, NSMetadata, "EntityDescriptor") {
		return nil, nil, fmt.Errorf("%w: root element is %s, want EntityDescriptor in %s", ErrMalformed, describe(root), NSMetadata)
	}
	return doc, root, nil
}

var utf8BOM = []byte("\xef\xbb\xbf")

// checkRaw enforces the size limit, UTF-8 and the DTD ban before any XML
// parser sees the bytes.
func checkRaw(data []byte) error {
	if len(data) > MaxSize {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), MaxSize)
	}
	if !utf8.Valid(data) {
		return fmt.Errorf("%w: document is not UTF-8", ErrMalformed)
	}
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(data, utf8BOM), " \t\r\n")
	if len(trimmed) == 0 {
		return fmt.Errorf("%w: empty document", ErrMalformed)
	}
	if trimmed[0] != '<' {
		return fmt.Errorf("%w: not XML (starts with %q)", ErrMalformed, snippet(trimmed))
	}
	return checkNoDTD(data)
}

// checkNoDTD rejects any "<!" markup other than comments and CDATA sections,
// so DOCTYPE, ENTITY, ELEMENT and ATTLIST declarations never reach a parser.
func checkNoDTD(data []byte) error {
	for i := 0; i < len(data); {
		j := bytes.Index(data[i:], []byte("<!"))
		if j < 0 {
			return nil
		}
		i += j
		rest := data[i:]
		var end []byte
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			end = []byte("-->")
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			end = []byte("]]>")
		default:
			return fmt.Errorf("%w: found %q at byte %d", ErrDTD, snippet(rest), i)
		}
		k := bytes.Index(rest[2:], end)
		if k < 0 {
			return fmt.Errorf("%w: unterminated comment or CDATA at byte %d", ErrMalformed, i)
		}
		i += 2 + k + len(end)
	}
	return nil
}

func snippet(b []byte) string {
	if len(b) > 12 {
		b = b[:12]
	}
	return string(b)
}

// singleRoot requires exactly one top-level element and nothing but
// whitespace, comments and processing instructions beside it.
func singleRoot(doc *etree.Document) (*etree.Element, error) {
	var root *etree.Element
	for _, tok := range doc.Child {
		switch t := tok.(type) {
		case *etree.Element:
			if root != nil {
				return nil, fmt.Errorf("%w: more than one top-level element", ErrMalformed)
			}
			root = t
		case *etree.CharData:
			if !t.IsWhitespace() {
				return nil, fmt.Errorf("%w: text outside the root element", ErrMalformed)
			}
		case *etree.Directive:
			return nil, fmt.Errorf("%w: directive outside the root element", ErrDTD)
		}
	}
	if root == nil {
		return nil, fmt.Errorf("%w: no root element", ErrMalformed)
	}
	return root, nil
}

// checkAttrs rejects duplicate attributes anywhere in the tree (not
// well-formed XML, and a way to make two parsers see different IDs).
func checkAttrs(root *etree.Element) error {
	seen := map[string]bool{}
	return walk(root, func(el *etree.Element) error {
		clear(seen)
		for _, a := range el.Attr {
			k := a.FullKey()
			if seen[k] {
				return fmt.Errorf("%w: duplicate attribute %s on %s", ErrMalformed, k, el.FullTag())
			}
			seen[k] = true
		}
		return nil
	})
}

// walk calls fn on root and every element below it, without recursion,
// stopping at the first error.
func walk(root *etree.Element, fn func(*etree.Element) error) error {
	stack := []*etree.Element{root}
	for len(stack) > 0 {
		el := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if err := fn(el); err != nil {
			return err
		}
		stack = append(stack, el.ChildElements()...)
	}
	return nil
}

// is reports whether el is the element {ns}local.
func is(el *etree.Element, ns, local string) bool {
	return el.Tag == local && el.NamespaceURI() == ns
}

// children returns the child elements of el named {ns}local.
func children(el *etree.Element, ns, local string) []*etree.Element {
	var out []*etree.Element
	for _, c := range el.ChildElements() {
		if is(c, ns, local) {
			out = append(out, c)
		}
	}
	return out
}

// child returns the first child element of el named {ns}local, or nil.
func child(el *etree.Element, ns, local string) *etree.Element {
	for _, c := range el.ChildElements() {
		if is(c, ns, local) {
			return c
		}
	}
	return nil
}

// path follows the first matching child at each step; nil if any is missing.
// Steps alternate namespace and local name.
func path(el *etree.Element, steps ...string) *etree.Element {
	for i := 0; el != nil && i+1 < len(steps); i += 2 {
		el = child(el, steps[i], steps[i+1])
	}
	return el
}

// describe names an element for error messages: {namespace}local.
func describe(el *etree.Element) string {
	return "{" + el.NamespaceURI() + "}" + el.Tag
}

// attr returns the value of the unprefixed attribute key of el.
func attr(el *etree.Element, key string) (string, bool) {
	for _, a := range el.Attr {
		if a.Space == "" && a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}

// nsAttr returns the value of the attribute {ns}key of el.
func nsAttr(el *etree.Element, ns, key string) (string, bool) {
	for _, a := range el.Attr {
		if a.Space != "" && a.Space != "xmlns" && a.Key == key && a.NamespaceURI() == ns {
			return a.Value, true
		}
	}
	return "", false
}

// resolveQName splits a QName attribute value such as "fed:SecurityTokenServiceType"
// and resolves its prefix in the scope of el.
func resolveQName(el *etree.Element, qname string) (ns, local string) {
	prefix, local, ok := strings.Cut(strings.TrimSpace(qname), ":")
	if !ok {
		prefix, local = "", prefix
	}
	for e := el; e != nil; e = e.Parent() {
		for _, a := range e.Attr {
			if (prefix == "" && a.Space == "" && a.Key == "xmlns") ||
				(prefix != "" && a.Space == "xmlns" && a.Key == prefix) {
				return a.Value, local
			}
		}
	}
	return "", local
}
