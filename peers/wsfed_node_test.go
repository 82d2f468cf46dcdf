package peers

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/keyroll/keyroll/adminapi"
)

// wsfedDir holds the node relying party and its package-lock.json
// (.ci/run installs it with npm ci).
const wsfedDir = "testdata/wsfed"

// startNodeRP runs testdata/wsfed/rp.js (passport-wsfed-saml2) against kr
// and registers it as a WS-Federation application issuing tokenType
// (saml2 or saml11). It returns the RP's base URL.
func startNodeRP(t *testing.T, kr *keyroll, tokenType string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		needTool(t, "node is not installed")
	}
	if _, err := os.Stat(filepath.Join(wsfedDir, "node_modules", "passport-wsfed-saml2")); err != nil {
		needTool(t, "passport-wsfed-saml2 is not installed (cd peers/%s && npm ci)", wsfedDir)
	}
	const realm = "urn:keyroll:peers:passport-wsfed-saml2"
	base := startPeer(t, wsfedDir, node, "rp.js", kr.url, realm)
	ctx := context.Background()
	if _, err := kr.admin.CreateApp(ctx, adminapi.CreateAppRequest{Name: "passport", Protocol: "wsfed", Audience: realm,
		RedirectURIs: []string{base + "/acs"}, Fed: &adminapi.FedInfo{TokenType: tokenType}}); err != nil {
		t.Fatal(err)
	}
	if _, err := kr.admin.CreateUser(ctx, "alice", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	return base
}

// TestWSFedPassport: passport-wsfed-saml2 (node), trusting the thumbprints
// of the certificates in keyroll's federation metadata, signs alice in
// through wsignin1.0 with a SAML 2.0 and with a SAML 1.1 token; after an
// urgent rotation it refuses the new key's token until it reads the
// metadata again, then accepts it. (Its xml-crypto verifies RSA only.)
func TestWSFedPassport(t *testing.T) {
	for tokenType, version := range map[string]string{"saml2": "2.0", "saml11": "1.1"} {
		t.Run(tokenType, func(t *testing.T) {
			kr := startKeyroll(t, "RS256")
			base := startNodeRP(t, kr, tokenType)
			if s := expectSignedIn(t, "passport-wsfed-saml2", fedSignIn(t, base+"/login", "alice", "correct horse battery"), "alice"); s.Version != version {
				t.Errorf("passport-wsfed-saml2 read a SAML %q assertion, want %s", s.Version, version)
			}
			checkTamperRefused(t, "passport-wsfed-saml2", base+"/login")
			checkRollover(t, kr, "passport-wsfed-saml2", base, base+"/login", "alice", "correct horse battery")
		})
	}
}
