package main

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/keyroll/keyroll/fedmeta"
	"github.com/keyroll/keyroll/internal/testissuer"
	fixtures "github.com/keyroll/keyroll/ops/opstest"
)

// TestVerifySAML: keyroll verify --saml accepts a response signed by a
// certificate of the metadata (as XML and as base64), prints the
// assertion, and refuses a tampered one with exit 1.
func TestVerifySAML(t *testing.T) {
	now := time.Now()
	signer := testissuer.Signer(t, "RSA", "cli-saml-idp")
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "cli-saml-idp"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, signer.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	md, err := fedmeta.Build(fedmeta.Config{EntityID: "https://idp.example/", PassiveURL: "https://idp.example/wsfed", Certs: []*x509.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	srv := fixtures.NewServer(t, false)
	srv.Set("/md", md)

	f := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	assertion := fmt.Sprintf(`<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1" Version="2.0" IssueInstant="%s">`+
		`<saml:Issuer>https://idp.example/</saml:Issuer><saml:Subject><saml:NameID>alice@example.com</saml:NameID>`+
		`<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="%s" Recipient="https://sp.example/acs"/></saml:SubjectConfirmation></saml:Subject>`+
		`<saml:Conditions NotBefore="%s" NotOnOrAfter="%s"><saml:AudienceRestriction><saml:Audience>urn:sp</saml:Audience></saml:AudienceRestriction></saml:Conditions></saml:Assertion>`,
		f(now), f(now.Add(time.Hour)), f(now.Add(-time.Minute)), f(now.Add(time.Hour)))
	doc := etree.NewDocument()
	if err := doc.ReadFromString(assertion); err != nil {
		t.Fatal(err)
	}
	sc, _ := dsig.NewSigningContext(signer, [][]byte{cert.Raw})
	sc.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	signed, err := sc.SignEnveloped(doc.Root())
	if err != nil {
		t.Fatal(err)
	}
	s, _ := etree.NewDocumentWithRoot(signed).WriteToString()
	resp := `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r1" Version="2.0" IssueInstant="` + f(now) + `">` +
		`<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>` + s + `</samlp:Response>`
	dir := t.TempDir()
	xmlFile, b64File, badFile := filepath.Join(dir, "r.xml"), filepath.Join(dir, "r.b64"), filepath.Join(dir, "bad.xml")
	os.WriteFile(xmlFile, []byte(resp), 0o600)
	os.WriteFile(b64File, []byte(base64.StdEncoding.EncodeToString([]byte(resp))), 0o600)
	os.WriteFile(badFile, []byte(strings.Replace(resp, "alice@", "admin@", 1)), 0o600)
	args := []string{"verify", "--saml", "--metadata", srv.URL + "/md", "--audience", "urn:sp", "--recipient", "https://sp.example/acs"}
	out, stderr, code := opsRun(t, append(args, xmlFile)...)
	var a struct{ Subject, SigningKey string }
	if code != 0 || json.Unmarshal([]byte(out), &a) != nil || a.Subject != "alice@example.com" {
		t.Fatalf("exit %d %s %s", code, out, stderr)
	}
	// The same response again, base64: a new process has no replay memory.
	if _, stderr, code := opsRun(t, append(args, b64File)...); code != 0 {
		t.Fatalf("base64: exit %d %s", code, stderr)
	}
	if _, stderr, code := opsRun(t, append(args, badFile)...); code != 1 || !strings.Contains(stderr, "bad signature") {
		t.Fatalf("tampered: exit %d %s", code, stderr)
	}
	if _, _, code := opsRun(t, "verify", "--saml", "--metadata", srv.URL+"/md", xmlFile); code != exitUsage {
		t.Fatalf("--saml without --audience: exit %d", code)
	}
}
