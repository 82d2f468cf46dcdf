package fedmeta

import (
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// maxSeed keeps the fuzz seeds small so mutation and minimization stay fast;
// the large fixtures are covered by the fixture tests.
const maxSeed = 16 << 10

// fuzzSeeds adds the small real-world fixtures, a keyroll-signed document and
// the hostile inputs, and returns certificates to pin: the fixtures' signing
// certificates and keyroll's.
func fuzzSeeds(f *testing.F) []*x509.Certificate {
	f.Helper()
	files, err := filepath.Glob(filepath.Join(fixtureDir, "*.xml"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures in %s: %v", fixtureDir, err)
	}
	var pins []*x509.Certificate
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		md, err := Parse(data)
		if err != nil {
			f.Fatal(err)
		}
		for _, s := range md.Signing {
			pins = append(pins, s.Cert)
		}
		if len(data) <= maxSeed {
			f.Add(data)
		}
	}
	// P-256 only: RSA key generation under fuzzing instrumentation is slow
	// at every worker start. The fixtures cover RSA signatures.
	key, cert := newKey(f, kindP256, "fuzz")
	f.Add(signedDoc(f, key, cert))
	pins = append(pins, cert)
	for _, c := range hostileCases(f) {
		if len(c.doc) <= maxSeed {
			f.Add([]byte(c.doc))
		}
	}
	return pins
}

var parseSentinels = []error{ErrTooLarge, ErrDTD, ErrMalformed, ErrBadCertificate, ErrNoSigningCerts}

func FuzzParse(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		md, err := Parse(data)
		if err != nil {
			if !wrapsOneOf(err, parseSentinels) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if md.EntityID == "" || len(md.Signing) == 0 {
			t.Fatalf("accepted metadata without entityID or signing certs: %+v", md)
		}
		seen := map[string]bool{}
		for _, s := range md.Signing {
			if s.Cert == nil || len(s.Sources) == 0 || seen[string(s.Cert.Raw)] {
				t.Fatalf("bad signing entry %+v", s)
			}
			seen[string(s.Cert.Raw)] = true
		}
	})
}

func FuzzVerify(f *testing.F) {
	pins := fuzzSeeds(f)
	sentinels := append([]error{ErrNoSignature, ErrUntrustedSigner, ErrInvalidSignature}, parseSentinels...)
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Verify(data, pins)
		if err != nil {
			if !wrapsOneOf(err, sentinels) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		for _, p := range pins {
			if got == p {
				return
			}
		}
		t.Fatalf("Verify returned a certificate that is not pinned: %s", got.Subject)
	})
}

func wrapsOneOf(err error, sentinels []error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
