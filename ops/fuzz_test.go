package ops

import (
	"os"
	"path/filepath"
	"testing"

	fixtures "github.com/keyroll/keyroll/ops/opstest"
)

// FuzzParse: any document gives a key set or an error, never a panic, and
// every key Parse returns has a stable ID.
func FuzzParse(f *testing.F) {
	dir := fixtures.Dir(f)
	for _, glob := range []string{"jwks/*", "discovery/*", "federation-metadata/okta*", "federation-metadata/entra-app-81*"} {
		files, _ := filepath.Glob(filepath.Join(dir, glob))
		for _, name := range files {
			if data, err := os.ReadFile(name); err == nil {
				f.Add(data)
			}
		}
	}
	f.Add([]byte(`{"keys":[]}`))
	f.Add([]byte("\xef\xbb\xbf <!DOCTYPE html>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data, "fuzz")
		if err != nil {
			return
		}
		for _, k := range p.Keys {
			if k.ID() == "kid:" && k.KID == "" && k.JWKThumbprint == "" {
				t.Fatalf("key without any identity: %+v", k)
			}
		}
	})
}

// FuzzReadCertificates: certificate files never crash the reader.
func FuzzReadCertificates(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"))
	f.Add([]byte{0x30, 0x82, 0x01, 0x0a, 0x02})
	f.Add([]byte("MIIC8DCCAdigAwIBAgIQ"))
	f.Fuzz(func(t *testing.T, data []byte) {
		certs, err := ReadCertificates(data)
		if err == nil && len(certs) == 0 {
			t.Fatal("no error and no certificate")
		}
	})
}
