package peers

import (
	"os/exec"
	"testing"

	"github.com/keyroll/keyroll/issuer"
)

// pysaml2Python returns a Python interpreter that imports pysaml2
// (Debian's python3-pysaml2 is for /usr/bin/python3, which may not be the
// first python3 on PATH), or skips the test.
func pysaml2Python(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("xmlsec1"); err != nil {
		needTool(t, "xmlsec1 (pysaml2 verifies signatures with it)")
	}
	for _, name := range []string{"python3", "/usr/bin/python3"} {
		py, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		if exec.Command(py, "-c", "import saml2").Run() == nil {
			return py
		}
	}
	needTool(t, "no python3 imports saml2 (apt-get install python3-pysaml2)")
	return ""
}

// startPysaml2SP runs testdata/pysaml2/sp.py against kr's metadata and
// registers it with kr. It returns the SP's base URL.
func startPysaml2SP(t *testing.T, kr *keyroll) string {
	t.Helper()
	py := pysaml2Python(t)
	base := startPeer(t, "testdata/pysaml2", py, "sp.py", kr.url+issuer.MetadataPath)
	newSAMLApp(t, kr, "pysaml2", base+"/metadata", base+"/acs")
	return base
}

// TestSAMLPysaml2: pysaml2's Saml2Client, configured only from keyroll's
// federation metadata, signs alice in (SP-initiated, HTTP-Redirect); after
// an urgent rotation it refuses the new key's response until it reads the
// metadata again, then accepts it.
func TestSAMLPysaml2(t *testing.T) {
	kr := startKeyroll(t, "RS256")
	base := startPysaml2SP(t, kr)
	checkRollover(t, kr, "pysaml2", base, base+"/login", "alice", "correct horse battery")
}

// TestSAMLPysaml2Bindings: the HTTP-POST binding, ECDSA (xmlsec1 reads
// XML-DSig's r||s) and an IdP-initiated sign-in (unsolicited response).
func TestSAMLPysaml2Bindings(t *testing.T) {
	kr := startKeyroll(t, "ES256")
	base := startPysaml2SP(t, kr)
	t.Run("POST", func(t *testing.T) {
		expectSignedIn(t, "pysaml2", fedSignIn(t, base+"/login?binding=post", "alice", "correct horse battery"), "alice")
	})
	t.Run("Tampered", func(t *testing.T) { checkTamperRefused(t, "pysaml2", base+"/login") })
	t.Run("IdPInitiated", func(t *testing.T) {
		expectSignedIn(t, "pysaml2", fedSignIn(t, kr.url+issuer.SAMLPath+"/init?app=pysaml2", "alice", "correct horse battery"), "alice")
	})
}
