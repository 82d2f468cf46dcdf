package saml

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/beevik/etree"
)

// canonicalize appends the Exclusive XML Canonicalization 1.0 (without
// comments, empty InclusiveNamespaces PrefixList) of el to w. It serves the
// trees this package builds itself, which hold only elements and text:
// any other token (comment, processing instruction, directive) is an
// error rather than something to get subtly wrong. Namespace prefixes are
// resolved through el's ancestors, so a SignedInfo inside its Signature
// canonicalises as in its final place.
//
// It replaces goxmldsig's generic canonicaliser on the signing path, which
// copies namespace contexts per element and cost about a sixth of an RSA
// signature; a test checks both give the same bytes.
func canonicalize(w *bytes.Buffer, el *etree.Element) error {
	return c14nElement(w, el, nil)
}

// rendered is a declaration the output has made: prefix and URI.
type rendered struct{ prefix, uri string }

func c14nElement(w *bytes.Buffer, el *etree.Element, out []rendered) error {
	w.WriteByte('<')
	w.WriteString(el.FullTag())

	// Namespace declarations: each prefix the element or its attributes use
	// ("" for an unprefixed element), unless an output ancestor rendered the
	// same binding.
	used := []string{el.Space}
	var attrs []etree.Attr
	for _, a := range el.Attr {
		if a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns") {
			continue
		}
		attrs = append(attrs, a)
		if a.Space != "" && a.Space != "xml" && !slices.Contains(used, a.Space) {
			used = append(used, a.Space)
		}
	}
	slices.Sort(used)
	for _, prefix := range used {
		uri, ok := lookupNS(el, prefix)
		if !ok && prefix != "" {
			return fmt.Errorf("saml: canonicalising: prefix %q of %s is not declared", prefix, el.FullTag())
		}
		if have, seen := lookupRendered(out, prefix); seen && have == uri || !seen && prefix == "" && uri == "" {
			continue
		}
		out = append(out, rendered{prefix, uri})
		if prefix == "" {
			w.WriteString(` xmlns="`)
		} else {
			w.WriteString(` xmlns:` + prefix + `="`)
		}
		escapeAttr(w, uri)
		w.WriteByte('"')
	}

	// Attributes: unqualified ones first by local name, then by namespace
	// URI and local name.
	if len(attrs) > 1 {
		slices.SortFunc(attrs, func(a, b etree.Attr) int {
			if c := strings.Compare(attrNS(el, a), attrNS(el, b)); c != 0 {
				return c
			}
			return strings.Compare(a.Key, b.Key)
		})
	}
	for _, a := range attrs {
		w.WriteByte(' ')
		w.WriteString(a.FullKey())
		w.WriteString(`="`)
		escapeAttr(w, a.Value)
		w.WriteByte('"')
	}
	w.WriteByte('>')

	for _, tok := range el.Child {
		switch t := tok.(type) {
		case *etree.Element:
			if err := c14nElement(w, t, out); err != nil {
				return err
			}
		case *etree.CharData:
			escapeText(w, t.Data)
		default:
			return fmt.Errorf("saml: canonicalising: unexpected %T in %s", tok, el.FullTag())
		}
	}
	w.WriteString("</")
	w.WriteString(el.FullTag())
	w.WriteByte('>')
	return nil
}

// lookupNS resolves prefix ("" for the default namespace) in the scope of el.
func lookupNS(el *etree.Element, prefix string) (string, bool) {
	for e := el; e != nil; e = e.Parent() {
		for _, a := range e.Attr {
			if (prefix == "" && a.Space == "" && a.Key == "xmlns") || (prefix != "" && a.Space == "xmlns" && a.Key == prefix) {
				return a.Value, true
			}
		}
	}
	return "", false
}

func lookupRendered(out []rendered, prefix string) (string, bool) {
	for i := len(out) - 1; i >= 0; i-- {
		if out[i].prefix == prefix {
			return out[i].uri, true
		}
	}
	return "", false
}

func attrNS(el *etree.Element, a etree.Attr) string {
	if a.Space == "" {
		return ""
	}
	if a.Space == "xml" {
		return "http://www.w3.org/XML/1998/namespace"
	}
	uri, _ := lookupNS(el, a.Space)
	return uri
}

var (
	attrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", `"`, "&quot;", "\t", "&#x9;", "\n", "&#xA;", "\r", "&#xD;")
	textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", "&#xD;")
)

func escapeAttr(w *bytes.Buffer, s string) {
	if strings.ContainsAny(s, "&<\"\t\n\r") {
		s = attrEscaper.Replace(s)
	}
	w.WriteString(s)
}

func escapeText(w *bytes.Buffer, s string) {
	if strings.ContainsAny(s, "&<>\r") {
		s = textEscaper.Replace(s)
	}
	w.WriteString(s)
}
