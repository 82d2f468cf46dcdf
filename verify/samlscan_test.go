package verify

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
)

// scanChars (eight bytes at a time) agrees with scanCharsExact (one at a
// time) on every input: the same counts, white space and verdict.
func FuzzSAMLScanChars(f *testing.F) {
	for _, s := range []string{"", "<a b='c'/>", "<a>\t</a>", "<a>\x01</a>", "<a>\xef\xbf\xbe</a>", "\xef\xbb\xbf<a/>",
		"<a>caf\xc3\xa9 \xef\xbc\xa1</a>", "<a>\xff</a>", "<a x=\"1\">0123456789abcdef\r\n</a></a>", "0123456\x00", "<", "<a/><"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s1, e1, w1, err1 := scanChars(data)
		s2, e2, w2, err2 := scanCharsExact(data)
		if (err1 == nil) != (err2 == nil) || err1 == nil && (s1 != s2 || e1 != e2 || w1 != w2) {
			t.Fatalf("%q: fast %d %d %v %v, exact %d %d %v %v", data, s1, e1, w1, err1, s2, e2, w2, err2)
		}
	})
}

// What VerifyResponse returns is its own: the document is read in place,
// so changing it afterwards must change nothing returned.
func TestSAMLAssertionOutlivesTheDocument(t *testing.T) {
	k := rsaKey(t, "saml-idp").withCert(t)
	h := newSAMLHarness(t, SAMLConfig{ReplayCacheSize: -1}, k)
	doc := []byte(h.signedResponse(k, defaultSAML(h.clk.Now())))
	a := h.mustVerify(string(doc), "")
	want := *a
	want.Attributes = map[string][]string{"role": {"admin", "user"}}
	want.Audiences = []string{samlSP}
	b, err := h.v.VerifyResponse(h.ctx, doc, "")
	if err != nil {
		t.Fatal(err)
	}
	copy(doc, bytes.Repeat([]byte{'x'}, len(doc)))
	if !reflect.DeepEqual(*b, want) || b.Subject != "alice@example.com" || b.ID != "_assert1" {
		t.Fatalf("after the document changed: %+v, want %+v", b, want)
	}
}

// samlTimeZ reads what time.Parse reads, to the same instant and zone.
func FuzzSAMLTime(f *testing.F) {
	for _, s := range []string{"2030-01-01T12:00:00Z", "2024-02-29T23:59:59Z", "2023-02-29T00:00:00Z", "2030-13-01T00:00:00Z",
		"2030-01-01T24:00:00Z", "2030-01-01T12:00:60Z", "2030-04-31T00:00:00Z", "0000-01-01T00:00:00Z", "2030-01-01T12:00:00+01:00", "2030-01-01t12:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := samlTimeZ(s)
		want, err := time.Parse(time.RFC3339Nano, s)
		if ok && (err != nil || !reflect.DeepEqual(got, want)) {
			t.Fatalf("%q: %v, time.Parse %v %v", s, got, want, err)
		}
		if !ok && err == nil && len(s) == 20 && s[19] == 'Z' && !strings.ContainsAny(s, "+-.") {
			t.Logf("%q left to time.Parse", s)
		}
	})
}
