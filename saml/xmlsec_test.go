package saml

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/keyroll/keyroll/internal/xmlsectest"
)

func xmlsec1Path(t *testing.T) string { return xmlsectest.Path(t) }

// xmlsec1Verify runs xmlsec1 --verify on doc with cert as the only trusted
// certificate. node selects which signature (by its parent's ID) when the
// document holds several; "" takes the first.
func xmlsec1Verify(t *testing.T, bin string, doc []byte, cert *x509.Certificate, node string) (bool, string) {
	t.Helper()
	docPath, certPath := xmlsectest.Files(t, doc, cert)
	args := []string{"--trusted-pem", certPath,
		// Self-signed test certificates: trust is the pinned PEM, not dates.
		"--verification-time", "2026-03-01 12:00:00",
		"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response",
		"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
		"--id-attr:AssertionID", "urn:oasis:names:tc:SAML:1.0:assertion:Assertion"}
	if node != "" {
		args = append(args, "--node-xpath", "//*[@ID='"+node+"']/*[local-name()='Signature']")
	}
	return xmlsectest.Verify(bin, docPath, args...)
}

func TestXmlsec1VerifiesResponses(t *testing.T) {
	bin := xmlsec1Path(t)
	for _, key := range []string{"rsa-idp", "p256-idp"} {
		t.Run(key, func(t *testing.T) {
			s, other := testSigner(t, key), testSigner(t, key+"-other")
			r := testResponse()
			r.ID, r.Assertion.ID = "_resp1", "_assert1"
			out, err := BuildResponse(r, s, true, true)
			if err != nil {
				t.Fatal(err)
			}
			for _, node := range []string{"_resp1", "_assert1"} {
				if ok, msg := xmlsec1Verify(t, bin, out, s.Cert, node); !ok {
					t.Errorf("xmlsec1 rejects the signature of %s:\n%s\n%s", node, msg, out)
				}
				if ok, _ := xmlsec1Verify(t, bin, out, other.Cert, node); ok {
					t.Errorf("xmlsec1 accepted %s under another certificate", node)
				}
			}
			tampered := bytes.Replace(out, []byte("https://sp.example/acs"), []byte("https://evil.example/acs"), 1)
			if ok, _ := xmlsec1Verify(t, bin, tampered, s.Cert, "_resp1"); ok {
				t.Error("xmlsec1 accepted a changed response")
			}
		})
	}
}

func TestXmlsec1VerifiesAssertions(t *testing.T) {
	bin := xmlsec1Path(t)
	for _, key := range []string{"rsa-idp", "p256-idp"} {
		s := testSigner(t, key)
		for name, build := range map[string]func(Assertion, Signer) ([]byte, error){"SAML11": BuildAssertion11, "SAML20": BuildAssertion20} {
			t.Run(key+"/"+name, func(t *testing.T) {
				a := *testAssertion()
				a.IssueInstant = t0
				out, err := build(a, s)
				if err != nil {
					t.Fatal(err)
				}
				if ok, msg := xmlsec1Verify(t, bin, out, s.Cert, ""); !ok {
					t.Fatalf("xmlsec1 rejects the assertion:\n%s\n%s", msg, out)
				}
				tampered := bytes.Replace(out, []byte("admin"), []byte("root!"), 1)
				if ok, _ := xmlsec1Verify(t, bin, tampered, s.Cert, ""); ok {
					t.Error("xmlsec1 accepted a changed assertion")
				}
				// Inside the WS-Fed envelope the signature still verifies.
				tt := map[string]string{"SAML11": TokenTypeSAML11, "SAML20": TokenTypeSAML20}[name]
				wrapped, err := BuildWSFedResponse(out, tt, "https://sp.example/", t0, t0.Add(8*60*60e9))
				if err != nil {
					t.Fatal(err)
				}
				if ok, msg := xmlsec1Verify(t, bin, wrapped, s.Cert, ""); !ok {
					t.Errorf("xmlsec1 rejects the assertion inside the WS-Fed response:\n%s\n%s", msg, wrapped)
				}
			})
		}
	}
}

// The other direction: ParsePostRequest accepts requests xmlsec1 signed, so
// verification (r||s ECDSA included) follows the standard and not only this
// package's signer.
func TestPostAcceptsXmlsec1Signatures(t *testing.T) {
	bin := xmlsec1Path(t)
	for key, method := range map[string]string{
		"rsa-sp":  "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
		"p256-sp": "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
	} {
		t.Run(key, func(t *testing.T) {
			s := testSigner(t, key)
			tmpl := `<ds:Signature xmlns:ds="` + NSDSig + `"><ds:SignedInfo>` +
				`<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>` +
				`<ds:SignatureMethod Algorithm="` + method + `"/><ds:Reference URI="#_x1"><ds:Transforms>` +
				`<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>` +
				`<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>` +
				`<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference></ds:SignedInfo>` +
				`<ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>`
			doc := authnRequestXML(t, "_x1")
			doc = bytes.Replace(doc, []byte("</saml:Issuer>"), []byte("</saml:Issuer>"+tmpl), 1)
			signed := xmlsec1Sign(t, bin, doc, s)
			req, err := ParsePostRequest(b64(signed), []*x509.Certificate{s.Cert}, true)
			if err != nil || !req.Signed || req.ID != "_x1" {
				t.Fatalf("xmlsec1-signed request: %v\n%s", err, signed)
			}
		})
	}
}

func xmlsec1Sign(t *testing.T, bin string, doc []byte, s Signer) []byte {
	t.Helper()
	dir := t.TempDir()
	der, err := x509.MarshalPKCS8PrivateKey(s.Key)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"tmpl.xml": doc,
		"key.pem":  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		"cert.pem": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Cert.Raw}),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(bin, "--sign", "--privkey-pem", filepath.Join(dir, "key.pem")+","+filepath.Join(dir, "cert.pem"),
		"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:AuthnRequest", filepath.Join(dir, "tmpl.xml")).Output()
	if err != nil {
		t.Fatalf("xmlsec1 --sign: %v", err)
	}
	return out
}
