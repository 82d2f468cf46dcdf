package jws

import "strconv"

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
func memberOf(name []byte) uint16 {
	switch string(name) {
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
// members are strings. Unknown members may hold any JSON value.
type headerParser struct {
	sc      scanner
	str     string // string(sc.data), made on first use; field values slice it
	seen    uint16
	n       int      // members read
	nu      int      // unknown members read
	unknown [8]span  // names of the first unknown members
	more    []span   // names of further unknown members
	escaped [][]byte // decoded names of unknown members spelled with escapes
	h       Header
}

// span locates an unknown member's name: data[start:end], or, for a name
// with escapes, escaped[end] when start < 0. Spans hold no pointers, so the
// parser stays on the stack.
type span struct{ start, end int }

func (p *headerParser) name(s span) []byte {
	if s.start < 0 {
		return p.escaped[s.end]
	}
	return p.sc.data[s.start:s.end]
}

// parseHeader parses and checks a decoded protected header.
func parseHeader(raw []byte) (Header, error) {
	p := headerParser{sc: scanner{data: raw}}
	if err := p.object(); err != nil {
		return Header{}, err
	}
	if err := p.check(); err != nil {
		return Header{}, err
	}
	return p.h, nil
}

func (p *headerParser) object() error {
	if !p.sc.consume('{') {
		return fail(ErrHeaderJSON, "header is not a JSON object")
	}
	if !p.sc.consume('}') {
		for {
			if err := p.member(); err != nil {
				return err
			}
			if p.sc.consume('}') {
				break
			}
			if !p.sc.consume(',') {
				return p.syntax(errSyntax)
			}
		}
	}
	p.sc.skipSpace()
	if p.sc.pos != len(p.sc.data) {
		return fail(ErrHeaderJSON, "data after the header object")
	}
	return nil
}

func (p *headerParser) syntax(err error) *Error {
	return fail(ErrHeaderJSON, err.Error()+" at offset "+strconv.Itoa(p.sc.pos))
}

func (p *headerParser) member() error {
	raw, escaped, err := p.sc.readString()
	if err != nil {
		return p.syntax(err)
	}
	name, loc := raw, span{p.sc.pos - 1 - len(raw), p.sc.pos - 1}
	if escaped {
		name = unescape(nil, raw)
		loc = span{-1, len(p.escaped)}
	}
	id := memberOf(name)
	if err := p.note(id, name, loc); err != nil {
		return err
	}
	if escaped && id == 0 {
		p.escaped = append(p.escaped, name)
	}
	if !p.sc.consume(':') {
		return p.syntax(errSyntax)
	}
	return p.value(id, name)
}

// note records a member name and rejects repeats and too many members.
func (p *headerParser) note(id uint16, name []byte, loc span) error {
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
		if string(p.name(s)) == string(name) {
			return duplicate(name)
		}
	}
	for _, s := range p.more {
		if string(p.name(s)) == string(name) {
			return duplicate(name)
		}
	}
	if p.nu < len(p.unknown) {
		p.unknown[p.nu] = loc
	} else {
		p.more = append(p.more, loc)
	}
	p.nu++
	return nil
}

func duplicate(name []byte) *Error {
	return fail(ErrDuplicateHeader, strconv.Quote(truncate(string(name))))
}

func (p *headerParser) value(id uint16, name []byte) error {
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
		if err := p.sc.skipValue(0); err != nil {
			return p.syntax(err)
		}
		return nil
	}
	s, err := p.stringValue(name)
	*dst = s
	return err
}

// stringValue reads a string value; values without escapes share one
// string made from the whole header, so a header costs one allocation.
func (p *headerParser) stringValue(name []byte) (string, error) {
	if p.sc.next() != '"' {
		return "", fail(ErrHeaderJSON, "member "+strconv.Quote(string(name))+" is not a string")
	}
	raw, escaped, err := p.sc.readString()
	if err != nil {
		return "", p.syntax(err)
	}
	if escaped {
		return string(unescape(nil, raw)), nil
	}
	if p.str == "" {
		p.str = string(p.sc.data)
	}
	end := p.sc.pos - 1
	return p.str[end-len(raw) : end], nil
}

// crit reads the crit value, which must be an array of strings. Any crit
// member makes the header unacceptable; the type is still checked so the
// error says what is really wrong.
func (p *headerParser) crit() error {
	if !p.sc.consume('[') {
		return fail(ErrHeaderJSON, `member "crit" is not an array`)
	}
	if p.sc.consume(']') {
		return nil
	}
	for {
		if p.sc.next() != '"' {
			return fail(ErrHeaderJSON, `member "crit" holds a non-string`)
		}
		if _, _, err := p.sc.readString(); err != nil {
			return p.syntax(err)
		}
		if p.sc.consume(']') {
			return nil
		}
		if !p.sc.consume(',') {
			return p.syntax(errSyntax)
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
