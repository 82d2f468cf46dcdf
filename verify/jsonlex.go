package verify

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// A small JSON lexer for the claims scanner: it validates what it skips
// and never allocates unless a string has escapes.

func (p *scanner) ws() {
	for p.i < len(p.s) && p.s[p.i] <= ' ' {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *scanner) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *scanner) expect(b byte) bool {
	p.ws()
	if p.peek() == b {
		p.i++
		return true
	}
	return false
}

// number consumes a JSON number and returns its text.
func (p *scanner) number() (string, bool) {
	start := p.i
	if p.peek() == '-' {
		p.i++
	}
	switch {
	case p.peek() == '0':
		p.i++
	case isDigit(p.peek()):
		p.digits()
	default:
		return "", false
	}
	if p.peek() == '.' {
		p.i++
		if !isDigit(p.peek()) {
			return "", false
		}
		p.digits()
	}
	if b := p.peek(); b == 'e' || b == 'E' {
		p.i++
		if b := p.peek(); b == '+' || b == '-' {
			p.i++
		}
		if !isDigit(p.peek()) {
			return "", false
		}
		p.digits()
	}
	return p.s[start:p.i], true
}

func (p *scanner) digits() {
	for isDigit(p.peek()) {
		p.i++
	}
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// str reads a JSON string; without escapes it is a substring of the
// payload. ascii reports that the result needs no UTF-8 check.
func (p *scanner) str() (s string, ascii bool, err error) {
	if p.peek() != '"' {
		return "", false, claimsErr("expected a string at offset %d", p.i)
	}
	start, ascii := p.i+1, true
	for i := start; ; i++ {
		i = plainRun(p.s, i)
		switch {
		case i == len(p.s):
			return "", false, claimsErr("unterminated string")
		case p.s[i] == '"':
			p.i = i + 1
			return p.s[start:i], ascii, nil
		case p.s[i] == '\\':
			s, err := p.unescape(start)
			return s, false, err
		case p.s[i] < 0x20:
			return "", false, claimsErr("control character in a string")
		}
		ascii = false // a byte >= 0x80
	}
}

// unescape decodes a string with escapes the way encoding/json does
// (lone surrogates become U+FFFD).
func (p *scanner) unescape(start int) (string, error) {
	var b strings.Builder
	for i := start; i < len(p.s); {
		c := p.s[i]
		switch {
		case c == '"':
			p.i = i + 1
			return b.String(), nil
		case c < 0x20:
			return "", claimsErr("control character in a string")
		case c != '\\':
			b.WriteByte(c)
			i++
			continue
		}
		r, n, ok := escape(p.s[i:])
		if !ok {
			return "", claimsErr("bad escape in a string")
		}
		b.WriteRune(r)
		i += n
	}
	return "", claimsErr("unterminated string")
}

// escape decodes the escape sequence at the start of s.
func escape(s string) (rune, int, bool) {
	if len(s) < 2 {
		return 0, 0, false
	}
	switch s[1] {
	case '"', '\\', '/':
		return rune(s[1]), 2, true
	case 'b':
		return '\b', 2, true
	case 'f':
		return '\f', 2, true
	case 'n':
		return '\n', 2, true
	case 'r':
		return '\r', 2, true
	case 't':
		return '\t', 2, true
	case 'u':
	default:
		return 0, 0, false
	}
	r, ok := hex4(s[2:])
	if !ok {
		return 0, 0, false
	}
	if !utf16.IsSurrogate(r) {
		return r, 6, true
	}
	if len(s) >= 12 && s[6] == '\\' && s[7] == 'u' {
		if r2, ok := hex4(s[8:]); ok {
			if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
				return d, 12, true
			}
		}
	}
	return utf8.RuneError, 6, true
}

func hex4(s string) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(s[:4], 16, 32)
	return rune(n), err == nil
}

// skip validates and skips one JSON value.
func (p *scanner) skip(depth int) error {
	if depth > maxJSONDepth {
		return claimsErr("JSON nested deeper than %d", maxJSONDepth)
	}
	p.ws()
	switch b := p.peek(); {
	case b == '"':
		return p.skipString()
	case b == '{':
		return p.skipObject(depth)
	case b == '[':
		return p.skipArray(depth)
	case b == 't':
		return p.literal("true")
	case b == 'f':
		return p.literal("false")
	case b == 'n':
		return p.literal("null")
	case b == '-' || isDigit(b):
		if _, ok := p.number(); ok {
			return nil
		}
	}
	return claimsErr("bad JSON value at offset %d", p.i)
}

func (p *scanner) literal(lit string) error {
	if !strings.HasPrefix(p.s[p.i:], lit) {
		return claimsErr("bad JSON literal at offset %d", p.i)
	}
	p.i += len(lit)
	return nil
}

func (p *scanner) skipString() error {
	for i := p.i + 1; ; {
		i = plainRun(p.s, i)
		switch {
		case i == len(p.s):
			return claimsErr("unterminated string")
		case p.s[i] == '"':
			p.i = i + 1
			return nil
		case p.s[i] == '\\':
			_, n, ok := escape(p.s[i:])
			if !ok {
				return claimsErr("bad escape in a string")
			}
			i += n
		case p.s[i] < 0x20:
			return claimsErr("control character in a string")
		default: // a byte >= 0x80
			i++
		}
	}
}

// stop marks the bytes that end a run of plain ASCII string content.
var stop = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80
	}
	return t
}()

// plainRun returns the index of the first stop byte in s from i on, or
// len(s), eight bytes at a time where it can.
func plainRun(s string, i int) int {
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if stops(w) {
			break
		}
	}
	for i < len(s) && !stop[s[i]] {
		i++
	}
	return i
}

// stops reports whether any byte of w is a stop byte. A byte >= 0x80 sets
// its top bit; otherwise every byte is below 0x80 and subtracting from a
// byte that is below 0x20, or zero after the xor with '"' or '\\', borrows
// into its top bit (borrows only ever start at a true match).
func stops(w uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	return (w|(w-lo*0x20)|((w^(lo*'"'))-lo)|((w^(lo*'\\'))-lo))&hi != 0
}

func (p *scanner) skipObject(depth int) error {
	p.i++
	p.ws()
	if p.peek() == '}' {
		p.i++
		return nil
	}
	for {
		p.ws()
		if p.peek() != '"' {
			return claimsErr("expected a member name at offset %d", p.i)
		}
		if err := p.skipString(); err != nil {
			return err
		}
		if !p.expect(':') {
			return claimsErr("missing ':' at offset %d", p.i)
		}
		if err := p.skip(depth + 1); err != nil {
			return err
		}
		if done, err := p.next('}'); done || err != nil {
			return err
		}
	}
}

func (p *scanner) skipArray(depth int) error {
	p.i++
	p.ws()
	if p.peek() == ']' {
		p.i++
		return nil
	}
	for {
		if err := p.skip(depth + 1); err != nil {
			return err
		}
		if done, err := p.next(']'); done || err != nil {
			return err
		}
	}
}

// next consumes ',' (more to come) or the closing byte (done).
func (p *scanner) next(closing byte) (done bool, err error) {
	p.ws()
	switch p.peek() {
	case ',':
		p.i++
		return false, nil
	case closing:
		p.i++
		return true, nil
	}
	return true, claimsErr("expected ',' or '%c' at offset %d", closing, p.i)
}
