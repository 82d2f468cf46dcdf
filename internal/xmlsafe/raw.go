package xmlsafe

import (
	"bytes"
	"unicode/utf8"
)

var utf8BOM = []byte("\xef\xbb\xbf")

// CheckRaw applies the checks that need no parser: size, UTF-8, a document
// that starts with markup, no DTD or markup declaration (only comments and
// CDATA sections may start with "<!"), and at most lim.MaxElements start
// tags. It counts start tags while it scans for declarations, so a flood of
// tiny elements is refused before a tree is built.
func CheckRaw(data []byte, lim Limits) error {
	lim = lim.withDefaults()
	if len(data) > lim.MaxSize {
		return fail(ErrTooLarge, "%d bytes, limit %d", len(data), lim.MaxSize)
	}
	if !utf8.Valid(data) {
		return fail(ErrMalformed, "document is not UTF-8")
	}
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(data, utf8BOM), " \t\r\n")
	if len(trimmed) == 0 {
		return fail(ErrMalformed, "empty document")
	}
	if trimmed[0] != '<' {
		return fail(ErrMalformed, "not XML (starts with %q)", snippet(trimmed))
	}
	return scanMarkup(data, lim.MaxElements)
}

// scanMarkup walks every '<' of data: comments, CDATA sections and
// processing instructions are skipped whole, any other "<!" is a markup
// declaration, and other '<' not followed by '/' open an element. Well-formed
// XML has no literal '<' in attribute values or text, so the count is exact
// for any document a parser would accept.
func scanMarkup(data []byte, maxElements int) error {
	elements := 0
	for i := 0; i < len(data); {
		j := bytes.IndexByte(data[i:], '<')
		if j < 0 {
			return nil
		}
		i += j
		rest := data[i:]
		var end []byte
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			end = []byte("-->")
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			end = []byte("]]>")
		case bytes.HasPrefix(rest, []byte("<!")):
			return fail(ErrDTD, "found %q at byte %d", snippet(rest), i)
		case bytes.HasPrefix(rest, []byte("<?")):
			end = []byte("?>")
		case bytes.HasPrefix(rest, []byte("</")):
			i += 2
			continue
		default:
			if elements++; elements > maxElements {
				return fail(ErrTooLarge, "more than %d elements", maxElements)
			}
			i++
			continue
		}
		k := bytes.Index(rest[2:], end)
		if k < 0 {
			return fail(ErrMalformed, "unterminated comment, CDATA section or processing instruction at byte %d", i)
		}
		i += 2 + k + len(end)
	}
	return nil
}

func snippet(b []byte) string {
	if len(b) > 12 {
		b = b[:12]
	}
	return string(b)
}
