package jws

import (
	"errors"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner reads JSON from a byte slice. It validates strictly (RFC 8259: no
// control characters or invalid UTF-8 in strings, no lone surrogate escapes,
// no trailing commas) and never allocates except to unescape strings.
type scanner struct {
	data []byte
	pos  int
}

// maxDepth bounds nesting inside skipped header values.
const maxDepth = 16

var (
	errSyntax   = errors.New("syntax error")
	errDepth    = errors.New("values nested too deeply")
	errEncoding = errors.New("invalid UTF-8 or escape in string")
)

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// next returns the next non-space byte without consuming it; 0 at the end.
func (s *scanner) next() byte {
	s.skipSpace()
	if s.pos >= len(s.data) {
		return 0
	}
	return s.data[s.pos]
}

// consume skips space and then c; it reports whether c was there.
func (s *scanner) consume(c byte) bool {
	if s.next() != c {
		return false
	}
	s.pos++
	return true
}

// readString reads a string starting at the current '"'. It returns the bytes
// between the quotes and whether they contain escapes (then they must go
// through unescape). The content is fully validated.
func (s *scanner) readString() (raw []byte, escaped bool, err error) {
	if s.next() != '"' {
		return nil, false, errSyntax
	}
	s.pos++
	start := s.pos
	ascii := true
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			raw = s.data[start:s.pos]
			s.pos++
			if !ascii && !utf8.Valid(raw) {
				return nil, false, errEncoding
			}
			return raw, escaped, nil
		case c == '\\':
			escaped = true
			if err := s.skipEscape(); err != nil {
				return nil, false, err
			}
		case c < 0x20:
			return nil, false, errSyntax
		default:
			if c >= 0x80 {
				ascii = false
			}
			s.pos++
		}
	}
	return nil, false, errSyntax
}

// skipEscape validates one escape sequence at s.pos (the backslash), pairing
// surrogate \u escapes, and moves past it.
func (s *scanner) skipEscape() error {
	if s.pos+1 >= len(s.data) {
		return errSyntax
	}
	switch s.data[s.pos+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.pos += 2
		return nil
	case 'u':
		r, ok := hex4(s.data, s.pos+2)
		if !ok {
			return errEncoding
		}
		s.pos += 6
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			return errEncoding // low surrogate without a high one
		case r >= 0xD800 && r <= 0xDBFF:
			lo, ok := lowSurrogate(s.data, s.pos)
			if !ok || lo == 0 {
				return errEncoding
			}
			s.pos += 6
		}
		return nil
	}
	return errEncoding
}

// lowSurrogate reads a \uDC00..\uDFFF escape at i; 0 if it is not one.
func lowSurrogate(b []byte, i int) (rune, bool) {
	if i+1 >= len(b) || b[i] != '\\' || b[i+1] != 'u' {
		return 0, true
	}
	r, ok := hex4(b, i+2)
	if !ok {
		return 0, false
	}
	if r < 0xDC00 || r > 0xDFFF {
		return 0, true
	}
	return r, true
}

// hex4 decodes four hex digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// unescape appends the decoded form of raw, already validated by readString,
// to dst.
func unescape(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		switch raw[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, _ := hex4(raw, i+2)
			i += 6
			if r >= 0xD800 && r <= 0xDBFF {
				lo, _ := hex4(raw, i+2)
				r = utf16.DecodeRune(r, lo)
				i += 6
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, raw[i+1])
		}
		i += 2
	}
	return dst
}

// skipValue validates and skips any JSON value.
func (s *scanner) skipValue(depth int) error {
	if depth > maxDepth {
		return errDepth
	}
	switch c := s.next(); {
	case c == '"':
		_, _, err := s.readString()
		return err
	case c == '{':
		return s.skipObject(depth)
	case c == '[':
		return s.skipArray(depth)
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	}
	return errSyntax
}

func (s *scanner) skipObject(depth int) error {
	s.pos++ // '{'
	if s.consume('}') {
		return nil
	}
	for {
		if _, _, err := s.readString(); err != nil {
			return err
		}
		if !s.consume(':') {
			return errSyntax
		}
		if err := s.skipValue(depth + 1); err != nil {
			return err
		}
		if s.consume('}') {
			return nil
		}
		if !s.consume(',') {
			return errSyntax
		}
	}
}

func (s *scanner) skipArray(depth int) error {
	s.pos++ // '['
	if s.consume(']') {
		return nil
	}
	for {
		if err := s.skipValue(depth + 1); err != nil {
			return err
		}
		if s.consume(']') {
			return nil
		}
		if !s.consume(',') {
			return errSyntax
		}
	}
}

func (s *scanner) literal(word string) error {
	if len(s.data)-s.pos < len(word) || string(s.data[s.pos:s.pos+len(word)]) != word {
		return errSyntax
	}
	s.pos += len(word)
	return nil
}

// number skips -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() error {
	if s.pos < len(s.data) && s.data[s.pos] == '-' {
		s.pos++
	}
	switch {
	case s.pos < len(s.data) && s.data[s.pos] == '0':
		s.pos++
	case !s.digits():
		return errSyntax
	}
	if s.pos < len(s.data) && s.data[s.pos] == '.' {
		s.pos++
		if !s.digits() {
			return errSyntax
		}
	}
	if s.pos < len(s.data) && (s.data[s.pos] == 'e' || s.data[s.pos] == 'E') {
		s.pos++
		if s.pos < len(s.data) && (s.data[s.pos] == '+' || s.data[s.pos] == '-') {
			s.pos++
		}
		if !s.digits() {
			return errSyntax
		}
	}
	return nil
}

// digits skips [0-9]+ and reports whether there was at least one.
func (s *scanner) digits() bool {
	start := s.pos
	for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
		s.pos++
	}
	return s.pos > start
}
