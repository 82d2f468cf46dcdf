package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/fedmeta"
	"github.com/keyroll/keyroll/internal/xmlsectest"
	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/jwk"
)

// server is a keyroll serve running in this process.
type server struct {
	url  string
	stop func() int
	out  *bytes.Buffer // what it printed after the first line
}

// startServe runs "keyroll serve" with args on a free port and returns once
// it listens.
func startServe(t *testing.T, getenv func(string) string, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var errb bytes.Buffer
	done := make(chan int, 1)
	e := &env{stdin: strings.NewReader(""), stdout: pw, stderr: &errb, getenv: getenv}
	go func() {
		code := run(ctx, e, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...))
		pw.Close()
		done <- code
	}()
	s := &server{out: &bytes.Buffer{}}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		s.out.WriteString(line + "\n")
		if u, ok := strings.CutPrefix(line, "keyroll issuer "); ok {
			s.url = u
		}
		if strings.HasPrefix(line, "next scheduled change") {
			break
		}
	}
	if s.url == "" {
		cancel()
		t.Fatalf("serve did not start: %d\nstdout: %s\nstderr: %s", <-done, s.out, errb.String())
	}
	go io.Copy(io.Discard, pr)
	var once sync.Once
	code := -1
	s.stop = func() int {
		once.Do(func() { cancel(); code = <-done })
		return code
	}
	t.Cleanup(func() { s.stop() })
	return s
}

func get(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return b
}

// runCmd runs a keyroll client command in-process.
func runCmd(t *testing.T, getenv func(string) string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: getenv}, args)
	return out.String(), errb.String(), code
}

// published reads what the three documents publish: JWKS kids and x5t, and
// the metadata's certificate thumbprints.
func published(t *testing.T, base string) (jwksThumbs, metaThumbs []string, metadata []byte) {
	t.Helper()
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(get(t, base+issuer.DiscoveryPath), &disc); err != nil {
		t.Fatal(err)
	}
	if disc.Issuer != base || disc.JWKSURI != base+issuer.JWKSPath {
		t.Fatalf("discovery: %+v", disc)
	}
	var set struct {
		Keys []struct {
			Kid string   `json:"kid"`
			X5c []string `json:"x5c"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(get(t, disc.JWKSURI), &set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		der := mustB64(t, k.X5c[0])
		jwksThumbs = append(jwksThumbs, jwk.SHA1Thumbprint(der))
	}
	metadata = get(t, base+issuer.MetadataPath)
	md, err := fedmeta.Parse(metadata)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range md.Signing {
		if !slices.Contains(sc.Sources, "RoleDescriptor/SecurityTokenServiceType") || !slices.Contains(sc.Sources, "IDPSSODescriptor") {
			t.Fatalf("metadata lists a signing certificate under %v, want the STS RoleDescriptor and the IDPSSODescriptor", sc.Sources)
		}
		metaThumbs = append(metaThumbs, jwk.SHA1Thumbprint(sc.Cert.Raw))
	}
	slices.Sort(jwksThumbs)
	slices.Sort(metaThumbs)
	return jwksThumbs, metaThumbs, metadata
}

func listKeys(t *testing.T, getenv func(string) string, base string) []adminapi.KeyInfo {
	t.Helper()
	out, errs, code := runCmd(t, getenv, "keys", "list", "--server", base, "--json")
	if code != 0 {
		t.Fatalf("keys list: %d %s", code, errs)
	}
	var ks []adminapi.KeyInfo
	if err := json.Unmarshal([]byte(out), &ks); err != nil {
		t.Fatalf("keys list --json: %v\n%s", err, out)
	}
	return ks
}

func publishedThumbs(ks []adminapi.KeyInfo) (all []string, primary string) {
	for _, k := range ks {
		if k.State == "next" || k.State == "primary" || k.State == "retired" {
			all = append(all, k.Thumbprint)
		}
		if k.State == "primary" {
			primary = k.Thumbprint
		}
	}
	slices.Sort(all)
	return all, primary
}

// xmlsecVerify checks metadata's signature with xmlsec1 against the
// primary's certificate. Skips where xmlsec1 is missing, except in CI.
func xmlsecVerify(t *testing.T, metadata []byte, certDER []byte) {
	t.Helper()
	bin := xmlsectest.Find(t)
	if bin == "" {
		t.Log("SKIPPED the independent signature check: xmlsec1 is not installed (apt-get install xmlsec1)")
		return
	}
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		t.Fatal(err)
	}
	doc, pem := xmlsectest.Files(t, metadata, cert)
	if ok, out := xmlsectest.Verify(bin, doc, "--pubkey-cert-pem", pem, "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor"); !ok {
		t.Fatalf("xmlsec1 --verify rejects keyroll's metadata:\n%s", out)
	}
}

func TestServeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	getenv := func(string) string { return "" }
	storeArg := []string{"--store", "sqlite:" + filepath.Join(dir, "data", "keyroll.db")}
	s := startServe(t, getenv, storeArg...)
	if !strings.Contains(s.out.String(), "created a new key-encryption key in "+filepath.Join(dir, "data", "keyroll.kek")) {
		t.Fatalf("serve did not say it created the KEK:\n%s", s.out)
	}
	if fi, err := os.Stat(filepath.Join(dir, "data", "keyroll.kek")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("KEK file: %v %v", fi, err)
	}

	check := func(wantPublished int) (primary string, thumbs []string) {
		t.Helper()
		ks := listKeys(t, getenv, s.url)
		thumbs, primary = publishedThumbs(ks)
		if len(thumbs) != wantPublished || primary == "" {
			t.Fatalf("keys list: %d published (want %d), primary %q", len(thumbs), wantPublished, primary)
		}
		jw, md, metadata := published(t, s.url)
		if !slices.Equal(jw, thumbs) || !slices.Equal(md, thumbs) {
			t.Fatalf("published sets differ:\nkeys list %v\njwks      %v\nmetadata  %v", thumbs, jw, md)
		}
		for _, k := range ks {
			if k.Thumbprint == primary {
				xmlsecVerify(t, metadata, mustCert(t, s.url, k.KID))
			}
		}
		return primary, thumbs
	}
	oldPrimary, _ := check(1)

	out, errs, code := runCmd(t, getenv, "keys", "rotate", "--urgent", "--server", s.url)
	if code != 0 || !strings.Contains(out, "next → primary") {
		t.Fatalf("rotate --urgent: %d %s %s", code, out, errs)
	}
	newPrimary, thumbs := check(2)
	if newPrimary == oldPrimary || !slices.Contains(thumbs, oldPrimary) {
		t.Fatalf("after urgent rotation primary %s, published %v (old %s)", newPrimary, thumbs, oldPrimary)
	}
	before := listKeys(t, getenv, s.url)
	jwksBefore := get(t, s.url+issuer.JWKSPath)
	if code := s.stop(); code != 0 {
		t.Fatalf("serve exited %d", code)
	}

	s = startServe(t, getenv, append(storeArg, "--listen", strings.TrimPrefix(s.url, "http://"))...)
	if after := listKeys(t, getenv, s.url); !equalJSON(t, before, after) {
		t.Fatalf("keys changed across a restart:\n%v\n%v", before, after)
	}
	if jwksAfter := get(t, s.url+issuer.JWKSPath); !bytes.Equal(jwksBefore, jwksAfter) {
		t.Fatalf("JWKS changed across a restart")
	}
	check(2)
}

func equalJSON(t *testing.T, a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}
