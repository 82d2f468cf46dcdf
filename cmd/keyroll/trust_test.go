package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	fixtures "github.com/keyroll/keyroll/ops/opstest"
	"github.com/keyroll/keyroll/ops/trust"
	"github.com/keyroll/keyroll/ops/webconfig"
)

const (
	entraCommonMD = "federation-metadata/entra-common-tenantid.xml"
	entraSigner   = "B0CD7FC80C55F06578C8DF81EA3DB1CE68A4E40A"
)

var entraAll = []string{"4773E1D1133EAB71516752CFE10F6142D06A3353", entraSigner, "DB06E0BABB7B5559D9665477118E9094F773958A", "8CAAA67CC4FAA0BDFCC1A49239C3F5FF9FCA9003"}

// webConfigTrusting copies the real WIF 3.5 Web.config and makes it trust thumbprints.
func webConfigTrusting(t *testing.T, thumbprints ...string) string {
	t.Helper()
	data := fixtures.Read(t, "webconfig/wif35-configbased-entra-common.Web.config")
	if len(thumbprints) > 0 {
		var err error
		if data, _, err = webconfig.Replace(data, "", thumbprints); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "Web.config")
	os.WriteFile(path, data, 0o644)
	return path
}

// TestTrustCheckVerdicts runs "trust check" on real Web.config files against
// Entra's served metadata: the exit code is the verdict.
func TestTrustCheckVerdicts(t *testing.T) {
	srv := fixtures.NewServer(t, false)
	srv.Set("/md", fixtures.Read(t, entraCommonMD))
	tests := []struct {
		name    string
		trusted string
		want    trust.Verdict
		text    string
	}{
		{"as found", webConfigTrusting(t), trust.Broken, "none of the 4 published keys is trusted"},
		{"updated", webConfigTrusting(t, entraAll...), trust.OK, "every published key"},
		{"next missing", webConfigTrusting(t, entraAll[:2]...), trust.AtRisk, "may sign from 2026-02-09"},
		{"signer missing", webConfigTrusting(t, entraAll[0], entraAll[2], entraAll[3]), trust.Broken, "the key that signs now"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stderr, code := opsRun(t, "trust", "check", srv.URL+"/md", "--trusted", tt.trusted, "--at", "2026-02-06")
			if code != int(tt.want) || !strings.Contains(out, "Verdict: "+tt.want.String()) || !strings.Contains(out, tt.text) {
				t.Errorf("exit %d (want %d) %s\n%s", code, tt.want, stderr, out)
			}
		})
	}
}

func TestTrustCheckJSONAndThumbprintArgs(t *testing.T) {
	md := fixtures.Path(t, entraCommonMD)
	spaced := "b0 cd 7f c8 0c 55 f0 65 78 c8 df 81 ea 3d b1 ce 68 a4 e4 0a"
	out, _, code := opsRun(t, "trust", "check", md, spaced, "--thumbprint", entraAll[0], "--at", "2026-02-06", "--json")
	var r trust.JSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if code != 1 || r.Verdict != "AT RISK" || r.ExitCode != 1 || r.Signer == nil || r.Signer.Thumbprint != entraSigner || len(r.Keys) != 4 {
		t.Fatalf("exit %d: %+v", code, r)
	}
	if !r.Keys[1].Trusted || !r.Keys[1].Signing || r.Keys[2].Trusted || r.Keys[2].SignsFrom == nil || r.Keys[2].SignsFrom.Format("2006-01-02") != "2026-02-10" {
		t.Errorf("keys %+v", r.Keys)
	}
}

func TestTrustCheckCouldNotCheck(t *testing.T) {
	md := fixtures.Path(t, entraCommonMD)
	bad := filepath.Join(t.TempDir(), "list.txt")
	os.WriteFile(bad, []byte("not a thumbprint\n"), 0o644)
	for name, args := range map[string][]string{
		"nothing trusted given": {"trust", "check", md},
		"bad flag":              {"trust", "check", md, "--bogus"},
		"bad list":              {"trust", "check", md, "--trusted", bad},
		"unreadable provider":   {"trust", "check", filepath.Join(t.TempDir(), "missing.xml"), entraSigner},
		"no provider":           {"trust", "check", "--trusted", bad},
	} {
		if _, stderr, code := opsRun(t, args...); code != 3 || stderr == "" {
			t.Errorf("%s: exit %d %q", name, code, stderr)
		}
	}
}

// TestOwnIssuerEndToEnd runs the operator toolkit against keyroll's own
// issuer: with a next key published but not yet trusted, trust check says
// AT RISK; after sync into the relying party's bundle, OK.
func TestOwnIssuerEndToEnd(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, func(string) string { return "" }, "--store", "sqlite:"+filepath.Join(dir, "keyroll.db"))
	md := s.url + "/federationmetadata/2007-06/federationmetadata.xml"
	bundle := filepath.Join(dir, "rp.pem")
	if out, stderr, code := opsRun(t, "sync", "--allow-unpinned", s.url, "--to", bundle); code != 0 {
		t.Fatalf("sync: %d %s %s", code, out, stderr)
	}
	if out, stderr, code := opsRun(t, "keys", "rotate", "--server", s.url); code != 0 {
		t.Fatalf("rotate: %d %s %s", code, out, stderr)
	}
	out, _, code := opsRun(t, "thumbprints", s.url, "--json")
	var keys []struct{ Thumbprint string }
	if err := json.Unmarshal([]byte(out), &keys); err != nil || code != 0 || len(keys) != 2 {
		t.Fatalf("thumbprints via discovery: %d %v\n%s", code, err, out)
	}
	out, _, code = opsRun(t, "trust", "check", md, "--trusted", bundle)
	if code != int(trust.AtRisk) || !strings.Contains(out, "it signed the metadata document") {
		t.Fatalf("before sync: exit %d\n%s", code, out)
	}
	if out, _, code := opsRun(t, "sync", "--allow-unpinned", md, "--to", bundle); code != 0 || !strings.Contains(out, "updated") {
		t.Fatalf("sync after rotate: %d %s", code, out)
	}
	if out, _, code := opsRun(t, "trust", "check", md, "--trusted", bundle); code != int(trust.OK) {
		t.Fatalf("after sync: exit %d\n%s", code, out)
	}
}

// TestTrustCheckEstimateIsAtMostAtRisk: on a JWKS nothing says which key
// signs, so the AD FS estimate (the newest key) being untrusted is AT RISK,
// said to be an estimate; --signer naming it makes it BROKEN.
func TestTrustCheckEstimateIsAtMostAtRisk(t *testing.T) {
	jwks := fixtures.Path(t, "jwks/entra-common-discovery-keys-2020.json")
	args := []string{"trust", "check", jwks, "SsZsBNhZcF3Q9S4trpQBTByNRRI", "M6pX7RHoraLsprfJeRCjSxuURhc", "--at", "2020-06-20"}
	out, stderr, code := opsRun(t, args...)
	if code != int(trust.AtRisk) || !strings.Contains(out, "estimate") {
		t.Errorf("estimate: exit %d %s\n%s", code, stderr, out)
	}
	out, stderr, code = opsRun(t, append(args, "--signer", "huN95IvPfehq34GzBDZ1GXGirnM")...)
	if code != int(trust.Broken) || !strings.Contains(out, "the key that signs now") {
		t.Errorf("named signer: exit %d %s\n%s", code, stderr, out)
	}
}

// TestTrustCheckUnknownSigner: a --signer that names no published key is
// "could not check", with a message saying so.
func TestTrustCheckUnknownSigner(t *testing.T) {
	md := fixtures.Path(t, entraCommonMD)
	_, stderr, code := opsRun(t, "trust", "check", md, entraSigner, "--signer", "no-such-kid", "--at", "2026-02-06")
	if code != exitCouldNotCheck || !strings.Contains(stderr, `--signer "no-such-kid"`) || !strings.Contains(stderr, "not published") {
		t.Errorf("exit %d %q", code, stderr)
	}
}
