package verify

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"
)

// The SAML verifier reads XML with its own strict reader, into one tree
// that serves both the canonicalisation the signature covers and the
// reading of every field, so what is read is what was signed. It reads
// the subset of XML 1.0 with namespaces that SAML responses and
// WS-Federation tokens use and refuses the rest rather than guess:
//
//   - UTF-8 only: no byte order mark, no other encoding declared; every
//     character, literal or referenced, must be an XML Char.
//   - An optional XML declaration at the very start; no DOCTYPE, comment,
//     processing instruction or CDATA section anywhere.
//   - Character data and attribute values may use the five predefined
//     entities and numeric character references, nothing else.
//   - Attribute values must not hold a literal tab, line feed or carriage
//     return (XML normalises them to spaces; encoding/xml, which signers
//     built on it use, does not, so the two would sign different bytes).
//   - Every prefix must be declared; the xml prefix may not be declared
//     or used (no xml:lang, xml:space, xml:base or xml:id); the default
//     namespace may not be undeclared (xmlns=""); no duplicate attribute,
//     by name or by namespace.
//   - Bounded: size, nesting depth, elements, attributes per element.
var errXMLSyntax = errors.New("malformed XML")

// xmlLimits bound what the reader accepts.
type xmlLimits struct {
	maxSize, maxDepth, maxElements, maxAttrs int
}

var samlXMLLimits = xmlLimits{maxSize: MaxSAMLSize, maxDepth: 64, maxElements: 20000, maxAttrs: 64}

// The namespaces XML reserves.
const (
	nsXML   = "http://www.w3.org/XML/1998/namespace"
	nsXMLNS = "http://www.w3.org/2000/xmlns/"
)

// xnode is an element or a run of character data. Names and values are
// substrings of the document (one copy of the input), decoded only when
// they hold a reference.
type xnode struct {
	parent, first, last, next *xnode
	prefix, local             string // element name
	ns                        string // element namespace, resolved
	text                      string // character data, decoded
	attrs                     []xattr
	nsMark                    int32 // namespace stack height before this element
	elem                      bool
	plain                     bool // text holds nothing canonicalisation escapes
}

// xattr is an attribute or a namespace declaration (prefix "xmlns", or
// prefix "" and local "xmlns").
type xattr struct {
	prefix, local, ns, value string
	plain                    bool // value holds nothing canonicalisation escapes
}

func (a *xattr) isNSDecl() bool {
	return a.prefix == "xmlns" || a.prefix == "" && a.local == "xmlns"
}

// xbinding is a namespace declaration in scope.
type xbinding struct{ prefix, uri string }

// xdoc is a parsed document.
type xdoc struct {
	elements []*xnode // in document order
	store    []xnode  // node storage, recycled
	free     []xnode  // node storage not used yet (nodes never move)
	attrs    []xattr
	ns       []xbinding // the parser's namespace stack, recycled
	overflow bool       // nodes were allocated beyond store
	root     *xnode
}

// xmlParser reads one document.
type xmlParser struct {
	s     string
	i     int
	d     *xdoc
	ns    []xbinding
	lim   xmlLimits
	depth int
	elems int
	ws    bool // the document holds a tab, line feed or carriage return
}

func xmlErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errXMLSyntax, fmt.Sprintf(format, args...))
}

// parseXML reads data strictly (see above) into a tree.
func parseXML(data []byte, lim xmlLimits) (*xdoc, error) {
	if len(data) > lim.maxSize {
		return nil, xmlErr("more than %d bytes", lim.maxSize)
	}
	tags, eq, ws, err := scanChars(data)
	if err != nil {
		return nil, err
	}
	d := newXDoc(min(tags, lim.maxElements), eq)
	// The tree's strings are substrings of data itself, not of a copy:
	// data must not change until the tree is released, and whatever
	// outlives the tree is copied first (see strArena).
	p := &xmlParser{s: unsafe.String(unsafe.SliceData(data), len(data)), lim: lim, d: d, ws: ws}
	p.ns = d.ns[:0]
	err = p.document()
	d.ns = p.ns
	if err != nil {
		d.release()
		return nil, err
	}
	return d, nil
}

// xdocs recycles trees: a verification releases its tree when done (what
// it returns holds substrings of the document, never nodes).
var xdocs = sync.Pool{New: func() any { return new(xdoc) }}

// newXDoc returns an empty tree with room for as many elements as tags
// ('<', start or end), a text node beside each (more is allocated when
// needed), and every attribute (each takes a '=').
func newXDoc(tags, eq int) *xdoc {
	d := xdocs.Get().(*xdoc)
	if n := 2*tags + 4; cap(d.store) < n {
		d.store = make([]xnode, n)
	}
	d.free = d.store[:cap(d.store)]
	if cap(d.elements) < tags {
		d.elements = make([]*xnode, 0, tags)
	}
	if cap(d.attrs) < eq {
		d.attrs = make([]xattr, 0, eq)
	}
	return d
}

// release clears the tree and returns it to the pool. Only what was used
// is cleared: the rest of each slice is still zero.
func (d *xdoc) release() {
	if cap(d.store) > 8192 || cap(d.attrs) > 4096 {
		return // a large document's storage is left to the collector
	}
	used := cap(d.store)
	if !d.overflow {
		used -= len(d.free)
	}
	clear(d.store[:used])
	clear(d.attrs)
	clear(d.elements)
	clear(d.ns[:cap(d.ns)])
	d.elements, d.attrs, d.free, d.root, d.overflow = d.elements[:0], d.attrs[:0], nil, nil, false
	xdocs.Put(d)
}

// scanChars checks that data is UTF-8 made of XML Chars, counts tags
// ('<') and '=' to size the tree, and reports
// whether data holds a tab, line feed or carriage return anywhere. Eight
// bytes at a time: a word with no byte below 0x20 or above 0x7F needs no
// closer look; any other is looked at byte by byte, and anything but
// white space or a UTF-8 byte other than 0xEF sends the whole document to
// scanCharsExact, which finds the error.
func scanChars(data []byte) (tags, eq int, ws bool, err error) {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	nonASCII := false
	for i := 0; i < len(data); {
		for i+16 <= len(data) { // two words at a time while both are plain
			w, x := binary.LittleEndian.Uint64(data[i:]), binary.LittleEndian.Uint64(data[i+8:])
			if ((w-0x20*ones)&^w|(x-0x20*ones)&^x|w|x)&highs != 0 {
				break
			}
			i += 16
		}
		if i+8 <= len(data) {
			w := binary.LittleEndian.Uint64(data[i:])
			if (w-0x20*ones)&^w&highs == 0 && w&highs == 0 {
				i += 8
				continue
			}
		}
		for end := min(i+8, len(data)); i < end; i++ {
			switch b := data[i]; {
			case b == '\t' || b == '\n' || b == '\r':
				ws = true
			case b < 0x20 || b == 0xEF:
				return scanCharsExact(data)
			case b >= 0x80:
				nonASCII = true
			}
		}
	}
	if nonASCII && !utf8.Valid(data) {
		return 0, 0, false, xmlErr("not UTF-8")
	}
	return bytes.Count(data, []byte{'<'}), bytes.Count(data, []byte{'='}), ws, nil
}

// scanCharsExact is scanChars one byte at a time.
func scanCharsExact(data []byte) (tags, eq int, ws bool, err error) {
	if !utf8.Valid(data) {
		return 0, 0, false, xmlErr("not UTF-8")
	}
	for i := 0; i < len(data); i++ {
		if !scanStop[data[i]] {
			continue
		}
		switch b := data[i]; {
		case b == '<':
			tags++
		case b == '=':
			eq++
		case b == '\t' || b == '\n' || b == '\r':
			ws = true
		case b < 0x20:
			return 0, 0, false, xmlErr("control character %#x at byte %d", b, i)
		case b == 0xEF && i+2 < len(data) && data[i+1] == 0xBF && (data[i+2] == 0xBE || data[i+2] == 0xBF):
			return 0, 0, false, xmlErr("non-character U+FFFE or U+FFFF at byte %d", i)
		case b == 0xEF && i == 0 && len(data) > 2 && data[1] == 0xBB && data[2] == 0xBF:
			return 0, 0, false, xmlErr("byte order mark")
		}
	}
	return tags, eq, ws, nil
}

// scanStop marks the bytes scanChars looks at.
var scanStop = func() (t [256]bool) {
	for b := range 0x20 {
		t[b] = true
	}
	t['<'], t['='], t[0xEF] = true, true, true
	return t
}()

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

func (p *xmlParser) skipSpace() bool {
	start := p.i
	for p.i < len(p.s) && isSpace(p.s[p.i]) {
		p.i++
	}
	return p.i > start
}

// document reads the prolog, the root element and trailing white space.
func (p *xmlParser) document() error {
	if strings.HasPrefix(p.s, "<?xml") && len(p.s) > 5 && isSpace(p.s[5]) {
		if err := p.xmlDecl(); err != nil {
			return err
		}
	}
	p.skipSpace()
	if p.i >= len(p.s) || p.s[p.i] != '<' {
		return xmlErr("no root element")
	}
	if err := p.content(); err != nil {
		return err
	}
	p.skipSpace()
	if p.i != len(p.s) {
		return xmlErr("content after the root element at byte %d", p.i)
	}
	return nil
}

// xmlDecl reads <?xml version="1.0" encoding="UTF-8" standalone="..."?>.
func (p *xmlParser) xmlDecl() error {
	p.i += 5
	seen := 0
	for {
		sp := p.skipSpace()
		if strings.HasPrefix(p.s[p.i:], "?>") {
			p.i += 2
			if seen == 0 {
				return xmlErr("XML declaration without version")
			}
			return nil
		}
		if !sp {
			return xmlErr("malformed XML declaration")
		}
		prefix, local, err := p.name()
		if err != nil || prefix != "" {
			return xmlErr("malformed XML declaration")
		}
		v, _, err := p.attrValue()
		if err != nil {
			return err
		}
		switch {
		case local == "version" && seen == 0 && v == "1.0":
			seen = 1
		case local == "encoding" && seen == 1 && strings.EqualFold(v, "UTF-8"):
			seen = 2
		case local == "standalone" && seen >= 1 && seen < 3 && (v == "yes" || v == "no"):
			seen = 3
		default:
			return xmlErr("XML declaration %s=%q not accepted", local, clip(v))
		}
	}
}

// nameClass classifies bytes for names: 1 may start an NCName, 2 may
// continue one (both for the first).
var nameClass = func() (t [256]uint8) {
	for b := range 256 {
		switch {
		case b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b == '_' || b >= 0x80:
			t[b] = 3
		case b >= '0' && b <= '9' || b == '-' || b == '.':
			t[b] = 2
		}
	}
	return t
}()

func isNameStart(b byte) bool { return nameClass[b]&1 != 0 }

func isNameByte(b byte) bool { return nameClass[b] != 0 }

// name reads a QName: NCName, or NCName ':' NCName. Non-ASCII name
// characters are taken as UTF-8 bytes (already validated).
func (p *xmlParser) name() (prefix, local string, err error) {
	s, start := p.s, p.i
	if start >= len(s) || !isNameStart(s[start]) {
		return "", "", xmlErr("expected a name at byte %d", p.i)
	}
	i := start + 1
	for i < len(s) && isNameByte(s[i]) {
		i++
	}
	if i+1 < len(s) && s[i] == ':' && isNameStart(s[i+1]) {
		colon := i
		for i += 2; i < len(s) && isNameByte(s[i]); i++ {
		}
		p.i = i
		return s[start:colon], s[colon+1 : i], nil
	}
	p.i = i
	return "", s[start:i], nil
}

// attrValue reads = "value" (or 'value') and decodes it. plain reports
// a value without the characters canonicalisation escapes (& < " tab
// line feed carriage return): no reference, and no '"' in a value quoted
// with '.
func (p *xmlParser) attrValue() (v string, plain bool, err error) {
	p.skipSpace()
	if p.i >= len(p.s) || p.s[p.i] != '=' {
		return "", false, xmlErr("expected = at byte %d", p.i)
	}
	p.i++
	p.skipSpace()
	if p.i >= len(p.s) || (p.s[p.i] != '"' && p.s[p.i] != '\'') {
		return "", false, xmlErr("expected a quoted value at byte %d", p.i)
	}
	q := p.s[p.i]
	p.i++
	j := strings.IndexByte(p.s[p.i:], q)
	if j < 0 {
		return "", false, xmlErr("unterminated attribute value")
	}
	raw := p.s[p.i : p.i+j]
	p.i += j + 1
	if k := p.rawValueStop(raw); k >= 0 {
		return "", false, xmlErr("attribute value holds %q (literal white space other than space is refused)", raw[k])
	}
	if strings.IndexByte(raw, '&') < 0 {
		return raw, q == '"' || strings.IndexByte(raw, '"') < 0, nil
	}
	v, err = decodeRefs(raw)
	return v, false, err
}

// rawValueStop is the index of the first '<', tab, line feed or carriage
// return in raw, or -1; the three white space characters are looked for
// only when the document holds one.
func (p *xmlParser) rawValueStop(raw string) int {
	if p.ws {
		return strings.IndexAny(raw, "<\t\n\r")
	}
	return strings.IndexByte(raw, '<')
}

// decodeRefs replaces entity and character references and normalises
// literal line ends (CR LF and CR to LF).
func decodeRefs(raw string) (string, error) {
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		switch c {
		case '\r':
			b.WriteByte('\n')
			i++
			if i < len(raw) && raw[i] == '\n' {
				i++
			}
			continue
		case '&':
		default:
			b.WriteByte(c)
			i++
			continue
		}
		end := strings.IndexByte(raw[i:], ';')
		if end < 0 {
			return "", xmlErr("unterminated reference")
		}
		ref := raw[i+1 : i+end]
		i += end + 1
		switch ref {
		case "lt":
			b.WriteByte('<')
		case "gt":
			b.WriteByte('>')
		case "amp":
			b.WriteByte('&')
		case "quot":
			b.WriteByte('"')
		case "apos":
			b.WriteByte('\'')
		default:
			r, ok := charRef(ref)
			if !ok {
				return "", xmlErr("reference &%s; is not accepted", clip(ref))
			}
			b.WriteRune(r)
		}
	}
	return b.String(), nil
}

// charRef decodes "#N" or "#xH" to an XML Char.
func charRef(ref string) (rune, bool) {
	if len(ref) < 2 || ref[0] != '#' {
		return 0, false
	}
	digits, base := ref[1:], 10
	if digits[0] == 'x' {
		digits, base = digits[1:], 16
	}
	if digits == "" || len(digits) > 8 {
		return 0, false
	}
	var n rune
	for i := 0; i < len(digits); i++ {
		d := digits[i]
		var v rune
		switch {
		case d >= '0' && d <= '9':
			v = rune(d - '0')
		case base == 16 && d >= 'a' && d <= 'f':
			v = rune(d-'a') + 10
		case base == 16 && d >= 'A' && d <= 'F':
			v = rune(d-'A') + 10
		default:
			return 0, false
		}
		n = n*rune(base) + v
	}
	ok := n == 0x9 || n == 0xA || n == 0xD || n >= 0x20 && n <= 0xD7FF || n >= 0xE000 && n <= 0xFFFD || n >= 0x10000 && n <= 0x10FFFF
	return n, ok
}

// newNode takes the next node of the preallocated storage (a new block
// when it runs out; nodes never move) and links it under parent.
func (p *xmlParser) newNode(parent *xnode) *xnode {
	d := p.d
	if len(d.free) == 0 {
		d.free = make([]xnode, max(16, len(d.elements)/2))
		d.overflow = true
	}
	n := &d.free[0]
	d.free = d.free[1:]
	n.parent = parent
	if parent != nil {
		if parent.last == nil {
			parent.first = n
		} else {
			parent.last.next = n
		}
		parent.last = n
	}
	return n
}

// content reads the root element and everything in it.
func (p *xmlParser) content() error {
	var cur *xnode
	for {
		if p.i >= len(p.s) {
			return xmlErr("unexpected end of document")
		}
		if p.s[p.i] != '<' {
			j := strings.IndexByte(p.s[p.i:], '<')
			if j < 0 {
				return xmlErr("unexpected end of document")
			}
			raw := p.s[p.i : p.i+j]
			p.i += j
			t := p.newNode(cur)
			t.text = raw
			if strings.IndexByte(raw, '&') >= 0 || p.ws && strings.IndexByte(raw, '\r') >= 0 {
				var err error
				if t.text, err = decodeRefs(raw); err != nil {
					return err
				}
			} else {
				t.plain = strings.IndexByte(raw, '>') < 0
			}
			continue
		}
		if p.i+1 >= len(p.s) {
			return xmlErr("unexpected end of document")
		}
		switch p.s[p.i+1] {
		case '!':
			return xmlErr("DOCTYPE, CDATA or comment at byte %d", p.i)
		case '?':
			return xmlErr("processing instruction at byte %d", p.i)
		case '/':
			if cur == nil {
				return xmlErr("end tag before the root element")
			}
			if err := p.endTag(cur); err != nil {
				return err
			}
			p.ns = p.ns[:cur.nsMark]
			p.depth--
			if cur = cur.parent; cur == nil {
				return nil
			}
		default:
			el, empty, err := p.startTag(cur)
			if err != nil {
				return err
			}
			if empty {
				p.ns = p.ns[:el.nsMark]
				p.depth--
				if cur == nil {
					return nil
				}
				continue
			}
			cur = el
		}
	}
}

// endTag reads the end tag of cur: its name exactly, not followed by
// another name character.
func (p *xmlParser) endTag(cur *xnode) error {
	p.i += 2
	rest, n := p.s[p.i:], 0
	if cur.prefix != "" {
		n = len(cur.prefix) + 1
		if !strings.HasPrefix(rest, cur.prefix) || len(rest) <= len(cur.prefix) || rest[len(cur.prefix)] != ':' {
			n = -1
		}
	}
	if n >= 0 && strings.HasPrefix(rest[n:], cur.local) && (len(rest) == n+len(cur.local) || !isNameByte(rest[n+len(cur.local)]) && rest[n+len(cur.local)] != ':') {
		p.i += n + len(cur.local)
	} else {
		_, local, err := p.name()
		if err != nil {
			return err
		}
		return xmlErr("</%s> closes <%s>", clip(local), clip(cur.local))
	}
	p.skipSpace()
	if p.i >= len(p.s) || p.s[p.i] != '>' {
		return xmlErr("malformed end tag at byte %d", p.i)
	}
	p.i++
	return nil
}

// startTag reads <name attrs...> or <name attrs.../>, declares its
// namespaces and resolves its names.
func (p *xmlParser) startTag(parent *xnode) (*xnode, bool, error) {
	if p.elems++; p.elems > p.lim.maxElements {
		return nil, false, xmlErr("more than %d elements", p.lim.maxElements)
	}
	if p.depth++; p.depth > p.lim.maxDepth {
		return nil, false, xmlErr("nesting deeper than %d", p.lim.maxDepth)
	}
	p.i++
	el := p.newNode(parent)
	el.elem = true
	p.d.elements = append(p.d.elements, el)
	var err error
	if el.prefix, el.local, err = p.name(); err != nil {
		return nil, false, err
	}
	if p.d.root == nil {
		p.d.root = el
	}
	start := len(p.d.attrs)
	empty := false
	for {
		sp := p.skipSpace()
		if p.i >= len(p.s) {
			return nil, false, xmlErr("unterminated start tag")
		}
		if c := p.s[p.i]; c == '>' {
			p.i++
			break
		} else if c == '/' {
			if p.i+1 >= len(p.s) || p.s[p.i+1] != '>' {
				return nil, false, xmlErr("malformed empty-element tag at byte %d", p.i)
			}
			p.i += 2
			empty = true
			break
		}
		if !sp {
			return nil, false, xmlErr("attributes must be separated by white space at byte %d", p.i)
		}
		if len(p.d.attrs)-start >= p.lim.maxAttrs {
			return nil, false, xmlErr("more than %d attributes on <%s>", p.lim.maxAttrs, clip(el.local))
		}
		p.d.attrs = append(p.d.attrs, xattr{})
		a := &p.d.attrs[len(p.d.attrs)-1]
		if a.prefix, a.local, err = p.name(); err != nil {
			return nil, false, err
		}
		if a.value, a.plain, err = p.attrValue(); err != nil {
			return nil, false, err
		}
	}
	el.attrs = p.d.attrs[start:len(p.d.attrs):len(p.d.attrs)]
	return el, empty, p.namespaces(el)
}

// namespaces declares el's namespaces, resolves its names and refuses
// duplicate attributes.
func (p *xmlParser) namespaces(el *xnode) error {
	el.nsMark = int32(len(p.ns))
	for i := range el.attrs {
		a := &el.attrs[i]
		if !a.isNSDecl() {
			continue
		}
		prefix := a.local
		if a.prefix == "" {
			prefix = ""
		}
		switch {
		case prefix == "xml" || prefix == "xmlns":
			return xmlErr("declaration of the reserved prefix %s", prefix)
		case a.value == nsXML || a.value == nsXMLNS:
			return xmlErr("declaration of a reserved namespace")
		case a.value == "":
			return xmlErr("namespace undeclaration on <%s> (xmlns%s=\"\") is not accepted", clip(el.local), clip(":"+prefix))
		}
		p.ns = append(p.ns, xbinding{prefix, internNS(a.value)})
	}
	var ok bool
	if el.ns, ok = p.lookup(el.prefix); !ok {
		return xmlErr("undeclared prefix %s on <%s>", clip(el.prefix), clip(el.local))
	}
	for i := range el.attrs {
		a := &el.attrs[i]
		for j := range i {
			if b := &el.attrs[j]; b.prefix == a.prefix && b.local == a.local {
				return xmlErr("duplicate attribute %s on <%s>", clip(a.local), clip(el.local))
			}
		}
		if a.isNSDecl() || a.prefix == "" {
			continue
		}
		if a.ns, ok = p.lookup(a.prefix); !ok {
			return xmlErr("undeclared prefix %s on attribute %s", clip(a.prefix), clip(a.local))
		}
		for j := range i {
			if b := &el.attrs[j]; !b.isNSDecl() && b.ns == a.ns && b.local == a.local {
				return xmlErr("duplicate attribute {%s}%s", clip(a.ns), clip(a.local))
			}
		}
	}
	return nil
}

// internNS returns the package's own copy of a namespace it compares
// names with, so that those comparisons find equal pointers.
func internNS(uri string) string {
	switch uri {
	case nsSAML:
		return nsSAML
	case nsSAMLP:
		return nsSAMLP
	case nsDSig:
		return nsDSig
	case nsExcC14N:
		return nsExcC14N
	case nsTrust05:
		return nsTrust05
	case nsTrust13:
		return nsTrust13
	case nsSAML11:
		return nsSAML11
	}
	return uri
}

// lookup resolves a prefix in the declarations in scope; "" without a
// default namespace is no namespace. The xml prefix is refused: the
// reader accepts no xml:* name.
func (p *xmlParser) lookup(prefix string) (string, bool) {
	for i := len(p.ns) - 1; i >= 0; i-- {
		if p.ns[i].prefix == prefix {
			return p.ns[i].uri, true
		}
	}
	return "", prefix == ""
}

// Reading helpers over the tree.

// is reports whether n is the element {ns}local.
func (n *xnode) is(ns, local string) bool {
	return n != nil && n.elem && n.local == local && n.ns == ns
}

// attr returns n's unqualified attribute key.
func (n *xnode) attr(key string) string {
	for i := range n.attrs {
		if a := &n.attrs[i]; a.prefix == "" && a.local == key {
			return a.value
		}
	}
	return ""
}

// lookupNS resolves prefix in n's scope (its declarations and its
// ancestors').
func (n *xnode) lookupNS(prefix string) (string, bool) {
	for e := n; e != nil; e = e.parent {
		for i := range e.attrs {
			a := &e.attrs[i]
			if a.prefix == "xmlns" && a.local == prefix || prefix == "" && a.prefix == "" && a.local == "xmlns" {
				return a.value, true
			}
		}
	}
	return "", prefix == ""
}
