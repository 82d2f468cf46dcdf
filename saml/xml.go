package saml

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/beevik/etree"

	"github.com/keyroll/keyroll/internal/xmlsafe"
)

// readXML runs the xmlsafe guard and returns the root, which must be
// {ns}local; guard errors come back under this package's sentinels.
func readXML(data []byte, lim xmlsafe.Limits, ns, local string) (*etree.Element, error) {
	_, root, err := xmlsafe.Read(data, lim)
	if err != nil {
		return nil, xmlsafe.Relabel(err, xmlsafeLabels)
	}
	if !xmlsafe.Is(root, ns, local) {
		return nil, fmt.Errorf("%w: root element is %s, want {%s}%s", ErrMalformed, xmlsafe.Describe(root), ns, local)
	}
	return root, nil
}

// writeDoc serialises with tab, CR and LF escaped inside attributes and CR in
// text, so a parser reads back exactly the tree that was signed.
func writeDoc(root *etree.Element) ([]byte, error) {
	doc := etree.NewDocument()
	doc.SetRoot(root)
	doc.WriteSettings.CanonicalAttrVal = true
	doc.WriteSettings.CanonicalText = true
	return doc.WriteToBytes()
}

// newID returns a fresh xml ID: "_" and 32 random hex digits.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return "_" + hex.EncodeToString(b[:])
}

// xsTime writes t as an xs:dateTime in UTC to the second, as SAML requires
// (core 1.3.3: UTC with no time zone component other than Z).
func xsTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// parseTime reads an xs:dateTime with a time zone.
func parseTime(what, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(v))
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s %q is not an xs:dateTime with time zone", ErrMalformed, what, v)
	}
	return t, nil
}

// checkText refuses strings XML cannot carry: invalid UTF-8, control
// characters other than tab, CR and LF, and U+FFFE/U+FFFF.
func checkText(fields ...string) error {
	for i := 0; i+1 < len(fields); i += 2 {
		name, s := fields[i], fields[i+1]
		if !utf8.ValidString(s) {
			return fmt.Errorf("%w: %s is not UTF-8", ErrInvalid, name)
		}
		for _, r := range s {
			if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0xFFFE || r == 0xFFFF {
				return fmt.Errorf("%w: %s contains %U, which XML cannot carry", ErrInvalid, name, r)
			}
		}
	}
	return nil
}

// isNCName reports whether s can be an xml ID: a letter or '_' followed by
// letters, digits, '_', '-' and '.' (the ASCII subset of NCName).
func isNCName(s string) bool {
	for i, r := range s {
		letter := r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r == '_'
		if !letter && (i == 0 || !(r >= '0' && r <= '9' || r == '-' || r == '.')) {
			return false
		}
	}
	return s != ""
}

// el creates a child element prefix:tag with text, if not empty.
func el(parent *etree.Element, tag, text string) *etree.Element {
	c := parent.CreateElement(tag)
	if text != "" {
		c.SetText(text)
	}
	return c
}

// attrIf sets the attribute only when value is not empty.
func attrIf(e *etree.Element, key, value string) {
	if value != "" {
		e.CreateAttr(key, value)
	}
}
