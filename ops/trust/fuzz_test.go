package trust

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	fixtures "github.com/keyroll/keyroll/ops/opstest"
)

// FuzzParseThumbprints: the list reader never panics, and every anchor it
// returns is a well-formed thumbprint.
func FuzzParseThumbprints(f *testing.F) {
	for _, s := range []string{
		"3A38FA984E8560F19AADC9F86FE9594BB6AD049B",
		"a6 11 b6 86 6a 26 45 af d9 61 d9 e8 d2 bf 2c 17 54 ab 61 d5, ec7320db78a52d93106631b2a3072ba14e6db924 # c",
		"SHA256 Fingerprint=AB:CD",
		"Thumbprint : SsZsBNhZcF3Q9S4trpQBTByNRRI\n;;",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		anchors, err := ParseThumbprints(s, "fuzz")
		if err != nil {
			return
		}
		for _, a := range anchors {
			if !(len(a.SHA1) == 40 || len(a.SHA256) == 64) || strings.ToUpper(a.SHA1) != a.SHA1 {
				t.Fatalf("bad anchor %+v from %q", a, s)
			}
		}
	})
}

// FuzzRead: any file given as "what the relying party trusts" gives anchors
// or an error, never a panic.
func FuzzRead(f *testing.F) {
	dir := fixtures.Dir(f)
	for _, glob := range []string{"webconfig/*", "jwks/*", "federation-metadata/okta*"} {
		files, _ := filepath.Glob(filepath.Join(dir, glob))
		for _, name := range files {
			if data, err := os.ReadFile(name); err == nil {
				f.Add(data)
			}
		}
	}
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"))
	f.Add([]byte{0x30, 0x82, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		anchors, err := Read(data, "fuzz")
		if err == nil && len(anchors) == 0 {
			t.Fatal("no error and no anchors")
		}
	})
}
