package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/jwk"
	fixtures "github.com/keyroll/keyroll/ops/opstest"
)

// pinnedSetup serves the legitimate metadata of an issuer and its
// attacks: re-signed by an attacker's key (listing it), and stripped.
func pinnedSetup(t *testing.T) (srv *fixtures.Server, legitTP string, attackerTP string) {
	now := time.Now()
	legit := fixtures.NewCert(t, "Legit STS", now.Add(-time.Hour), now.Add(400*24*time.Hour))
	attacker := fixtures.NewCert(t, "ATTACKER", now.Add(-time.Hour), now.Add(400*24*time.Hour))
	srv = fixtures.NewServer(t, false)
	srv.Set("/legit", fixtures.Metadata(t, "https://sts.example.com/", legit, legit))
	srv.Set("/resigned", fixtures.Metadata(t, "https://sts.example.com/", attacker, attacker))
	srv.Set("/stripped", fixtures.Unsigned(t, "https://sts.example.com/", legit))
	return srv, jwk.SHA1Thumbprint(legit.Cert.Raw), jwk.SHA1Thumbprint(attacker.Cert.Raw)
}

// Without a pin, nothing calls a self-signed document valid: thumbprints
// names the key in the document that signed it and says it decides no trust.
func TestThumbprintsUnpinnedNeverSaysValid(t *testing.T) {
	srv, _, attackerTP := pinnedSetup(t)
	out, stderr, code := opsRun(t, "thumbprints", srv.URL+"/resigned")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	sig := lineWith(out, "Signature:")
	if strings.Contains(sig, "valid") || !strings.Contains(sig, attackerTP) || !strings.Contains(sig, "CN=ATTACKER") ||
		!strings.Contains(sig, "no trust decision") {
		t.Fatalf("signature line %q", sig)
	}
}

// With a pin, every command that reads metadata refuses re-signed and
// stripped metadata with a clear error, and sync writes nothing.
func TestPinnedMetadataRefusedEverywhere(t *testing.T) {
	srv, legitTP, _ := pinnedSetup(t)
	dir := t.TempDir()
	bundle := filepath.Join(dir, "trusted.pem")
	for _, doc := range []string{"/resigned", "/stripped"} {
		u := srv.URL + doc
		for _, args := range [][]string{
			{"thumbprints", u},
			{"timeline", u},
			{"trust", "check", u, legitTP},
			{"watch", "--once", "--state", filepath.Join(dir, "watch.json"), u},
			{"sync", u, "--to", bundle, "--allow-unpinned"},
			{"verify", "--metadata", u, "--audience", "a", "x.y.z"},
		} {
			args = append(args, "--metadata-signer", legitTP)
			out, stderr, code := opsRun(t, args...)
			if code == 0 || !strings.Contains(out+stderr, "not signed by the pinned signer") {
				t.Errorf("%s: exit %d, output %q %q", strings.Join(args, " "), code, out, stderr)
			}
		}
		if _, err := os.Stat(bundle); err == nil {
			t.Fatalf("sync wrote %s from %s metadata", bundle, doc)
		}
	}
	out, stderr, code := opsRun(t, "thumbprints", srv.URL+"/legit", "--metadata-signer", legitTP)
	if code != 0 || !strings.Contains(lineWith(out, "Signature:"), "valid, signed by the pinned certificate "+legitTP) {
		t.Fatalf("legit metadata with its pin: exit %d %q %s", code, out, stderr)
	}
	if _, stderr, code := opsRun(t, "sync", srv.URL+"/legit", "--to", bundle, "--metadata-signer", legitTP); code != 0 {
		t.Fatalf("pinned sync: exit %d %s", code, stderr)
	}
}

// Without a pin, sync from a source that is neither https nor pinned
// refuses to change the trust it writes unless --allow-unpinned.
func TestSyncUnpinnedPlainSourceRefused(t *testing.T) {
	srv, _, _ := pinnedSetup(t)
	bundle := filepath.Join(t.TempDir(), "trusted.pem")
	_, stderr, code := opsRun(t, "sync", srv.URL+"/resigned", "--to", bundle)
	if code != 1 || !strings.Contains(stderr, "neither https nor signed by a pinned metadata signer") {
		t.Fatalf("exit %d %s", code, stderr)
	}
	if _, err := os.Stat(bundle); err == nil {
		t.Fatal("sync wrote the file")
	}
	if _, stderr, code := opsRun(t, "sync", "--allow-unpinned", srv.URL+"/legit", "--to", bundle); code != 0 {
		t.Fatalf("--allow-unpinned: exit %d %s", code, stderr)
	}
}

func lineWith(out, prefix string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}
