package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// skipAll scans one whole value, as the callers do, and reports whether
// it was accepted with nothing after it.
func skipAll(in string, o Options) error {
	p := New(in, o)
	if err := p.Skip(); err != nil {
		return err
	}
	if !p.End() {
		return ErrSyntax
	}
	return nil
}

func TestSkip(t *testing.T) {
	lenient, strict := Options{MaxDepth: 4}, Options{MaxDepth: 4, Strict: true}
	for _, in := range []string{
		`0`, `-0`, `-12.5E-3`, `1e+9`, `true`, `false`, `null`, `""`, ` "a\"\\\/\b\f\n\r\tz" `,
		`"\u00e9\ud83d\ude00"`, "\"h\u00e9llo\"", `[]`, `{}`, `[1,[2,[3,[4]]]]`,
		`{"a":{"b":{"c":{"d":1}}}}`, `{"a":1,"a":2}`, " \t\r\n[ 1 , 2 ] ",
	} {
		for _, o := range []Options{lenient, strict} {
			if err := skipAll(in, o); err != nil {
				t.Errorf("%q (strict %v): %v", in, o.Strict, err)
			}
		}
	}
	for in, want := range map[string]error{
		``: ErrSyntax, `01`: ErrSyntax, `1.`: ErrSyntax, `.5`: ErrSyntax, `1e`: ErrSyntax, `+1`: ErrSyntax,
		`tru`: ErrSyntax, `nul`: ErrSyntax, `[1,]`: ErrSyntax, `{"a":1,}`: ErrSyntax, `{"a" 1}`: ErrSyntax,
		`{a:1}`: ErrSyntax, `[1 2]`: ErrSyntax, `"abc`: ErrUnterminated, `"\`: ErrUnterminated,
		"\"a\x01\"": ErrControl, `"\q"`: ErrEscape, `"\u12"`: ErrEscape, `"\u12G4"`: ErrEscape,
		`[[[[[1]]]]]`: ErrDepth, `{"a":{"b":{"c":{"d":{"e":1}}}}}`: ErrDepth, "\x00": ErrSyntax,
	} {
		for _, o := range []Options{lenient, strict} {
			if err := skipAll(in, o); !errors.Is(err, want) {
				t.Errorf("%q (strict %v): err = %v, want %v", in, o.Strict, err, want)
			}
		}
	}
	for _, in := range []string{`"\ud800"`, `"\udc00\ud800"`, `"\ud800\u0041"`, `"\ud800x"`, "\"\xff\"", "\"\xc3\\u0041\""} {
		if err := skipAll(in, lenient); err != nil {
			t.Errorf("lenient %q: %v", in, err)
		}
		if err := skipAll(in, strict); !errors.Is(err, ErrEncoding) {
			t.Errorf("strict %q: err = %v, want ErrEncoding", in, err)
		}
	}
}

func TestUnescape(t *testing.T) {
	for _, in := range []string{
		`"plain"`, `"a\"\\\/\b\f\n\r\tz"`, `"\u00e9\ud83d\ude00\u0000"`, `"\ud800"`, `"\ud800\u0041"`,
		`"\udc00\ud800\udc00"`, `"\ud800\ud800\udc00"`, "\"h\u00e9\\u0041\"",
	} {
		p := New(in, Options{})
		raw, f, err := p.String()
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		var want string
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatal(err)
		}
		if got := Unescape(raw); got != want || (f&Escaped != 0) != strings.Contains(in, `\`) {
			t.Errorf("%q: Unescape = %q (flags %b), encoding/json %q", in, got, f, want)
		}
	}
}

func TestScanAllocations(t *testing.T) {
	in := `{"iss":"https://issuer.example","aud":["api","other"],"exp":1893499200,"n":{"k":[1,2.5e3,true,null,"\u00e9"]},"s":"h` + "\u00e9" + `llo"}`
	for _, strict := range []bool{false, true} {
		if n := testing.AllocsPerRun(100, func() {
			if err := skipAll(in, Options{MaxDepth: 8, Strict: strict}); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Fatalf("strict %v: Skip allocates %.0f times, want 0", strict, n)
		}
	}
}

func TestStopsMatchesTable(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	interesting := []byte{0, 0x1f, 0x20, 0x21, '"', '\\', 0x5b, 0x5d, 0x7f, 0x80, 0xff, 'a'}
	for range 200000 {
		var b [8]byte
		for i := range b {
			if r.IntN(2) == 0 {
				b[i] = interesting[r.IntN(len(interesting))]
			} else {
				b[i] = byte(r.IntN(256))
			}
		}
		s := string(b[:])
		want := false
		for _, c := range b {
			want = want || stop[c]
		}
		if got := plainRun(s, 0) < 8; got != want {
			t.Fatalf("%q: plainRun stops = %v, want %v", s, got, want)
		}
	}
}

// FuzzScan is the scanner's differential test against encoding/json, in
// both modes: whatever it accepts is valid JSON; every valid JSON text
// within the depth limit (and, when strict, of valid UTF-8 without lone
// surrogates) is accepted; a string reads as encoding/json reads it.
func FuzzScan(f *testing.F) {
	for _, s := range []string{
		`{"alg":"RS256","kid":"k","typ":"JWT"}`,
		`{"iss":"https:\/\/a\ud83d\ude00","aud":["x","y"],"exp":17e8,"o":{"a":[null,true,false,-1.5e-3,"\u0000"]}}`,
		`{"al\u0067":"RS256","n":[1,2.5e3,{"a":null}],"t":true}`, `{"a":1,"a":2}`, `[[[[[[[[[[1]]]]]]]]]]`,
		`"\ud800"`, `"\ud800\u0041"`, `"\udc00"`, "\"\xff\"", "\"a\x01\"", `"\q"`, `01`, `1.`, `-`, `[1,]`,
		` "h` + "\u00e9" + `llo" `, `{"x":"\u12"}`, `{"a" 1}`, `tru`, ``,
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, in string, strict bool) {
		const depth = 6
		o := Options{MaxDepth: depth, Strict: strict}
		err := skipAll(in, o)
		valid := json.Valid([]byte(in))
		if err == nil && !valid {
			t.Fatalf("accepted invalid JSON %q", in)
		}
		if !valid {
			return
		}
		ok := maxDepth(t, in) <= depth && (!strict || utf8.ValidString(in) && !loneSurrogate(in))
		if ok != (err == nil) {
			t.Fatalf("%q (strict %v): err = %v, want accepted = %v", in, strict, err, ok)
		}
		p := New(in, o)
		if p.Next() != '"' {
			return
		}
		raw, _, err := p.String()
		var want string
		if err == nil && json.Unmarshal([]byte(in), &want) == nil && utf8.ValidString(raw) && Unescape(raw) != want {
			t.Fatalf("%q: Unescape = %q, encoding/json %q", in, Unescape(raw), want)
		}
	})
}

// maxDepth is the deepest value of a valid JSON text, the outermost at 0.
func maxDepth(t *testing.T, in string) int {
	dec := json.NewDecoder(strings.NewReader(in))
	open, deepest := 0, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return deepest
		}
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		switch tok {
		case json.Delim(']'), json.Delim('}'):
			open--
			continue
		}
		deepest = max(deepest, open)
		if tok == json.Delim('[') || tok == json.Delim('{') {
			open++
		}
	}
}

// loneSurrogate reports whether a valid JSON text escapes half a
// surrogate pair.
func loneSurrogate(in string) bool {
	b := []byte(in)
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if b[i+1] != 'u' {
			i++
			continue
		}
		r := decodeHex(b[i+2 : i+6])
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			return true
		case r >= 0xD800 && r <= 0xDBFF:
			if !bytes.HasPrefix(b[i+6:], []byte(`\u`)) || utf16.DecodeRune(r, decodeHex(b[i+8:i+12])) == utf8.RuneError {
				return true
			}
			i += 6
		}
		i += 5
	}
	return false
}

func decodeHex(b []byte) rune {
	r, _ := hex4(string(b), 0)
	return r
}
