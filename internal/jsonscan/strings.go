package jsonscan

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Flags say what a string read by [Scanner.String] holds.
type Flags uint8

const (
	// Escaped: the raw string holds escapes; decode it with [Unescape].
	Escaped Flags = 1 << iota
	// NonASCII: the raw string holds bytes from 0x80 on. With
	// [Options.Strict] they are valid UTF-8; otherwise that is unchecked.
	NonASCII
)

// String reads a string at the current byte (which must be '"'; space is
// not skipped) and returns the bytes between the quotes, a substring of
// the input. Its grammar is checked; decode it with [Unescape] when
// Escaped is set.
func (p *Scanner) String() (raw string, f Flags, err error) {
	if p.Peek() != '"' {
		return "", 0, ErrSyntax
	}
	start := p.i + 1
	for i := start; ; {
		i = plainRun(p.s, i)
		switch {
		case i == len(p.s):
			return "", 0, ErrUnterminated
		case p.s[i] == '"':
			raw = p.s[start:i]
			if p.strict && f&NonASCII != 0 && !utf8.ValidString(raw) {
				return "", 0, ErrEncoding
			}
			p.i = i + 1
			return raw, f, nil
		case p.s[i] == '\\':
			n, err := p.escape(p.s[i:])
			if err != nil {
				return "", 0, err
			}
			f |= Escaped
			i += n
		case p.s[i] < 0x20:
			return "", 0, ErrControl
		default: // a byte >= 0x80
			f |= NonASCII
			i++
		}
	}
}

// escape checks the escape sequence at the start of s and returns its
// length: a \u surrogate pair is one sequence of 12 bytes.
func (p *Scanner) escape(s string) (int, error) {
	if len(s) < 2 {
		return 0, ErrUnterminated
	}
	switch s[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, nil
	case 'u':
	default:
		return 0, ErrEscape
	}
	r, ok := hex4(s, 2)
	if !ok {
		return 0, ErrEscape
	}
	if !utf16.IsSurrogate(r) {
		return 6, nil
	}
	if _, ok := pair(s, r); ok {
		return 12, nil
	}
	if p.strict {
		return 0, ErrEncoding
	}
	return 6, nil // decodes to U+FFFD, as in encoding/json
}

// pair decodes the surrogate pair of r (the \u escape at the start of s)
// and the \u escape after it, if they are one; otherwise it returns
// U+FFFD and false.
func pair(s string, r rune) (rune, bool) {
	if len(s) < 12 || s[6] != '\\' || s[7] != 'u' {
		return utf8.RuneError, false
	}
	r2, ok := hex4(s, 8)
	if !ok {
		return utf8.RuneError, false
	}
	d := utf16.DecodeRune(r, r2)
	return d, d != utf8.RuneError
}

// hex4 decodes the four hex digits at s[i:].
func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for j := i; j < i+4; j++ {
		c := s[j]
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

// Unescape decodes a raw string that [Scanner.String] returned, as
// encoding/json does (a lone surrogate, possible only without Strict,
// becomes U+FFFD). It allocates only if raw holds escapes.
func Unescape(raw string) string {
	if strings.IndexByte(raw, '\\') < 0 {
		return raw
	}
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		switch c = raw[i+1]; c {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, _ := hex4(raw, i+2)
			n := 6
			if utf16.IsSurrogate(r) {
				d, ok := pair(raw[i:], r)
				r = d // U+FFFD unless a pair
				if ok {
					n = 12
				}
			}
			b.WriteRune(r)
			i += n
			continue
		default: // '"', '\\', '/'
			b.WriteByte(c)
		}
		i += 2
	}
	return b.String()
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
