package webconfig

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func addSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(fixtures, "*"))
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`<c><issuerNameRegistry><authority name="a"><keys><add thumbprint='ab cd'/></keys></authority></issuerNameRegistry></c>`))
	f.Add([]byte(`<!DOCTYPE c><c/>`))
}

// FuzzParse: Parse never panics, and every entry it reports points at its
// own thumbprint attribute.
func FuzzParse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			return
		}
		for _, e := range c.Entries {
			if e.start < 0 || e.start > e.valStart || e.valStart > e.valEnd || e.valEnd > e.end || e.end > len(data) {
				t.Fatalf("entry offsets out of order: %+v", e)
			}
		}
	})
}

// FuzzReplace: when Replace succeeds, the result parses, trusts exactly the
// new thumbprint for that issuer, and a second Replace changes nothing.
func FuzzReplace(f *testing.F) {
	addSeeds(f)
	const tp = "0650FB41D3BFB6064BF4948C3DD2BDCABAB23946"
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			return
		}
		issuer := c.Entries[0].Issuer
		out, _, err := Replace(data, issuer, []string{tp})
		if err != nil {
			return
		}
		c2, err := Parse(out)
		if err != nil {
			t.Fatalf("result does not parse: %v\n%q", err, out)
		}
		for _, e := range c2.Entries {
			if e.Issuer == issuer && e.Thumbprint != tp {
				t.Fatalf("issuer %q still trusts %q", issuer, e.Raw)
			}
		}
		again, ch, err := Replace(out, issuer, []string{tp})
		if err != nil || ch.Changed() || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %v %+v", err, ch)
		}
	})
}
