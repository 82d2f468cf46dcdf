package xmlsafe

import (
	"strings"

	"github.com/beevik/etree"
)

// Walk calls fn on root and every element below it, without recursion,
// stopping at the first error, which it returns.
func Walk(root *etree.Element, fn func(*etree.Element) error) error {
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

// Is reports whether el is the element {ns}local.
func Is(el *etree.Element, ns, local string) bool {
	return el != nil && el.Tag == local && el.NamespaceURI() == ns
}

// Children returns the child elements of el named {ns}local.
func Children(el *etree.Element, ns, local string) []*etree.Element {
	if el == nil {
		return nil
	}
	var out []*etree.Element
	for _, c := range el.ChildElements() {
		if Is(c, ns, local) {
			out = append(out, c)
		}
	}
	return out
}

// Child returns the first child element of el named {ns}local, or nil.
func Child(el *etree.Element, ns, local string) *etree.Element {
	if el == nil {
		return nil
	}
	for _, c := range el.ChildElements() {
		if Is(c, ns, local) {
			return c
		}
	}
	return nil
}

// Path follows the first matching child at each step and returns nil if any
// is missing. Steps alternate namespace and local name.
func Path(el *etree.Element, steps ...string) *etree.Element {
	for i := 0; el != nil && i+1 < len(steps); i += 2 {
		el = Child(el, steps[i], steps[i+1])
	}
	return el
}

// Describe names an element for error messages: {namespace}local.
func Describe(el *etree.Element) string {
	return "{" + el.NamespaceURI() + "}" + el.Tag
}

// Attr returns the value of the unprefixed attribute key of el.
func Attr(el *etree.Element, key string) (string, bool) {
	for _, a := range el.Attr {
		if a.Space == "" && a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}

// NSAttr returns the value of the attribute {ns}key of el.
func NSAttr(el *etree.Element, ns, key string) (string, bool) {
	for _, a := range el.Attr {
		if a.Space != "" && a.Space != "xmlns" && a.Key == key && a.NamespaceURI() == ns {
			return a.Value, true
		}
	}
	return "", false
}

// ResolveQName splits a QName attribute value such as
// "fed:SecurityTokenServiceType" and resolves its prefix in the scope of el.
func ResolveQName(el *etree.Element, qname string) (ns, local string) {
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
