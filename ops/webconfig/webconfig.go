// Package webconfig reads and rewrites the thumbprints a WIF relying party
// trusts in its Web.config: the issuerNameRegistry of a
// ValidatingIssuerNameRegistry (authority/keys/add thumbprint) or of a
// ConfigurationBasedIssuerNameRegistry (trustedIssuers/add thumbprint, name).
//
// [Parse] reports every entry with its line; [Replace] swaps the thumbprints
// of one issuer in place, textually, so every other byte of the file stays as
// it was (comments, attribute order, line endings, indentation). Neither
// re-serializes the XML.
//
// Documents larger than [MaxSize], with a DTD, or in an encoding other than
// UTF-8 are refused.
package webconfig

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/keyroll/keyroll/lifecycle"
)

// MaxSize is the largest Web.config accepted: 4 MiB, far above any real one.
const MaxSize = 4 << 20

// Layout says which registry layout an entry came from.
type Layout string

// The two layouts WIF writes.
const (
	// Validating is ValidatingIssuerNameRegistry: authority name=..., keys/add thumbprint=...
	Validating Layout = "ValidatingIssuerNameRegistry"
	// ConfigurationBased is ConfigurationBasedIssuerNameRegistry: trustedIssuers/add thumbprint=... name=...
	ConfigurationBased Layout = "ConfigurationBasedIssuerNameRegistry"
)

// Errors callers act on.
var (
	// ErrTooLarge: the document is over MaxSize.
	ErrTooLarge = fmt.Errorf("Web.config is larger than %d bytes", MaxSize)
	// ErrDTD: the document declares a DTD (a vehicle for entity expansion and external entities).
	ErrDTD = errors.New("Web.config declares a DTD (<!DOCTYPE>), which is not allowed")
	// ErrEncoding: the document is not UTF-8.
	ErrEncoding = errors.New("Web.config is not UTF-8 (UTF-16 and other encodings are not supported; save it as UTF-8)")
	// ErrNoRegistry: the document has no issuerNameRegistry with thumbprints.
	ErrNoRegistry = errors.New("no issuerNameRegistry with thumbprint entries (ValidatingIssuerNameRegistry keys or ConfigurationBasedIssuerNameRegistry trustedIssuers) found")
)

// SyntaxError is malformed XML, with the line it was found on.
type SyntaxError struct {
	Line int
	Err  error
}

// Error implements error.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("Web.config is not well-formed XML (line %d): %v", e.Line, e.Err)
}

// Unwrap returns the underlying error.
func (e *SyntaxError) Unwrap() error { return e.Err }

// Entry is one trusted thumbprint.
type Entry struct {
	Layout Layout
	// Issuer is the issuer the thumbprint is trusted for: the authority name
	// (Validating) or the add element's name attribute (ConfigurationBased).
	Issuer string
	// Raw is the thumbprint attribute as written (entities decoded).
	Raw string
	// Thumbprint is Raw normalized to upper-case hex without separators, or
	// "" when Raw is not hex.
	Thumbprint string
	// Line is the 1-based line of the add element.
	Line int

	start, end       int  // byte range of the add element
	valStart, valEnd int  // byte range of the thumbprint value, inside the quotes
	lineStart        int  // start of the element's line
	ownLine          bool // only blanks precede the element on its line
}

// Config is what Parse found.
type Config struct {
	// Entries are all thumbprint entries, in document order.
	Entries []Entry
	// Types are the type attributes of the issuerNameRegistry elements, whitespace collapsed.
	Types []string
}

// Issuers returns the distinct issuer names of the entries, in document order.
func (c *Config) Issuers() []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range c.Entries {
		if !seen[e.Issuer] {
			seen[e.Issuer] = true
			out = append(out, e.Issuer)
		}
	}
	return out
}

// Parse reads the thumbprint entries of every issuerNameRegistry in data.
func Parse(data []byte) (*Config, error) {
	if len(data) > MaxSize {
		return nil, ErrTooLarge
	}
	if isUTF16(data) {
		return nil, ErrEncoding
	}
	p := &parser{data: data, dec: xml.NewDecoder(bytes.NewReader(data))}
	p.dec.Strict = true
	p.dec.CharsetReader = func(label string, _ io.Reader) (io.Reader, error) {
		return nil, fmt.Errorf("%w (declared encoding %q)", ErrEncoding, label)
	}
	if err := p.run(); err != nil {
		return nil, err
	}
	if len(p.cfg.Entries) == 0 {
		return nil, ErrNoRegistry
	}
	return &p.cfg, nil
}

func isUTF16(b []byte) bool {
	return len(b) >= 2 && ((b[0] == 0xFF && b[1] == 0xFE) || (b[0] == 0xFE && b[1] == 0xFF) || (b[0] == '<' && b[1] == 0) || (b[0] == 0 && b[1] == '<'))
}

type parser struct {
	data  []byte
	dec   *xml.Decoder
	cfg   Config
	stack []frame
	lines lineCounter
}

// lineCounter tells the line of increasing offsets in one pass over the
// data: each call scans only the bytes since the previous one.
type lineCounter struct {
	pos       int // bytes before pos are counted
	line      int // 0-based line at pos
	lineStart int // offset of the start of that line
}

// at returns the 1-based line of offset off and the offset its line starts
// at; off must not be less than in the previous call.
func (c *lineCounter) at(data []byte, off int) (line, lineStart int) {
	if off > c.pos {
		seg := data[c.pos:off]
		if n := bytes.Count(seg, []byte("\n")); n > 0 {
			c.line += n
			c.lineStart = c.pos + bytes.LastIndexByte(seg, '\n') + 1
		}
		c.pos = off
	}
	return c.line + 1, c.lineStart
}

// frame is one open element.
type frame struct {
	name      string
	authority string // the enclosing Validating authority's name
	entry     int    // index in cfg.Entries when this element is an entry, else -1
}

func (p *parser) run() error {
	for {
		start := int(p.dec.InputOffset())
		tok, err := p.dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if errors.Is(err, ErrEncoding) {
				return ErrEncoding
			}
			line, _ := p.dec.InputPos()
			return &SyntaxError{Line: line, Err: err}
		}
		if err := p.token(tok, start); err != nil {
			return err
		}
	}
}

func (p *parser) token(tok xml.Token, start int) error {
	switch t := tok.(type) {
	case xml.Directive:
		if bytes.HasPrefix(bytes.TrimSpace(t), []byte("DOCTYPE")) {
			return ErrDTD
		}
	case xml.StartElement:
		return p.startElement(t, start)
	case xml.EndElement:
		n := len(p.stack)
		if n == 0 {
			return nil
		}
		if f := p.stack[n-1]; f.entry >= 0 {
			p.cfg.Entries[f.entry].end = int(p.dec.InputOffset())
		}
		p.stack = p.stack[:n-1]
	}
	return nil
}

func (p *parser) startElement(t xml.StartElement, start int) error {
	f := frame{name: t.Name.Local, entry: -1}
	if n := len(p.stack); n > 0 {
		f.authority = p.stack[n-1].authority
	}
	switch {
	case f.name == "issuerNameRegistry":
		p.cfg.Types = append(p.cfg.Types, strings.Join(strings.Fields(attr(t, "type")), " "))
	case f.name == "authority" && p.path("issuerNameRegistry"):
		f.authority = attr(t, "name")
	case f.name == "add":
		if l := p.layout(); l != "" {
			if err := p.entry(t, start, l, f.authority); err != nil {
				return err
			}
			f.entry = len(p.cfg.Entries) - 1
		}
	}
	p.stack = append(p.stack, f)
	return nil
}

// path reports whether the innermost open elements are names, outermost first.
func (p *parser) path(names ...string) bool {
	if len(p.stack) < len(names) {
		return false
	}
	top := p.stack[len(p.stack)-len(names):]
	for i, n := range names {
		if top[i].name != n {
			return false
		}
	}
	return true
}

// layout returns the registry layout an add element opened now belongs to, or "".
func (p *parser) layout() Layout {
	switch {
	case p.path("issuerNameRegistry", "trustedIssuers"):
		return ConfigurationBased
	case p.path("issuerNameRegistry", "authority", "keys"):
		return Validating
	}
	return ""
}

func (p *parser) entry(t xml.StartElement, start int, layout Layout, authority string) error {
	e := Entry{Layout: layout, Issuer: authority, Raw: attr(t, "thumbprint"), start: start}
	if layout == ConfigurationBased {
		e.Issuer = attr(t, "name")
	}
	e.Thumbprint = lifecycle.NormalizeThumbprint(e.Raw)
	e.Line, e.lineStart = p.lines.at(p.data, start)
	tagEnd := bytes.IndexByte(p.data[start:], '>')
	if tagEnd < 0 {
		return &SyntaxError{Line: e.Line, Err: errors.New("unterminated add element")}
	}
	vs, ve, ok := findAttr(p.data[start:start+tagEnd+1], "thumbprint")
	if !ok {
		return &SyntaxError{Line: e.Line, Err: errors.New("add element without a thumbprint attribute")}
	}
	e.valStart, e.valEnd = start+vs, start+ve
	e.ownLine = len(bytes.TrimLeft(p.data[e.lineStart:start], " \t")) == 0
	p.cfg.Entries = append(p.cfg.Entries, e)
	return nil
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}
