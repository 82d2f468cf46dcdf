package fedmeta

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/keyroll/keyroll/internal/xmlsectest"
)

func xmlsec1Path(t *testing.T) string { return xmlsectest.Path(t) }

// xmlsec1Verify runs xmlsec1 on doc with cert as the only verification key.
func xmlsec1Verify(t *testing.T, bin string, doc []byte, cert *x509.Certificate) (bool, string) {
	t.Helper()
	docPath, certPath := xmlsectest.Files(t, doc, cert)
	return xmlsectest.Verify(bin, docPath, "--pubkey-cert-pem", certPath,
		"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor")
}

func TestXmlsec1VerifiesKeyrollSignatures(t *testing.T) {
	bin := xmlsec1Path(t)
	for name, kind := range map[string]keyKind{"RSA2048": kindRSA2048, "P256": kindP256, "P384": kindP384} {
		t.Run(name, func(t *testing.T) {
			key, cert := newKey(t, kind, "signer")
			_, other := newKey(t, kind, "other")
			signed := signedDoc(t, key, cert, other)
			if ok, out := xmlsec1Verify(t, bin, signed, cert); !ok {
				t.Fatalf("xmlsec1 rejects keyroll's signature:\n%s", out)
			}
			// The check discriminates: another key of the same type, or a
			// changed document, fails.
			if ok, _ := xmlsec1Verify(t, bin, signed, other); ok {
				t.Error("xmlsec1 accepted the signature under a different key")
			}
			tampered := bytes.Replace(signed, []byte("https://issuer.example/wsfed"), []byte("https://evil.example/wsfed"), 1)
			if ok, _ := xmlsec1Verify(t, bin, tampered, cert); ok {
				t.Error("xmlsec1 accepted a changed document")
			}
		})
	}
}

// xmlsec1 and Verify agree on real documents: the Entra one verifies, the
// re-indented one does not.
func TestXmlsec1AgreesOnFixtures(t *testing.T) {
	bin := xmlsec1Path(t)
	for file, want := range map[string]bool{"entra-tenant-8b966979.xml": true, "entra-app-a15b04fc-pretty-crlf.xml": false} {
		data := readFixture(t, file)
		md, err := Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		signer := md.Signing[0].Cert
		ok, out := xmlsec1Verify(t, bin, data, signer)
		_, err = Verify(data, []*x509.Certificate{signer})
		if ok != want || (err == nil) != want {
			t.Errorf("%s: xmlsec1 ok=%v, Verify err=%v, want verified=%v\n%s", file, ok, err, want, out)
		}
	}
}

// The other direction: Verify accepts signatures xmlsec1 makes, so the r||s
// ECDSA handling matches the standard and not only Sign.
func TestVerifyAcceptsXmlsec1Signatures(t *testing.T) {
	bin := xmlsec1Path(t)
	for name, c := range map[string]struct {
		kind           keyKind
		method, digest string
	}{
		"RSA2048": {kindRSA2048, "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "http://www.w3.org/2001/04/xmlenc#sha256"},
		"P256":    {kindP256, "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", "http://www.w3.org/2001/04/xmlenc#sha256"},
		"P384":    {kindP384, "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384", "http://www.w3.org/2001/04/xmldsig-more#sha384"},
	} {
		t.Run(name, func(t *testing.T) {
			key, cert := newKey(t, c.kind, "xmlsec signer")
			doc, err := Build(Config{EntityID: "https://issuer.example/", Certs: []*x509.Certificate{cert}, ID: "_root"})
			if err != nil {
				t.Fatal(err)
			}
			tmpl := `<ds:Signature xmlns:ds="` + NSDSig + `"><ds:SignedInfo>` +
				`<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>` +
				`<ds:SignatureMethod Algorithm="` + c.method + `"/><ds:Reference URI="#_root"><ds:Transforms>` +
				`<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>` +
				`<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>` +
				`<ds:DigestMethod Algorithm="` + c.digest + `"/><ds:DigestValue/></ds:Reference></ds:SignedInfo>` +
				`<ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>`
			i := bytes.Index(doc, []byte(`entityID="https://issuer.example/">`)) + len(`entityID="https://issuer.example/">`)
			doc = append(doc[:i:i], append([]byte(tmpl), doc[i:]...)...)
			signed := xmlsec1Sign(t, bin, doc, key, cert)
			if got, err := Verify(signed, []*x509.Certificate{cert}); err != nil || got != cert {
				t.Fatalf("Verify of xmlsec1's signature: %v\n%s", err, signed)
			}
		})
	}
}

func xmlsec1Sign(t *testing.T, bin string, doc []byte, key crypto.Signer, cert *x509.Certificate) []byte {
	t.Helper()
	dir := t.TempDir()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"tmpl.xml": doc,
		"key.pem":  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		"cert.pem": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(bin, "--sign", "--privkey-pem", filepath.Join(dir, "key.pem")+","+filepath.Join(dir, "cert.pem"),
		"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor", filepath.Join(dir, "tmpl.xml")).Output()
	if err != nil {
		t.Fatalf("xmlsec1 --sign: %v", err)
	}
	return out
}
