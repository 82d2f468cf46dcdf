package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	fixtures "github.com/keyroll/keyroll/ops/opstest"
	"github.com/keyroll/keyroll/ops/webconfig"
)

// TestSyncWebConfig: sync into a real Web.config replaces only the
// thumbprints, keeps a backup, runs --exec, and a second run changes nothing.
func TestSyncWebConfig(t *testing.T) {
	srv := fixtures.NewServer(t, false)
	srv.Set("/md", fixtures.Read(t, "federation-metadata/adfs2016-ec2amaz-co4bqav.xml"))
	dir := t.TempDir()
	cfg := filepath.Join(dir, "Web.config")
	orig := fixtures.Read(t, "webconfig/wif45-validating-acs-crmfederation.Web.config")
	os.WriteFile(cfg, orig, 0o644)
	marker := filepath.Join(dir, "reloaded")
	args := []string{"sync", "--allow-unpinned", srv.URL + "/md", "--to", cfg, "--exec", "echo reloaded >> " + marker}
	out, stderr, code := opsRun(t, args...)
	if code != 0 || !strings.Contains(out, "updated") || !strings.Contains(out, "0650FB41D3BFB6064BF4948C3DD2BDCABAB23946") {
		t.Fatalf("exit %d %s\n%s", code, stderr, out)
	}
	now, _ := os.ReadFile(cfg)
	want := bytes.Replace(orig, []byte("96BDA8B03C2E351E075F7C386DAEEEE9E9ACC77C"), []byte("0650FB41D3BFB6064BF4948C3DD2BDCABAB23946"), 1)
	if !bytes.Equal(now, want) {
		t.Errorf("more than the thumbprint changed:\n%s", now)
	}
	if bak, _ := os.ReadFile(cfg + ".bak"); !bytes.Equal(bak, orig) {
		t.Error("backup is not the original")
	}
	out, _, code = opsRun(t, args...)
	if code != 0 || !strings.HasPrefix(out, "unchanged") {
		t.Errorf("second run: exit %d %q", code, out)
	}
	if again, _ := os.ReadFile(cfg); !bytes.Equal(again, now) {
		t.Error("second run changed the file")
	}
	if m, _ := os.ReadFile(marker); string(m) != "reloaded\n" {
		t.Errorf("--exec ran %q times", m)
	}
}

func TestSyncPEMAndJWKS(t *testing.T) {
	dir := t.TempDir()
	md := fixtures.Path(t, "federation-metadata/entra-tenant-8b966979.xml")
	pemFile := filepath.Join(dir, "entra.pem")
	if out, _, code := opsRun(t, "sync", "--allow-unpinned", md, "--to", pemFile); code != 0 || !strings.Contains(out, "3 key(s)") {
		t.Fatalf("pem: %d %s", code, out)
	}
	if out, _, code := opsRun(t, "trust", "check", md, "--trusted", pemFile, "--at", "2017-06-01"); code != 0 {
		t.Errorf("synced PEM not trusted for all keys: %d\n%s", code, out)
	}
	jwksFile := filepath.Join(dir, "keys.json")
	google := fixtures.Path(t, "jwks/google-oauth2-v3-certs.json")
	if _, _, code := opsRun(t, "sync", "--allow-unpinned", google, "--to", jwksFile); code != 0 {
		t.Fatalf("jwks: exit %d", code)
	}
	if out, _, code := opsRun(t, "sync", "--allow-unpinned", google, "--to", jwksFile); code != 0 || !strings.HasPrefix(out, "unchanged") {
		t.Errorf("jwks second run: %d %s", code, out)
	}
}

func TestSyncRefusals(t *testing.T) {
	dir := t.TempDir()
	google := fixtures.Path(t, "jwks/google-oauth2-v3-certs.json")
	pemFile := filepath.Join(dir, "k.pem")
	if _, stderr, code := opsRun(t, "sync", "--allow-unpinned", google, "--to", pemFile); code != 1 || !strings.Contains(stderr, "empty key set") {
		t.Errorf("empty set: %d %s", code, stderr)
	}
	if _, err := os.Stat(pemFile); !errors.Is(err, fs.ErrNotExist) {
		t.Error("file written for an empty set")
	}
	garbage := filepath.Join(dir, "garbage.xml")
	os.WriteFile(garbage, []byte("<EntityDescriptor"), 0o644)
	if _, stderr, code := opsRun(t, "sync", "--allow-unpinned", garbage, "--to", pemFile); code != 1 || stderr == "" {
		t.Errorf("unparseable: %d %s", code, stderr)
	}
	pretty := fixtures.Path(t, "federation-metadata/entra-app-a15b04fc-pretty-crlf.xml")
	if _, stderr, code := opsRun(t, "sync", "--allow-unpinned", pretty, "--to", pemFile); code != 1 || !strings.Contains(stderr, "signature") {
		t.Errorf("bad signature: %d %s", code, stderr)
	}
	if _, _, code := opsRun(t, "sync", "--allow-unpinned", pretty, "--to", pemFile, "--allow-invalid-signature"); code != 0 {
		t.Errorf("--allow-invalid-signature: exit %d", code)
	}
	if _, _, code := opsRun(t, "sync", "--allow-unpinned", google, "--to", filepath.Join(dir, "keys.txt")); code != exitUsage {
		t.Errorf("unknown format: exit %d", code)
	}
	if _, _, code := opsRun(t, "sync", "--allow-unpinned", google); code != exitUsage {
		t.Errorf("no --to: exit %d", code)
	}
	easy := filepath.Join(dir, "Web.config")
	os.WriteFile(easy, fixtures.Read(t, "webconfig/wif45-configbased-easyid-spaced-thumbprints.Web.config"), 0o644)
	adfs := fixtures.Path(t, "federation-metadata/adfs2016-ec2amaz-co4bqav.xml")
	if _, stderr, code := opsRun(t, "sync", "--allow-unpinned", adfs, "--to", easy); code != 1 || !strings.Contains(stderr, "6 issuers") {
		t.Errorf("ambiguous issuer: %d %s", code, stderr)
	}
	if _, _, code := opsRun(t, "sync", "--allow-unpinned", adfs, "--to", easy, "--issuer-name", "urn:auth0th-test"); code != 0 {
		t.Errorf("--issuer-name: exit %d", code)
	}
	cfg, _ := webconfig.Parse(mustReadFile(t, easy))
	if n := len(cfg.Entries); n != 11 {
		t.Errorf("entries %d, want 11", n)
	}
}

func mustReadFile(t *testing.T, path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
