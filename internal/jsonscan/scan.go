// Package jsonscan is the one strict JSON scanner keyroll's token parsers
// share: jws reads protected headers with it and verify reads the
// registered claims of a payload. It works on a string in place and never
// allocates, except in [Unescape] and [AppendUnescaped] for strings that
// hold escapes; the callers walk the members they know and [Scanner.Skip]
// everything else, which is validated as it is skipped.
//
// The grammar is RFC 8259's, exactly: no trailing commas, no leading zeros
// or bare fractions, no control characters in strings, only the escapes
// the RFC lists, nesting bounded by [Options.MaxDepth]. With
// [Options.Strict] every string must also be valid UTF-8 and every \u
// surrogate escape must be one half of a pair (I-JSON, RFC 7493 §2.1);
// without it strings read as encoding/json reads them (lone surrogates
// decode to U+FFFD and invalid UTF-8 is left to the caller), which is what
// a claims scanner whose payload applications also decode with
// encoding/json must do. Duplicate members are the caller's to refuse:
// only it knows which names it tracks.
package jsonscan

import "errors"

// Errors the scanner returns; callers wrap them in their own error types
// (with [Scanner.Pos] for the offset), so these never reach a caller of jws
// or verify unwrapped.
var (
	ErrSyntax       = errors.New("JSON syntax error")
	ErrDepth        = errors.New("JSON nested too deeply")
	ErrUnterminated = errors.New("unterminated string")
	ErrControl      = errors.New("control character in a string")
	ErrEscape       = errors.New("bad escape in a string")
	ErrEncoding     = errors.New("invalid UTF-8 or lone surrogate in a string")
)

// Options are a caller's limits and policy.
type Options struct {
	// MaxDepth bounds the nesting of values Skip reads: a value at depth
	// MaxDepth+1 (the value Skip starts on is at depth 0) is refused.
	MaxDepth int
	// Strict refuses strings that are not valid UTF-8 or hold a lone
	// surrogate escape.
	Strict bool
}

// Scanner reads JSON from a string. Its zero value scans nothing; make one
// with [New]. It is a small value meant to live on the caller's stack.
type Scanner struct {
	s        string
	i        int
	maxDepth int
	strict   bool
}

// New returns a scanner at the start of s.
func New(s string, o Options) Scanner {
	return Scanner{s: s, maxDepth: o.MaxDepth, strict: o.Strict}
}

// Pos returns the offset of the next unread byte.
func (p *Scanner) Pos() int { return p.i }

// Space skips white space.
func (p *Scanner) Space() {
	for p.i < len(p.s) && p.s[p.i] <= ' ' {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// Peek returns the next byte without skipping space or consuming it; 0 at
// the end.
func (p *Scanner) Peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

// Next skips space and returns the next byte without consuming it; 0 at
// the end.
func (p *Scanner) Next() byte {
	p.Space()
	return p.Peek()
}

// Consume skips space and then b, and reports whether b was there.
func (p *Scanner) Consume(b byte) bool {
	p.Space()
	if p.i < len(p.s) && p.s[p.i] == b {
		p.i++
		return true
	}
	return false
}

// More is for the separator after a member or element: it consumes ','
// (more follows, done false) or closing (done true); anything else is
// ErrSyntax.
func (p *Scanner) More(closing byte) (done bool, err error) {
	p.Space()
	switch p.Peek() {
	case ',':
		p.i++
		return false, nil
	case closing:
		p.i++
		return true, nil
	}
	return true, ErrSyntax
}

// End skips trailing space and reports whether the input is used up.
func (p *Scanner) End() bool {
	p.Space()
	return p.i == len(p.s)
}

// Number reads a number at the current byte and returns its text:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *Scanner) Number() (string, bool) {
	start := p.i
	if p.Peek() == '-' {
		p.i++
	}
	switch {
	case p.Peek() == '0':
		p.i++
	case isDigit(p.Peek()):
		p.digits()
	default:
		return "", false
	}
	if p.Peek() == '.' {
		p.i++
		if !isDigit(p.Peek()) {
			return "", false
		}
		p.digits()
	}
	if b := p.Peek(); b == 'e' || b == 'E' {
		p.i++
		if b := p.Peek(); b == '+' || b == '-' {
			p.i++
		}
		if !isDigit(p.Peek()) {
			return "", false
		}
		p.digits()
	}
	return p.s[start:p.i], true
}

func (p *Scanner) digits() {
	for isDigit(p.Peek()) {
		p.i++
	}
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// literal consumes lit (true, false or null).
func (p *Scanner) literal(lit string) error {
	if len(p.s)-p.i < len(lit) || p.s[p.i:p.i+len(lit)] != lit {
		return ErrSyntax
	}
	p.i += len(lit)
	return nil
}

// Skip validates and skips one value, after any space.
func (p *Scanner) Skip() error { return p.skip(0) }

func (p *Scanner) skip(depth int) error {
	if depth > p.maxDepth {
		return ErrDepth
	}
	switch b := p.Next(); {
	case b == '"':
		_, _, err := p.String()
		return err
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
		if _, ok := p.Number(); ok {
			return nil
		}
	}
	return ErrSyntax
}

func (p *Scanner) skipObject(depth int) error {
	p.i++ // '{'
	if p.Consume('}') {
		return nil
	}
	for {
		if p.Next() != '"' {
			return ErrSyntax
		}
		if _, _, err := p.String(); err != nil {
			return err
		}
		if !p.Consume(':') {
			return ErrSyntax
		}
		if err := p.skip(depth + 1); err != nil {
			return err
		}
		if done, err := p.More('}'); done || err != nil {
			return err
		}
	}
}

func (p *Scanner) skipArray(depth int) error {
	p.i++ // '['
	if p.Consume(']') {
		return nil
	}
	for {
		if err := p.skip(depth + 1); err != nil {
			return err
		}
		if done, err := p.More(']'); done || err != nil {
			return err
		}
	}
}
