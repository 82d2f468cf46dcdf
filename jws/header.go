package jws

import (
	"strconv"

	"github.com/keyroll/keyroll/internal/jsonscan"
)

// maxHeaderMembers bounds the number of members a header may have.
const maxHeaderMembers = 64

// Header members the parser knows, as bits.
const (
	mAlg uint16 = 1 << iota
	mKid
	mTyp
	mCty
	mX5t
	mX5tS256
	mCrit
	mB64
	mJwk
	mJku
	mX5u
	mX5c
)

// memberOf returns the bit for a known member name, or 0.
func memberOf(name string) uint16 {
	switch name {
	case "alg":
		return mAlg
	case "kid":
		return mKid
	case "typ":
		return mTyp
	case "cty":
		return mCty
	case "x5t":
		return mX5t
	case "x5t#S256":
		return mX5tS256
	case "crit":
		return mCrit
	case "b64":
		return mB64
	case "jwk":
		return mJwk
	case "jku":
		return mJku
	case "x5u":
		return mX5u
	case "x5c":
		return mX5c
	}
	return 0
}

// headerParser reads a protected header: a flat JSON object whose known
// members are strings. Unknown members may hold any JSON value. It reads
// with the shared strict scanner (internal/jsonscan): valid UTF-8 only, no
// lone surrogate escapes, skipped values nested at most maxDepth deep.
type headerParser struct {
	sc      jsonscan.Scanner
	seen    uint16
	n       int       // members read
	nu      int       // unknown members read
	unknown [8]string // names of the first unknown members
	more    []string  // names of further unknown members
	h       Header
}

// maxDepth bounds nesting inside skipped header values.
const maxDepth = 16

// parseHeader parses and checks a decoded protected header. The header is
// copied into one string that member values without escapes share, so a
// header costs one allocation.
func parseHeader(raw []byte) (Header, error) {
	p := headerParser{sc: jsonscan.New(string(raw), jsonscan.Options{MaxDepth: maxDepth, Strict: true})}
	if err := p.object(); err != nil {
		return Header{}, err
	}
	if err := p.check(); err != nil {
		return Header{}, err
	}
	return p.h, nil
}

func (p *headerParser) object() error {
	if !p.sc.Consume('{') {
		return fail(ErrHeaderJSON, "header is not a JSON object")
	}
	if !p.sc.Consume('}') {
		for {
			if err := p.member(); err != nil {
				return err
			}
			if done, err := p.sc.More('}'); err != nil {
				return p.syntax(err)
			} else if done {
				break
			}
		}
	}
	if !p.sc.End() {
		return fail(ErrHeaderJSON, "data after the header object")
	}
	return nil
}

func (p *headerParser) syntax(err error) *Error {
	return fail(ErrHeaderJSON, err.Error()+" at offset "+strconv.Itoa(p.sc.Pos()))
}

func (p *headerParser) member() error {
	p.sc.Space()
	name, err := p.str()
	if err != nil {
		return err
	}
	id := memberOf(name)
	if err := p.note(id, name); err != nil {
		return err
	}
	if !p.sc.Consume(':') {
		return p.syntax(jsonscan.ErrSyntax)
	}
	return p.value(id, name)
}

// str reads a string; without escapes it is a substring of the header.
func (p *headerParser) str() (string, error) {
	raw, f, err := p.sc.String()
	if err != nil {
		return "", p.syntax(err)
	}
	if f&jsonscan.Escaped != 0 {
		return jsonscan.Unescape(raw), nil
	}
	return raw, nil
}

// note records a member name and rejects repeats and too many members.
func (p *headerParser) note(id uint16, name string) error {
	if p.n++; p.n > maxHeaderMembers {
		return fail(ErrHeaderJSON, "more than "+strconv.Itoa(maxHeaderMembers)+" members")
	}
	if id != 0 {
		if p.seen&id != 0 {
			return duplicate(name)
		}
		p.seen |= id
		return nil
	}
	for _, s := range p.unknown[:min(p.nu, len(p.unknown))] {
		if s == name {
			return duplicate(name)
		}
	}
	for _, s := range p.more {
		if s == name {
			return duplicate(name)
		}
	}
	if p.nu < len(p.unknown) {
		p.unknown[p.nu] = name
	} else {
		p.more = append(p.more, name)
	}
	p.nu++
	return nil
}

func duplicate(name string) *Error {
	return fail(ErrDuplicateHeader, strconv.Quote(truncate(name)))
}

func (p *headerParser) value(id uint16, name string) error {
	var dst *string
	switch id {
	case mAlg:
		dst = &p.h.Alg
	case mKid:
		dst = &p.h.Kid
	case mTyp:
		dst = &p.h.Typ
	case mCty:
		dst = &p.h.Cty
	case mX5t:
		dst = &p.h.X5t
	case mX5tS256:
		dst = &p.h.X5tS256
	case mCrit:
		return p.crit()
	default: // unknown, b64 and key references: checked after the scan
		if err := p.sc.Skip(); err != nil {
			return p.syntax(err)
		}
		return nil
	}
	s, err := p.stringValue(name)
	*dst = s
	return err
}

// stringValue reads a string value.
func (p *headerParser) stringValue(name string) (string, error) {
	if p.sc.Next() != '"' {
		return "", fail(ErrHeaderJSON, "member "+strconv.Quote(name)+" is not a string")
	}
	return p.str()
}

// crit reads the crit value, which must be an array of strings. Any crit
// member makes the header unacceptable; the type is still checked so the
// error says what is really wrong.
func (p *headerParser) crit() error {
	if !p.sc.Consume('[') {
		return fail(ErrHeaderJSON, `member "crit" is not an array`)
	}
	if p.sc.Consume(']') {
		return nil
	}
	for {
		if p.sc.Next() != '"' {
			return fail(ErrHeaderJSON, `member "crit" holds a non-string`)
		}
		if _, _, err := p.sc.String(); err != nil {
			return p.syntax(err)
		}
		if done, err := p.sc.More(']'); err != nil {
			return p.syntax(err)
		} else if done {
			return nil
		}
	}
}

// check applies the header policy once the whole header has been read.
func (p *headerParser) check() error {
	if ref := p.seen & (mJwk | mJku | mX5u | mX5c); ref != 0 {
		return fail(ErrEmbeddedKey, "header member "+refName(ref))
	}
	if p.seen&mCrit != 0 {
		return fail(ErrUnsupportedCrit, `header member "crit"`)
	}
	if p.seen&mB64 != 0 {
		return fail(ErrUnsupportedCrit, `header member "b64" (unencoded payload)`)
	}
	a := lookupAlg(p.h.Alg)
	if a == nil {
		return algError(p.h.Alg)
	}
	p.h.Alg = a.name // the canonical constant
	return nil
}

func refName(ref uint16) string {
	switch {
	case ref&mJwk != 0:
		return `"jwk"`
	case ref&mJku != 0:
		return `"jku"`
	case ref&mX5u != 0:
		return `"x5u"`
	}
	return `"x5c"`
}
