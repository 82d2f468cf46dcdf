package xmlsafe

import (
	"errors"
	"runtime"
	"strings"
	"testing"
)

func TestReadAccepts(t *testing.T) {
	doc := "\xef\xbb\xbf<?xml version=\"1.0\"?>\n<!-- c --><r xmlns=\"urn:a\" xmlns:b=\"urn:b\" b:x=\"1\"><![CDATA[<x>]]><b:c y=\"2\"/><?pi <z>?></r>\n"
	_, root, err := Read([]byte(doc), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !Is(root, "urn:a", "r") || Child(root, "urn:b", "c") == nil || len(Children(root, "urn:a", "c")) != 0 {
		t.Errorf("root %s, children wrong", Describe(root))
	}
	if v, ok := NSAttr(root, "urn:b", "x"); !ok || v != "1" {
		t.Errorf("NSAttr = %q %v", v, ok)
	}
	if v, ok := Attr(Path(root, "urn:b", "c"), "y"); !ok || v != "2" {
		t.Errorf("Attr = %q %v", v, ok)
	}
	if ns, local := ResolveQName(Child(root, "urn:b", "c"), "b:T"); ns != "urn:b" || local != "T" {
		t.Errorf("ResolveQName = %q %q", ns, local)
	}
}

func TestReadRefuses(t *testing.T) {
	for _, c := range []struct {
		name, doc string
		lim       Limits
		want      error
		msg       string
	}{
		{"doctype", `<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>`, Limits{}, ErrDTD, "<!DOCTYPE"},
		{"entity inside", `<r><!ENTITY x "y"></r>`, Limits{}, ErrDTD, "ENTITY"},
		{"oversize", `<r>` + strings.Repeat("x", 100) + `</r>`, Limits{MaxSize: 50}, ErrTooLarge, "limit 50"},
		{"elements", `<r>` + strings.Repeat("<a/>", 11) + `</r>`, Limits{MaxElements: 10}, ErrTooLarge, "more than 10 elements"},
		{"depth", strings.Repeat("<a>", 10) + strings.Repeat("</a>", 10), Limits{MaxDepth: 5}, ErrMalformed, "depth 5"},
		{"not utf-8", "<r>\xff</r>", Limits{}, ErrMalformed, "UTF-8"},
		{"empty", "  ", Limits{}, ErrMalformed, "empty"},
		{"not xml", `{"a":1}`, Limits{}, ErrMalformed, "not XML"},
		{"two roots", `<r/><r/>`, Limits{}, ErrMalformed, "more than one top-level"},
		{"text after", `<r/>x`, Limits{}, ErrMalformed, ""},
		{"duplicate attr", `<r a="1" a="2"/>`, Limits{}, ErrMalformed, "duplicate attribute a"},
		{"unterminated comment", `<r><!-- </r>`, Limits{}, ErrMalformed, "unterminated"},
		{"unterminated pi", `<r><? </r>`, Limits{}, ErrMalformed, "unterminated"},
		{"truncated", `<r><a></r>`, Limits{}, ErrMalformed, "not well-formed"},
	} {
		_, _, err := Read([]byte(c.doc), c.lim)
		var xe *Error
		if !errors.Is(err, c.want) || !errors.As(err, &xe) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: err = %v, want %v containing %q", c.name, err, c.want, c.msg)
		}
	}
}

// Comments, CDATA and processing instructions do not count as elements.
func TestElementCountIsExact(t *testing.T) {
	doc := `<r><!-- <a><a> --><![CDATA[<a><a>]]><?p <a>?><a/><a></a></r>`
	if _, _, err := Read([]byte(doc), Limits{MaxElements: 3}); err != nil {
		t.Errorf("3 elements under a limit of 3: %v", err)
	}
	if _, _, err := Read([]byte(doc), Limits{MaxElements: 2}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("3 elements under a limit of 2: %v", err)
	}
}

// 250,000 tiny elements fit in 1 MiB; the default limits refuse them before
// any tree is built: the refusal allocates almost nothing (a tree of them
// would take tens of megabytes).
func TestElementFloodRefusedFast(t *testing.T) {
	doc := []byte(`<r>` + strings.Repeat("<a/>", 250_000) + `</r>`)
	var err error
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, _, err = Read(doc, Default)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "elements") {
		t.Fatalf("err = %v, want ErrTooLarge for elements", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<10 {
		t.Errorf("refusing the flood allocated %d KiB: a tree was built", alloc>>10)
	}
}

func TestRelabel(t *testing.T) {
	own := errors.New("pkg: document too large")
	_, _, err := Read([]byte(`<r>`+strings.Repeat("x", 100)+`</r>`), Limits{MaxSize: 10})
	got := Relabel(err, map[error]error{ErrTooLarge: own})
	if !errors.Is(got, own) || !errors.Is(got, ErrTooLarge) || got.Error() != "pkg: document too large: 107 bytes, limit 10" {
		t.Errorf("Relabel = %v", got)
	}
	other := errors.New("other")
	if Relabel(other, nil) != other {
		t.Error("Relabel changed a foreign error")
	}
}

func FuzzRead(f *testing.F) {
	for _, s := range []string{`<r a="1"><b/></r>`, `<!DOCTYPE x><r/>`, `<r><!-- x --><![CDATA[y]]></r>`, `<r a="1" a="1"/>`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, root, err := Read(data, Limits{MaxSize: 4096, MaxDepth: 16, MaxElements: 64})
		if err == nil && root == nil {
			t.Fatal("nil root without error")
		}
		var xe *Error
		if err != nil && !errors.As(err, &xe) {
			t.Fatalf("untyped error %v", err)
		}
	})
}
