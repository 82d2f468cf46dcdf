package keysync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyroll/keyroll/ops"
	"github.com/keyroll/keyroll/ops/internal/atomicfile"
	fixtures "github.com/keyroll/keyroll/ops/opstest"
	"github.com/keyroll/keyroll/ops/webconfig"
)

func published(t *testing.T, rel string) *ops.Published {
	t.Helper()
	p, err := ops.Parse(fixtures.Read(t, rel), rel)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func copyFixture(t *testing.T, rel, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, fixtures.Read(t, rel), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const (
	entraCommon = "federation-metadata/entra-common-tenantid.xml"
	adfs2016    = "federation-metadata/adfs2016-ec2amaz-co4bqav.xml"
)

func TestWebConfigOnlyThumbprintsChangeAndIdempotent(t *testing.T) {
	path := copyFixture(t, "webconfig/wif35-configbased-entra-common.Web.config", "Web.config")
	orig, _ := os.ReadFile(path)
	p := published(t, entraCommon)
	res, err := Sync(p, path, Options{Format: WebConfig})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || len(res.Added) != 4 || len(res.Removed) != 2 || res.Backup != path+".bak" {
		t.Fatalf("result %+v", res)
	}
	now, _ := os.ReadFile(path)
	if bak, _ := os.ReadFile(res.Backup); !bytes.Equal(bak, orig) {
		t.Error("backup differs from the original")
	}
	// Outside the trustedIssuers entries, every byte is the same.
	cfg, _ := webconfig.Parse(orig)
	first, last := cfg.Entries[0], cfg.Entries[len(cfg.Entries)-1]
	startOfFirst := bytes.LastIndexByte(orig[:bytes.Index(orig, []byte(first.Raw))], '\n')
	endOfLast := bytes.Index(orig, []byte(last.Raw)) + len(last.Raw)
	lastTail := orig[bytes.IndexByte(orig[endOfLast:], '>')+endOfLast+1:]
	if !bytes.HasPrefix(now, orig[:startOfFirst]) || !bytes.HasSuffix(now, lastTail) {
		t.Errorf("bytes outside the registry changed:\n%s", now)
	}
	for _, k := range p.Keys {
		if !bytes.Contains(now, []byte(`<add thumbprint="`+k.Thumbprint+`" name="https://sts.windows.net/{tenantid}/" />`)) {
			t.Errorf("%s not written", k.Thumbprint)
		}
	}
	// Second run: nothing to do, nothing written, not even a backup.
	writes := 0
	res, err = Sync(p, path, Options{Format: WebConfig, Write: func(string, []byte, fs.FileMode) error { writes++; return nil }})
	if err != nil || res.Changed || writes != 0 {
		t.Errorf("second run: changed=%v writes=%d err=%v", res.Changed, writes, err)
	}
}

func TestFailedWriteLeavesOldFile(t *testing.T) {
	path := copyFixture(t, "webconfig/wif45-validating-acs-crmfederation.Web.config", "Web.config")
	orig, _ := os.ReadFile(path)
	failing := atomicfile.Writer{CreateTemp: func(dir, pattern string) (atomicfile.File, error) {
		f, err := os.CreateTemp(dir, pattern)
		return halfWriter{f}, err
	}}
	_, err := Sync(published(t, adfs2016), path, Options{Format: WebConfig, NoBackup: true, Write: failing.Write})
	if err == nil || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("err = %v", err)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, orig) {
		t.Error("the Web.config changed after a failed write")
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*keyroll-*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// halfWriter writes half of what it is given, then fails, as a full disk does.
type halfWriter struct{ *os.File }

func (h halfWriter) Write(p []byte) (int, error) {
	n, _ := h.File.Write(p[:len(p)/2])
	return n, errors.New("no space left on device")
}

func TestPEMBundleLifecycle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "idp.pem")
	res, err := Sync(published(t, entraCommon), path, Options{Format: PEM})
	if err != nil || !res.Changed || res.Backup != "" || res.Keys != 4 {
		t.Fatalf("first: %+v %v", res, err)
	}
	first, _ := os.ReadFile(path)
	if n := bytes.Count(first, []byte("BEGIN CERTIFICATE")); n != 4 {
		t.Errorf("%d certificates written", n)
	}
	if res, _ := Sync(published(t, entraCommon), path, Options{Format: PEM}); res.Changed {
		t.Error("unchanged set rewritten")
	}
	res, err = Sync(published(t, adfs2016), path, Options{Format: PEM})
	if err != nil || !res.Changed || len(res.Added) != 1 || len(res.Removed) != 4 {
		t.Fatalf("rollover: %+v %v", res, err)
	}
	if bak, _ := os.ReadFile(path + ".bak"); !bytes.Equal(bak, first) {
		t.Error("backup is not the previous bundle")
	}
}

func TestJWKSWithoutCertificates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	p := published(t, "jwks/google-oauth2-v3-certs.json")
	if _, err := Sync(p, path, Options{Format: JWKS}); err != nil {
		t.Fatal(err)
	}
	back, err := ops.Parse(mustRead(t, path), path)
	if err != nil || len(back.Keys) != 2 || back.Find(p.Keys[0].JWKThumbprint) < 0 || back.Find(p.Keys[1].KID) < 0 {
		t.Fatalf("written JWKS: %v", err)
	}
	if res, _ := Sync(p, path, Options{Format: JWKS}); res.Changed {
		t.Error("rewritten")
	}
	// The same keys cannot go into a PEM bundle: refused, nothing written.
	pemPath := filepath.Join(t.TempDir(), "k.pem")
	if _, err := Sync(p, pemPath, Options{Format: PEM}); !errors.Is(err, ErrEmptySet) {
		t.Errorf("err = %v", err)
	}
	if _, err := os.Stat(pemPath); !errors.Is(err, fs.ErrNotExist) {
		t.Error("file created for an empty set")
	}
}

func mustRead(t *testing.T, path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestRefusals(t *testing.T) {
	dir := t.TempDir()
	bad := published(t, "federation-metadata/entra-app-a15b04fc-pretty-crlf.xml")
	if _, err := Sync(bad, filepath.Join(dir, "a.pem"), Options{Format: PEM}); !errors.Is(err, ErrBadSignature) {
		t.Errorf("invalid signature: %v", err)
	}
	notPEM := filepath.Join(dir, "notes.pem")
	os.WriteFile(notPEM, []byte("my notes\n"), 0o644)
	if _, err := Sync(published(t, adfs2016), notPEM, Options{Format: PEM}); !errors.Is(err, ErrNotOurFormat) {
		t.Errorf("not a PEM: %v", err)
	}
	easy := copyFixture(t, "webconfig/wif45-configbased-easyid-spaced-thumbprints.Web.config", "Web.config")
	var amb *webconfig.AmbiguousIssuerError
	if _, err := Sync(published(t, adfs2016), easy, Options{Format: WebConfig}); !errors.As(err, &amb) {
		t.Errorf("several issuers: %v", err)
	}
	if _, err := Sync(published(t, adfs2016), filepath.Join(dir, "none.config"), Options{Format: WebConfig}); err == nil {
		t.Error("missing Web.config created")
	}
}

func TestFormatFor(t *testing.T) {
	for path, want := range map[string]Format{"a.pem": PEM, "b.CRT": PEM, "c.json": JWKS, "Web.config": WebConfig} {
		if f, err := FormatFor(path, ""); f != want || err != nil {
			t.Errorf("%s: %s %v", path, f, err)
		}
	}
	if _, err := FormatFor("keys.txt", "auto"); err == nil {
		t.Error("unknown extension accepted")
	}
	if f, _ := FormatFor("keys.txt", "JWKS"); f != JWKS {
		t.Error("explicit format ignored")
	}
}

func TestRunHook(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := RunHook(context.Background(), `echo "reload $KEYROLL_SYNC_FILE" > "$KEYROLL_SYNC_FILE.hook"`, path, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path + ".hook"); string(got) != "reload "+path+"\n" {
		t.Errorf("hook wrote %q", got)
	}
	if err := RunHook(context.Background(), "exit 3", path, io.Discard, io.Discard); err == nil {
		t.Error("failing hook reported success")
	}
}

// withAlg returns the JWKS doc with key i's alg replaced, so the parser skips it.
func withAlg(t *testing.T, doc []byte, i int, alg string) []byte {
	t.Helper()
	var set map[string][]map[string]any
	if err := json.Unmarshal(doc, &set); err != nil {
		t.Fatal(err)
	}
	set["keys"][i]["alg"] = alg
	out, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRefusesWhenASigningKeyWasSkipped: the provider still publishes a key
// keyroll skips; writing the others would drop its thumbprint from the
// relying party, so nothing is written and the error names the key.
func TestRefusesWhenASigningKeyWasSkipped(t *testing.T) {
	const rel = "jwks/entra-common-discovery-keys-2020.json"
	doc := withAlg(t, fixtures.Read(t, rel), 2, "ES256")
	p, err := ops.Parse(doc, rel)
	if err != nil || len(p.Keys) != 2 {
		t.Fatalf("%v: %d keys", err, len(p.Keys))
	}
	cfg := copyFixture(t, "webconfig/wif35-configbased-entra-common.Web.config", "Web.config")
	orig, _ := os.ReadFile(cfg)
	for _, tc := range []struct {
		path string
		f    Format
	}{{cfg, WebConfig}, {filepath.Join(t.TempDir(), "rp.pem"), PEM}, {filepath.Join(t.TempDir(), "keys.json"), JWKS}} {
		res, err := Sync(p, tc.path, Options{Format: tc.f})
		if !errors.Is(err, ErrSkippedKeys) || !strings.Contains(err.Error(), "M6pX7RHoraLsprfJeRCjSxuURhc") || !strings.Contains(err.Error(), "alg") || res.Changed {
			t.Errorf("%s: %v %+v", tc.f, err, res)
		}
	}
	if now, _ := os.ReadFile(cfg); !bytes.Equal(now, orig) {
		t.Error("Web.config was changed")
	}
	if _, err := os.Stat(cfg + BackupSuffix); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("backup written: %v", err)
	}
}
