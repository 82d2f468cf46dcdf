package fedmeta

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// signRole makes a genuine signature by key over the RoleDescriptor (given
// ID "_role") and places it inside the role or as a child of the root.
func signRole(t *testing.T, key crypto.Signer, cert *x509.Certificate, atRoot bool) []byte {
	t.Helper()
	doc, err := Build(Config{EntityID: "https://issuer.example/", Certs: []*x509.Certificate{cert}, ID: "_root"})
	if err != nil {
		t.Fatal(err)
	}
	tree := etree.NewDocument()
	if err := tree.ReadFromBytes(doc); err != nil {
		t.Fatal(err)
	}
	role := tree.Root().SelectElement("RoleDescriptor")
	role.CreateAttr("ID", "_role")
	ctx, err := dsig.NewSigningContext(key, [][]byte{cert.Raw})
	if err != nil {
		t.Fatal(err)
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	sig, err := ctx.ConstructSignature(role.Copy(), true)
	if err != nil {
		t.Fatal(err)
	}
	if atRoot {
		tree.Root().InsertChildAt(0, sig)
	} else {
		role.InsertChildAt(0, sig)
	}
	out, err := tree.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestVerifyRejectsSignatureOnAnotherElement(t *testing.T) {
	key, cert := newKey(t, kindRSA2048, "pinned")
	pin := []*x509.Certificate{cert}
	_, err := Verify(signRole(t, key, cert, false), pin)
	checkErr(t, "signature inside RoleDescriptor", err, ErrInvalidSignature, "not a child of the root")
	_, err = Verify(signRole(t, key, cert, true), pin)
	checkErr(t, "root-level signature referencing RoleDescriptor", err, ErrInvalidSignature, `Reference URI "#_role" does not point at the root`)
}

// Classic XML signature wrapping: keep the genuinely signed content where a
// naive verifier finds it by ID and put the attacker's content at the root.
func TestVerifyRejectsWrapping(t *testing.T) {
	key, cert := newKey(t, kindRSA2048, "pinned")
	pin := []*x509.Certificate{cert}
	signed := string(signedDoc(t, key, cert))
	sigXML := regexp.MustCompile(`<ds:Signature .*</ds:Signature>`).FindString(signed)
	original := signed[strings.Index(signed, "<EntityDescriptor"):]
	unsigned := strings.Replace(original, sigXML, "", 1)
	evilOpen := `<EntityDescriptor xmlns="` + NSMetadata + `" ID="_root" entityID="https://evil.example/">`
	evilRole := `<RoleDescriptor/></EntityDescriptor>`

	for name, c := range map[string]struct {
		doc, msg string
	}{
		"signed original in Extensions": {evilOpen + `<Extensions>` + original + `</Extensions>` + evilRole, "not a child of the root"},
		"signature moved to evil root":  {evilOpen + sigXML + `<Extensions>` + unsigned + `</Extensions>` + evilRole, `ID "_root" appears on more than one element`},
		"second signature":              {strings.Replace(signed, "</EntityDescriptor>", `<Extensions>`+sigXML+`</Extensions></EntityDescriptor>`, 1), "2 ds:Signature elements"},
		"evil root, same ID":            {evilOpen + sigXML + evilRole, "digest mismatch"},
	} {
		_, err := Verify([]byte(c.doc), pin)
		checkErr(t, name, err, ErrInvalidSignature, c.msg)
	}
}

func TestVerifyRejectsEditedSignedInfo(t *testing.T) {
	key, cert := newKey(t, kindP256, "pinned")
	pin := []*x509.Certificate{cert}
	signed := signedDoc(t, key, cert)
	for _, c := range []struct{ name, old, new, msg string }{
		{"HMAC method", "xmldsig-more#ecdsa-sha256", "xmldsig#hmac-sha1", "signature method"},
		{"MD5 digest", "xmlenc#sha256", "xmldsig-more#md5", "digest method"},
		{"no enveloped transform", "xmldsig#enveloped-signature", "xmldsig#base64", "transform"},
		{"reference elsewhere", `URI="#_root"`, `URI="#_other"`, "does not point at the root"},
		{"external reference", `URI="#_root"`, `URI="https://evil.example/md.xml"`, "does not point at the root"},
		{"second reference", `</ds:Reference>`, `</ds:Reference><ds:Reference URI=""/>`, "2 References"},
		{"ID changed", `ID="_root"`, `ID="_toor"`, "does not point at the root"},
	} {
		_, err := Verify(bytes.Replace(signed, []byte(c.old), []byte(c.new), 1), pin)
		checkErr(t, c.name, err, ErrInvalidSignature, c.msg)
	}
}

// KeyInfo only selects among pinned certificates.
func TestVerifyKeyInfoIsNotTrusted(t *testing.T) {
	key, cert := newKey(t, kindRSA2048, "attacker")
	_, pinned := newKey(t, kindRSA2048, "pinned")
	signed := signedDoc(t, key, cert)
	ki := regexp.MustCompile(`<ds:KeyInfo>.*</ds:KeyInfo>`)

	// Attacker's signature claiming to be by the pinned certificate.
	claimed := ki.ReplaceAll(signed, []byte(`<ds:KeyInfo><ds:X509Data><ds:X509Certificate>`+
		b64(pinned.Raw)+`</ds:X509Certificate></ds:X509Data></ds:KeyInfo>`))
	_, err := Verify(claimed, []*x509.Certificate{pinned})
	checkErr(t, "KeyInfo claims pinned cert", err, ErrInvalidSignature, "does not verify under pinned certificate "+Thumbprint(pinned))

	// Without KeyInfo every pinned certificate is tried.
	bare := ki.ReplaceAll(signed, nil)
	if got, err := Verify(bare, []*x509.Certificate{pinned, cert}); err != nil || got != cert {
		t.Errorf("no KeyInfo, signer pinned: %v, %v", got, err)
	}
	_, err = Verify(bare, []*x509.Certificate{pinned})
	checkErr(t, "no KeyInfo, signer not pinned", err, ErrUntrustedSigner, "none of the 1 pinned")

	// A KeyInfo without a certificate is ignored the same way.
	keyName := ki.ReplaceAll(signed, []byte(`<ds:KeyInfo><ds:KeyName>k</ds:KeyName></ds:KeyInfo>`))
	if got, err := Verify(keyName, []*x509.Certificate{cert}); err != nil || got != cert {
		t.Errorf("KeyName only: %v, %v", got, err)
	}
}

func TestVerifyBadSignatureValue(t *testing.T) {
	for name, kind := range map[string]keyKind{"RSA": kindRSA2048, "ECDSA": kindP256} {
		key, cert := newKey(t, kind, "pinned")
		signed := signedDoc(t, key, cert)
		sv := regexp.MustCompile(`<ds:SignatureValue>[^<]*</ds:SignatureValue>`)
		for what, value := range map[string]string{"zeros": b64(make([]byte, 64)), "not base64": "%%%", "odd length": b64([]byte{1, 2, 3})} {
			doc := sv.ReplaceAll(signed, []byte(`<ds:SignatureValue>`+value+`</ds:SignatureValue>`))
			if _, err := Verify(doc, []*x509.Certificate{cert}); !errors.Is(err, ErrInvalidSignature) {
				t.Errorf("%s %s: err = %v, want ErrInvalidSignature", name, what, err)
			}
		}
	}
}
