package trust

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/keyroll/keyroll/lifecycle"
)

// MaxListEntries bounds a thumbprint list.
const MaxListEntries = 10000

// ErrNotThumbprint: a list entry is not a thumbprint in any form keyroll reads.
var ErrNotThumbprint = errors.New("not a thumbprint: expected 40 (SHA-1) or 64 (SHA-256) hex digits, possibly spaced or colon-separated, or a base64url x5t / x5t#S256 / RFC 7638 thumbprint")

// LineError says which line of a list is wrong.
type LineError struct {
	Line int
	Text string // the offending text, shortened
	Err  error
}

// Error implements error.
func (e *LineError) Error() string {
	return fmt.Sprintf("line %d %q: %v", e.Line, e.Text, e.Err)
}

// Unwrap returns the underlying error.
func (e *LineError) Unwrap() error { return e.Err }

// ParseThumbprints reads a list of thumbprints: one or more per line,
// separated by commas, semicolons or (for compact forms) blanks; blank lines
// and text after '#' are ignored, and any other line that yields no
// thumbprint is an error (a [*LineError]); a leading label such as "Thumbprint :" or
// openssl's "SHA1 Fingerprint=" is dropped. Each entry may be SHA-1 or
// SHA-256 hex in any case, spaced ("a6 11 b6 ...") or colon-separated, or
// base64url (or standard base64), padded or not: a 27-character x5t (SHA-1) or a 43-character x5t#S256 or RFC
// 7638 JWK thumbprint. origin names the list in the anchors' Origin.
func ParseThumbprints(text, origin string) ([]Anchor, error) {
	var out []Anchor
	for i, line := range strings.Split(text, "\n") {
		line, _, _ = strings.Cut(line, "#")
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		n := len(out)
		line = stripLabel(line)
		for _, piece := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ';' }) {
			anchors, err := parseEntry(strings.TrimSpace(piece))
			if err != nil {
				return nil, &LineError{Line: i + 1, Text: shorten(piece), Err: err}
			}
			for _, a := range anchors {
				a.Origin = fmt.Sprintf("%s line %d", origin, i+1)
				out = append(out, a)
			}
			if len(out) > MaxListEntries {
				return nil, fmt.Errorf("%s: more than %d thumbprints", origin, MaxListEntries)
			}
		}
		if len(out) == n {
			return nil, &LineError{Line: i + 1, Text: shorten(line), Err: ErrNotThumbprint}
		}
	}
	return out, nil
}

// stripLabel drops "Label:" or "Label=" before a value when the label is a
// word (not itself hex, as in "AB:CD:...") and a value follows: in a padded
// base64 thumbprint ("SsZs...RI=") the '=' is padding, not a separator.
func stripLabel(s string) string {
	i := strings.IndexAny(s, ":=")
	if i <= 0 || strings.TrimSpace(strings.TrimLeft(s[i+1:], "=")) == "" {
		return s
	}
	label := s[:i]
	for _, r := range label {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == ' ' || r == '-' || r == '_') {
			return s
		}
	}
	if isHexish(label) {
		return s
	}
	return strings.TrimSpace(s[i+1:])
}

func isHexish(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF \t", r) {
			return false
		}
	}
	return true
}

// parseEntry reads one entry, which may hold several blank-separated
// compact thumbprints.
func parseEntry(s string) ([]Anchor, error) {
	if a, ok := parseOne(s); ok {
		return []Anchor{a}, nil
	}
	fields := strings.Fields(s)
	if len(fields) < 2 {
		return nil, ErrNotThumbprint
	}
	var out []Anchor
	for _, f := range fields {
		a, ok := parseOne(f)
		if !ok {
			return nil, ErrNotThumbprint
		}
		out = append(out, a)
	}
	return out, nil
}

func parseOne(s string) (Anchor, bool) {
	if n := lifecycle.NormalizeThumbprint(s); n != "" {
		switch len(n) {
		case 40:
			return Anchor{SHA1: n, Label: "thumbprint"}, true
		case 64:
			return Anchor{SHA256: n, Label: "thumbprint"}, true
		}
	}
	raw, ok := decodeBase64(s)
	if !ok {
		return Anchor{}, false
	}
	switch len(raw) {
	case 20:
		return Anchor{SHA1: strings.ToUpper(hex.EncodeToString(raw)), Label: "x5t"}, true
	case 32:
		// x5t#S256 of a certificate or RFC 7638 thumbprint of a key: either matches.
		return Anchor{SHA256: strings.ToUpper(hex.EncodeToString(raw)), JWKThumbprint: base64.RawURLEncoding.EncodeToString(raw), Label: "x5t#S256 / JWK thumbprint"}, true
	}
	return Anchor{}, false
}

// decodeBase64 reads a base64url thumbprint (x5t, kid), padded or not, or
// the same in standard base64 as .NET's Convert.ToBase64String writes it.
func decodeBase64(s string) ([]byte, bool) {
	s = strings.TrimRight(s, "=")
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.RawStdEncoding} {
		if raw, err := enc.Strict().DecodeString(s); err == nil {
			return raw, true
		}
	}
	return nil, false
}

func shorten(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
