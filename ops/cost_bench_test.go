package ops

import (
	"runtime"
	"strings"
	"testing"

	"github.com/keyroll/keyroll/ops/webconfig"
)

// worstCases are documents just under the 1 MiB limit built to cost the
// most: the most elements xmlsafe allows (and then some, which must be
// refused early), a JWKS of many small keys, a Web.config of many entries.
func worstCases() map[string][]byte {
	const limit = 1 << 20
	fill := func(head, unit, tail string) []byte {
		n := (limit - len(head) - len(tail)) / len(unit)
		return []byte(head + strings.Repeat(unit, n) + tail)
	}
	md := `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://i.example/">`
	return map[string][]byte{
		"metadata-250k-elements": fill(md, "<a/>", "</EntityDescriptor>"),
		"metadata-19k-elements":  []byte(md + strings.Repeat("<Extensions/>", 19_990) + "</EntityDescriptor>"),
		"jwks-many-keys":         fill(`{"keys":[`, `{"kty":"RSA","n":"AQAB","e":"AQAB"},`, `{"kty":"oct"}]}`),
		"jwks-deep":              fill(`{"keys":[`, `[`, `]}`),
		"webconfig-many-entries": fill(`<configuration><system.identityModel><identityConfiguration><issuerNameRegistry><trustedIssuers>`, `<add thumbprint="0000000000000000000000000000000000000000" name="x"/>`, `</trustedIssuers></issuerNameRegistry></identityConfiguration></system.identityModel></configuration>`),
	}
}

func parseAny(name string, doc []byte) {
	if strings.HasPrefix(name, "webconfig") {
		webconfig.Parse(doc)
		return
	}
	Parse(doc, "bench")
}

// BenchmarkWorstCaseParse reports the time and memory of each worst case.
//
//	go test -run '^$' -bench WorstCaseParse -benchmem ./ops
func BenchmarkWorstCaseParse(b *testing.B) {
	for name, doc := range worstCases() {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				parseAny(name, doc)
			}
		})
	}
}

// TestWorstCaseParseBounded: every worst case parses (or is refused) within
// 20 MiB of allocation. Its time is measured by BenchmarkWorstCaseParse
// (the README gives the figures: well under 100 ms), never by a test.
func TestWorstCaseParseBounded(t *testing.T) {
	for name, doc := range worstCases() {
		if len(doc) > 1<<20 {
			t.Fatalf("%s is %d bytes, over the limit", name, len(doc))
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		parseAny(name, doc)
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 20<<20 {
			t.Errorf("%s: %d MiB allocated, want at most 20", name, alloc>>20)
		}
	}
}
