package verify

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/keyroll/keyroll/internal/jsonscan"
)

// The claims scanner reads the registered claims of a JSON payload in one
// pass without building a map: other members are validated and skipped.
// Registered claims must be well typed and appear once; a member whose
// name equals a registered claim's only up to case is refused, because
// encoding/json would match it case-insensitively in a caller's struct.

const (
	maxJSONDepth     = 64
	maxAudiences     = 64
	maxNumericDate   = 253402300799 // 9999-12-31T23:59:59Z
	maxFoldedNameLen = 3 * utf8.UTFMax
)

// scanner is the shared JSON scanner (internal/jsonscan) in its lenient
// form: strings read as encoding/json reads them, since applications
// decode the same payload with it (Claims.Unmarshal).
type scanner struct{ jsonscan.Scanner }

func claimsErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformedClaims}, args...)...)
}

// scanClaims fills c's registered claims from the JSON object s.
func scanClaims(s string, c *Claims) error {
	c.payload = s
	p := scanner{jsonscan.New(s, jsonscan.Options{MaxDepth: maxJSONDepth})}
	if !p.Consume('{') {
		return claimsErr("payload is not a JSON object")
	}
	if !p.Consume('}') {
		if err := p.members(c); err != nil {
			return err
		}
	}
	if !p.End() {
		return claimsErr("data after the JSON object at offset %d", p.Pos())
	}
	return nil
}

// fail wraps a scanner error with where it happened.
func (p *scanner) fail(err error) error {
	return claimsErr("%v at offset %d", err, p.Pos())
}

func (p *scanner) members(c *Claims) error {
	for {
		if p.Next() != '"' {
			return claimsErr("expected a member name at offset %d", p.Pos())
		}
		key, err := p.str()
		if err != nil {
			return err
		}
		if !p.Consume(':') {
			return claimsErr("missing ':' after member %s", clip(key))
		}
		p.Space()
		if err := p.member(key, c); err != nil {
			return err
		}
		if done, err := p.More('}'); err != nil {
			return claimsErr("expected ',' or '}' at offset %d", p.Pos())
		} else if done {
			return nil
		}
	}
}

// str reads a string; without escapes it is a substring of the payload.
func (p *scanner) str() (string, error) {
	raw, f, err := p.String()
	if err != nil {
		return "", p.fail(err)
	}
	if f&jsonscan.Escaped != 0 {
		return jsonscan.Unescape(raw), nil
	}
	return raw, nil
}

func (p *scanner) member(key string, c *Claims) error {
	bit := claimBit(key)
	if bit == 0 {
		if mayFold(key) && foldsToClaim(key) {
			return claimsErr("member %s differs from a registered claim only in case", clip(key))
		}
		if err := p.Skip(); err != nil {
			return p.fail(err)
		}
		return nil
	}
	if c.present&bit != 0 {
		return claimsErr("duplicate claim %s", key)
	}
	c.present |= bit
	var err error
	switch bit {
	case clIss:
		c.Issuer, err = p.text(key)
	case clSub:
		c.Subject, err = p.text(key)
	case clJti:
		c.ID, err = p.text(key)
	case clTid:
		c.TenantID, err = p.text(key)
	case clAud:
		err = p.audience(c)
	case clExp:
		c.Expiry, err = p.numericDate(key)
	case clNbf:
		c.NotBefore, err = p.numericDate(key)
	case clIat:
		c.IssuedAt, err = p.numericDate(key)
	}
	return err
}

// mayFold is a quick filter: a name of lower-case ASCII that is not a
// registered claim cannot equal one under case folding.
func mayFold(key string) bool {
	if len(key) < 3 || len(key) > maxFoldedNameLen {
		return false
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c >= 0x80 || c >= 'A' && c <= 'Z' {
			return true
		}
	}
	return false
}

func foldsToClaim(key string) bool {
	for _, n := range claimNames {
		if strings.EqualFold(key, n) {
			return true
		}
	}
	return false
}

// text reads a string claim, which must be valid UTF-8.
func (p *scanner) text(name string) (string, error) {
	if p.Peek() != '"' {
		return "", claimsErr("%s is not a string", name)
	}
	raw, f, err := p.String()
	switch {
	case err != nil:
		return "", p.fail(err)
	case f&jsonscan.Escaped != 0:
		raw = jsonscan.Unescape(raw)
	case f&jsonscan.NonASCII == 0:
		return raw, nil
	}
	if !utf8.ValidString(raw) {
		return raw, claimsErr("%s is not valid UTF-8", name)
	}
	return raw, nil
}

func (p *scanner) audience(c *Claims) error {
	if p.Peek() == '"' {
		s, err := p.text("aud")
		c.audBuf[0] = s
		c.Audience = c.audBuf[:1]
		return err
	}
	if !p.Consume('[') {
		return claimsErr("aud is neither a string nor an array")
	}
	c.Audience = c.audBuf[:0]
	if p.Consume(']') {
		return nil
	}
	for {
		p.Space()
		s, err := p.text("aud element")
		if err != nil {
			return err
		}
		if len(c.Audience) == maxAudiences {
			return claimsErr("more than %d audiences", maxAudiences)
		}
		c.Audience = append(c.Audience, s)
		if done, err := p.More(']'); err != nil {
			return claimsErr("expected ',' or ']' in aud")
		} else if done {
			return nil
		}
	}
}

// numericDate reads a JSON number of seconds since the epoch.
func (p *scanner) numericDate(name string) (time.Time, error) {
	tok, ok := p.Number()
	if !ok {
		return time.Time{}, claimsErr("%s is not a number", name)
	}
	if n, ok := smallInt(tok); ok && n <= maxNumericDate {
		return time.Unix(n, 0), nil
	}
	f, err := strconv.ParseFloat(tok, 64)
	if err != nil || f < 0 || f > maxNumericDate || math.IsNaN(f) {
		return time.Time{}, claimsErr("%s %s is out of range", name, clip(tok))
	}
	sec := math.Floor(f)
	return time.Unix(int64(sec), int64((f-sec)*1e9)), nil
}

// smallInt parses a number of at most 12 digits without sign, fraction or
// exponent: the usual form of a NumericDate.
func smallInt(tok string) (int64, bool) {
	if len(tok) == 0 || len(tok) > 12 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
