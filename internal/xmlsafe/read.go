package xmlsafe

import (
	"bytes"
	"errors"

	"github.com/beevik/etree"
)

// Read applies CheckRaw, parses data with the depth limit and returns the
// document and its only top-level element, after refusing duplicate
// attributes anywhere in the tree (not well-formed XML, and a way to make two
// parsers see different IDs). The caller checks what the root is.
func Read(data []byte, lim Limits) (*etree.Document, *etree.Element, error) {
	lim = lim.withDefaults()
	if err := CheckRaw(data, lim); err != nil {
		return nil, nil, err
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	doc := etree.NewDocument()
	doc.ReadSettings = etree.ReadSettings{MaxDepth: lim.MaxDepth, PreserveDuplicateAttrs: true}
	if err := doc.ReadFromBytes(data); err != nil {
		if errors.Is(err, etree.ErrMaxDepth) {
			return nil, nil, fail(ErrMalformed, "not well-formed XML: nesting deeper than depth %d", lim.MaxDepth)
		}
		return nil, nil, fail(ErrMalformed, "not well-formed XML: %v", err)
	}
	root, err := singleRoot(doc)
	if err != nil {
		return nil, nil, err
	}
	if err := checkAttrs(root); err != nil {
		return nil, nil, err
	}
	return doc, root, nil
}

// singleRoot requires exactly one top-level element and nothing but
// whitespace, comments and processing instructions beside it.
func singleRoot(doc *etree.Document) (*etree.Element, error) {
	var root *etree.Element
	for _, tok := range doc.Child {
		switch t := tok.(type) {
		case *etree.Element:
			if root != nil {
				return nil, fail(ErrMalformed, "more than one top-level element")
			}
			root = t
		case *etree.CharData:
			if !t.IsWhitespace() {
				return nil, fail(ErrMalformed, "text outside the root element")
			}
		case *etree.Directive:
			return nil, fail(ErrDTD, "directive outside the root element")
		}
	}
	if root == nil {
		return nil, fail(ErrMalformed, "no root element")
	}
	return root, nil
}

func checkAttrs(root *etree.Element) error {
	seen := map[string]bool{}
	return Walk(root, func(el *etree.Element) error {
		clear(seen)
		for _, a := range el.Attr {
			k := a.FullKey()
			if seen[k] {
				return fail(ErrMalformed, "duplicate attribute %s on %s", k, el.FullTag())
			}
			seen[k] = true
		}
		return nil
	})
}
