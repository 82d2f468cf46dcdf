package ops

import "testing"

// FuzzParseDiscovery: an OIDC discovery document is read (with a jwks_uri)
// or refused, never a panic.
func FuzzParseDiscovery(f *testing.F) {
	for _, s := range []string{`{"issuer":"https://i","jwks_uri":"https://i/k","keyroll_signing_kid":"a"}`, `{"jwks_uri":" "}`, `{"issuer":[]}`, "\ufeff{}", ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := parseDiscovery(data)
		if err == nil && d.JWKSURI == "" {
			t.Fatal("accepted a discovery document without jwks_uri")
		}
	})
}

// FuzzTrustRoots: PEM CA input (--ca-file) is added or refused.
func FuzzTrustRoots(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("not pem"))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n-----BEGIN X-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var l Loader
		_ = l.TrustRoots(data)
	})
}
