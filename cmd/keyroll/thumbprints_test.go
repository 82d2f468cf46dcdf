package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/keyroll/keyroll/ops"
	fixtures "github.com/keyroll/keyroll/ops/opstest"
)

// syncBuffer is a bytes.Buffer safe for a command running in a goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// opsRun runs keyroll in-process and returns stdout, stderr and the exit code.
func opsRun(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return opsRunCtx(context.Background(), args...)
}

func opsRunCtx(ctx context.Context, args ...string) (string, string, int) {
	var out, errb syncBuffer
	code := run(ctx, &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}, args)
	return out.String(), errb.String(), code
}

// realDocuments are the real provider documents with signing certificates.
var realDocuments = []string{
	"federation-metadata/entra-tenant-8b966979.xml",
	"federation-metadata/entra-common-tenantid.xml",
	"federation-metadata/entra-app-81c1df79.xml",
	"federation-metadata/entra-app-a15b04fc-pretty-crlf.xml",
	"federation-metadata/adfs-bwqa-broadsoft.xml",
	"federation-metadata/adfs-juvenilejusticevision2020.xml",
	"federation-metadata/adfs2016-ec2amaz-co4bqav.xml",
	"federation-metadata/okta-wsfed-dev-11721018.xml",
	"jwks/entra-common-discovery-keys-2020.json",
}

// TestThumbprintsMatchOpenSSL serves each real document, runs "keyroll
// thumbprints URL --json --download DIR", and compares every key's
// thumbprints and dates with what openssl prints for the downloaded .cer.
func TestThumbprintsMatchOpenSSL(t *testing.T) {
	srv := fixtures.NewServer(t, false)
	for _, doc := range realDocuments {
		t.Run(doc, func(t *testing.T) {
			srv.Set("/"+doc, fixtures.Read(t, doc))
			dir := t.TempDir()
			out, stderr, code := opsRun(t, "thumbprints", srv.URL+"/"+doc, "--json", "--download", dir)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var keys []ops.KeyJSON
			if err := json.Unmarshal([]byte(out), &keys); err != nil || len(keys) == 0 {
				t.Fatalf("json: %v\n%s", err, out)
			}
			for _, k := range keys {
				cer, err := os.ReadFile(filepath.Join(dir, *k.Thumbprint+".cer"))
				if err != nil {
					t.Fatal(err)
				}
				der, err := base64.StdEncoding.DecodeString(string(cer))
				if err != nil {
					t.Fatalf(".cer is not the base64 of the certificate: %v", err)
				}
				o := fixtures.OpenSSL(t, der)
				if *k.Thumbprint != o.SHA1 || *k.SHA256 != o.SHA256 || !k.NotBefore.Equal(o.NotBefore) || !k.NotAfter.Equal(o.NotAfter) {
					t.Errorf("keyroll %s %s %s..%s; openssl %s %s %s..%s", *k.Thumbprint, *k.SHA256, k.NotBefore, k.NotAfter, o.SHA1, o.SHA256, o.NotBefore, o.NotAfter)
				}
				if k.Source == "" || k.KID == "" || k.Alg == "" {
					t.Errorf("incomplete key %+v", k)
				}
			}
			bundle, _ := os.ReadFile(filepath.Join(dir, ops.BundleName))
			if n := bytes.Count(bundle, []byte("BEGIN CERTIFICATE")); n != len(keys) {
				t.Errorf("bundle has %d certificates, want %d", n, len(keys))
			}
		})
	}
}

func TestThumbprintsTable(t *testing.T) {
	out, _, code := opsRun(t, "thumbprints", fixtures.Path(t, "federation-metadata/entra-tenant-8b966979.xml"))
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, s := range []string{
		"Signature: signed by FD482A5C6FED30B76E489D53F1C687C54EDC3AD7 (CN=accounts.accesscontrol.windows.net), a certificate the document itself publishes",
		"FD482A5C6FED30B76E489D53F1C687C54EDC3AD7", "2017-01-03", "2019-01-04",
		"CN=accounts.accesscontrol.windows.net", "RoleDescriptor/SecurityTokenServiceType", "IDPSSODescriptor",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("table lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, "valid") {
		t.Errorf("unpinned metadata called valid:\n%s", out)
	}
	// The real metadata, pinned by its signer's thumbprint.
	out, _, code = opsRun(t, "thumbprints", fixtures.Path(t, "federation-metadata/entra-tenant-8b966979.xml"),
		"--metadata-signer", "fd:48:2a:5c:6f:ed:30:b7:6e:48:9d:53:f1:c6:87:c5:4e:dc:3a:d7")
	if code != 0 || !strings.Contains(out, "Signature: valid, signed by the pinned certificate FD482A5C6FED30B76E489D53F1C687C54EDC3AD7") {
		t.Errorf("pinned real metadata: exit %d\n%s", code, out)
	}
	out, _, _ = opsRun(t, "thumbprints", fixtures.Path(t, "jwks/google-oauth2-v3-certs.json"))
	if !strings.Contains(out, "no certificate") || !strings.Contains(out, "RFC 7638") {
		t.Errorf("bare keys not explained:\n%s", out)
	}
}

func TestThumbprintsLatest(t *testing.T) {
	out, _, code := opsRun(t, "thumbprints", fixtures.Path(t, "federation-metadata/entra-common-tenantid.xml"), "--latest", "--json")
	var keys []ops.KeyJSON
	json.Unmarshal([]byte(out), &keys)
	if code != 0 || len(keys) != 1 || *keys[0].Thumbprint != "DB06E0BABB7B5559D9665477118E9094F773958A" {
		t.Errorf("exit %d: %s", code, out)
	}
	if _, stderr, code := opsRun(t, "thumbprints", fixtures.Path(t, "jwks/google-oauth2-v3-certs.json"), "--latest"); code != 1 || !strings.Contains(stderr, "no published key has a certificate") {
		t.Errorf("bare --latest: %d %s", code, stderr)
	}
}

// tlsProvider serves the Entra discovery + JWKS under a tenant and AD FS
// metadata over https, and returns the server and a --ca-file for it.
func tlsProvider(t *testing.T) (*fixtures.Server, string) {
	srv := fixtures.NewServer(t, true)
	disc := fixtures.Read(t, "discovery/entra-tenant-a51dae83-v2.0-openid-configuration.json")
	disc = bytes.Replace(disc, []byte("https://login.microsoftonline.com/a51dae83-9ea9-4d51-ae6b-52ae0337a7f9/discovery/v2.0/keys"), []byte(srv.URL+"/keys"), 1)
	srv.Set("/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration", disc)
	srv.Set("/keys", fixtures.Read(t, "jwks/entra-common-discovery-keys-2020.json"))
	srv.Set("/federationmetadata/2007-06/federationmetadata.xml", fixtures.Read(t, "federation-metadata/adfs-bwqa-broadsoft.xml"))
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644)
	return srv, ca
}

func TestThumbprintsShortcuts(t *testing.T) {
	srv, ca := tlsProvider(t)
	out, stderr, code := opsRun(t, "thumbprints", "--tenant", "contoso.onmicrosoft.com", "--authority", srv.URL, "--ca-file", ca)
	if code != 0 || !strings.Contains(out, "4AC66C04D859705DD0F52E2DAE94014C1C8D4512") || !strings.Contains(out, "Via:") {
		t.Errorf("--tenant: exit %d %s\n%s", code, stderr, out)
	}
	u, _ := url.Parse(srv.URL)
	out, stderr, code = opsRun(t, "thumbprints", "--adfs", u.Host, "--ca-file", ca)
	if code != 0 || !strings.Contains(out, "8C2F75CE61C705F61A0D286445D1AFC5F7AE94C3") {
		t.Errorf("--adfs: exit %d %s\n%s", code, stderr, out)
	}
	// Without the CA the TLS handshake fails: an error, not a crash.
	if _, stderr, code := opsRun(t, "thumbprints", "--adfs", u.Host, "--timeout", "5s"); code != 1 || !strings.Contains(stderr, "certificate") {
		t.Errorf("untrusted TLS: exit %d %s", code, stderr)
	}
}

func TestThumbprintsBadInput(t *testing.T) {
	srv := fixtures.NewServer(t, false)
	big := append([]byte(`<EntityDescriptor>`), bytes.Repeat([]byte(" "), ops.MaxDocumentSize)...)
	docs := map[string][]byte{
		"/xxe":       []byte(`<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><EntityDescriptor entityID="&x;"/>`),
		"/laughs":    []byte(`<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><EntityDescriptor entityID="&b;"/>`),
		"/big":       big,
		"/html":      []byte("<html><body>sign in</body></html>"),
		"/truncated": fixtures.Read(t, "federation-metadata/adfs-bwqa-broadsoft.xml")[:5000],
	}
	want := map[string]string{"/xxe": "DTD", "/laughs": "DTD", "/big": "larger than", "/html": "HTML", "/truncated": "malformed"}
	for path, doc := range docs {
		srv.Set(path, doc)
		_, stderr, code := opsRun(t, "thumbprints", srv.URL+path)
		if code != 1 || !strings.Contains(stderr, want[path]) {
			t.Errorf("%s: exit %d, stderr %q (want %q)", path, code, stderr, want[path])
		}
	}
	if _, _, code := opsRun(t, "thumbprints"); code != exitUsage {
		t.Errorf("no source: exit %d", code)
	}
	if _, _, code := opsRun(t, "thumbprints", "--tenant", "a", "--adfs", "b"); code != exitUsage {
		t.Errorf("two sources: exit %d", code)
	}
	if _, stderr, code := opsRun(t, "thumbprints", "http://idp.example.com/keys"); code != 1 || !strings.Contains(stderr, "https") {
		t.Errorf("plain http: exit %d %s", code, stderr)
	}
}
