// Package xmlsectest runs xmlsec1, the independent XML-DSig verifier, for
// the tests of every package that signs XML (fedmeta, saml, the issuer).
// It is imported only by tests.
package xmlsectest

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Find returns the xmlsec1 binary, or "" where it is missing; under
// CI=true (CI installs it) a missing xmlsec1 fails the test.
func Find(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("xmlsec1")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("xmlsec1 not on PATH under CI=true; install it: apt-get install -y xmlsec1")
		}
		return ""
	}
	return p
}

// Path is Find for a test that checks nothing else: it skips, visibly,
// where xmlsec1 is missing.
func Path(t testing.TB) string {
	t.Helper()
	p := Find(t)
	if p == "" {
		t.Skip("xmlsec1 not on PATH: skipping the independent XML-DSig check (apt-get install -y xmlsec1)")
	}
	return p
}

// Files writes doc and cert (PEM) into a temporary directory and returns
// their paths.
func Files(t testing.TB, doc []byte, cert *x509.Certificate) (docPath, certPath string) {
	t.Helper()
	dir := t.TempDir()
	docPath, certPath = filepath.Join(dir, "doc.xml"), filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(docPath, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return docPath, certPath
}

// Verify runs bin --verify with args and then docPath, and reports whether
// xmlsec1 accepted the signature, with its output.
func Verify(bin, docPath string, args ...string) (bool, string) {
	out, err := exec.Command(bin, append(append([]string{"--verify"}, args...), docPath)...).CombinedOutput()
	return err == nil, string(out)
}
