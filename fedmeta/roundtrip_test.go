package fedmeta

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/keyroll/keyroll/internal/xmlsectest"
)

func TestRoundTrip(t *testing.T) {
	for name, kind := range map[string]keyKind{"RSA2048": kindRSA2048, "P256": kindP256, "P384": kindP384} {
		t.Run(name, func(t *testing.T) {
			key, cert := newKey(t, kind, "keyroll signing "+name)
			_, next := newKey(t, kindRSA2048, "keyroll next")
			cfg := Config{
				EntityID:      `https://issuer.example/t?a=1&b=<2>"'`,
				PassiveURL:    "https://issuer.example/wsfed?x=1&y=2",
				SSOURL:        "https://issuer.example/saml2",
				Certs:         []*x509.Certificate{cert, next},
				ValidUntil:    time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC),
				CacheDuration: 90 * time.Minute,
			}
			doc, err := Build(cfg)
			if err != nil {
				t.Fatal(err)
			}
			signed, err := Sign(doc, key, cert)
			if err != nil {
				t.Fatal(err)
			}
			checkSignedShape(t, signed)
			md, err := Parse(signed)
			if err != nil {
				t.Fatal(err)
			}
			checkParsed(t, md, cfg)
			got, err := Verify(signed, []*x509.Certificate{next, cert})
			if err != nil {
				t.Fatal(err)
			}
			if got != cert {
				t.Errorf("Verify returned %s, want the signer", got.Subject)
			}
		})
	}
}

// checkSignedShape: the signature is the root's first child, with the
// algorithms Sign promises.
func checkSignedShape(t *testing.T, signed []byte) {
	t.Helper()
	s := string(signed)
	tree := etree.NewDocument()
	if err := tree.ReadFromBytes(signed); err != nil {
		t.Fatal(err)
	}
	if first := tree.Root().ChildElements()[0]; first.FullTag() != "ds:Signature" {
		t.Errorf("the root's first child is %s, want ds:Signature", first.FullTag())
	}
	for _, want := range []string{
		`Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"`,
		`Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"`,
		`<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/`,
		`xsi:type="fed:SecurityTokenServiceType"`, // QName prefix still declared
		`xmlns:fed="` + NSFed + `"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("signed document lacks %s", want)
		}
	}
}

func checkParsed(t *testing.T, md *Metadata, cfg Config) {
	t.Helper()
	if md.EntityID != cfg.EntityID || md.PassiveURL != cfg.PassiveURL || !md.Signed {
		t.Errorf("got EntityID %q PassiveURL %q Signed %v", md.EntityID, md.PassiveURL, md.Signed)
	}
	if !md.ValidUntil.Equal(cfg.ValidUntil) || md.CacheDuration != cfg.CacheDuration {
		t.Errorf("ValidUntil %v CacheDuration %v", md.ValidUntil, md.CacheDuration)
	}
	if len(md.Signing) != len(cfg.Certs) {
		t.Fatalf("%d signing certs, want %d", len(md.Signing), len(cfg.Certs))
	}
	wantSources := []string{"RoleDescriptor/SecurityTokenServiceType", "IDPSSODescriptor"}
	for i, s := range md.Signing {
		if !s.Cert.Equal(cfg.Certs[i]) || !slices.Equal(s.Sources, wantSources) {
			t.Errorf("signing %d: %s %q", i, s.Cert.Subject, s.Sources)
		}
	}
}

func TestBuildShape(t *testing.T) {
	_, cert := newKey(t, kindP256, "c")
	doc, err := Build(Config{EntityID: "https://issuer.example/", PassiveURL: "https://issuer.example/wsfed",
		Certs: []*x509.Certificate{cert}, ID: "_fixed"})
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	for _, want := range []string{
		`<EntityDescriptor xmlns="` + NSMetadata + `" ID="_fixed" entityID="https://issuer.example/">`,
		`protocolSupportEnumeration="` + NSFed + `"`,
		`<KeyDescriptor use="signing"><KeyInfo xmlns="` + NSDSig + `"><X509Data><X509Certificate>`,
		`<fed:SecurityTokenServiceEndpoint><wsa:EndpointReference xmlns:wsa="` + NSAddressing +
			`"><wsa:Address>https://issuer.example/wsfed</wsa:Address>`,
		`<fed:PassiveRequestorEndpoint>`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("Build output lacks %s", want)
		}
	}
	// No SSOURL: no IDPSSODescriptor (SAML requires a SingleSignOnService in one).
	if strings.Contains(s, "IDPSSODescriptor") {
		t.Error("IDPSSODescriptor written without SSOURL")
	}
	md, err := Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	if md.Signed || !slices.Equal(md.Signing[0].Sources, []string{"RoleDescriptor/SecurityTokenServiceType"}) {
		t.Errorf("Signed %v Sources %q", md.Signed, md.Signing[0].Sources)
	}
	if _, err := Verify(doc, []*x509.Certificate{cert}); !errors.Is(err, ErrNoSignature) {
		t.Errorf("unsigned document: err = %v, want ErrNoSignature", err)
	}
}

func TestBuildGeneratesDistinctIDs(t *testing.T) {
	_, cert := newKey(t, kindP256, "c")
	cfg := Config{EntityID: "urn:example:issuer", Certs: []*x509.Certificate{cert}}
	a, _ := Build(cfg)
	b, _ := Build(cfg)
	idOf := func(d []byte) string {
		s := string(d)
		i := strings.Index(s, ` ID="`) + 5
		return s[i : i+strings.Index(s[i:], `"`)]
	}
	if idA, idB := idOf(a), idOf(b); idA == idB || !ncName.MatchString(idA) {
		t.Errorf("IDs %q and %q: want distinct NCNames", idA, idB)
	}
}

func TestBuildRejectsBadConfig(t *testing.T) {
	_, cert := newKey(t, kindP256, "c")
	certs := []*x509.Certificate{cert}
	for name, cfg := range map[string]Config{
		"no EntityID":       {Certs: certs},
		"long EntityID":     {EntityID: strings.Repeat("a", MaxEntityIDLen+1), Certs: certs},
		"control character": {EntityID: "https://a.example/\x01", Certs: certs},
		"invalid UTF-8":     {EntityID: "https://a.example/\xff", Certs: certs},
		"relative URL":      {EntityID: "e", PassiveURL: "/wsfed", Certs: certs},
		"bad scheme":        {EntityID: "e", SSOURL: "javascript:alert(1)", Certs: certs},
		"bad ID":            {EntityID: "e", ID: "1abc", Certs: certs},
		"no certs":          {EntityID: "e"},
		"nil cert":          {EntityID: "e", Certs: []*x509.Certificate{nil}},
	} {
		if _, err := Build(cfg); err == nil {
			t.Errorf("%s: Build succeeded", name)
		}
	}
}

func TestSignRejectsUnsupportedKeys(t *testing.T) {
	for name, kind := range map[string]keyKind{"Ed25519": kindEd25519, "P521": kindP521, "RSA1024": kindRSA1024} {
		key, cert := newKey(t, kind, name)
		doc, err := Build(Config{EntityID: "e", Certs: []*x509.Certificate{cert}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Sign(doc, key, cert); !errors.Is(err, ErrUnsupportedKey) {
			t.Errorf("%s: err = %v, want ErrUnsupportedKey", name, err)
		}
	}
}

func TestSignRejectsMismatchAndResigning(t *testing.T) {
	key, cert := newKey(t, kindP256, "a")
	_, other := newKey(t, kindP256, "b")
	doc, err := Build(Config{EntityID: "e", Certs: []*x509.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Sign(doc, key, other); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("key/cert mismatch: err = %v", err)
	}
	signed, err := Sign(doc, key, cert)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Sign(signed, key, cert); !errors.Is(err, ErrMalformed) {
		t.Errorf("signing twice: err = %v, want ErrMalformed", err)
	}
}

func TestVerifyUntrustedSigner(t *testing.T) {
	for name, kind := range map[string]keyKind{"RSA": kindRSA2048, "P256": kindP256} {
		key, cert := newKey(t, kind, "attacker")
		_, pinned := newKey(t, kind, "pinned")
		_, pinnedRSA := newKey(t, kindRSA2048, "pinned")
		signed := signedDoc(t, key, cert, pinned)
		_, err := Verify(signed, []*x509.Certificate{pinned, pinnedRSA})
		if !errors.Is(err, ErrUntrustedSigner) || !strings.Contains(err.Error(), Thumbprint(cert)) {
			t.Errorf("%s: err = %v, want ErrUntrustedSigner naming %s", name, err, Thumbprint(cert))
		}
		if _, err := Verify(signed, nil); !errors.Is(err, ErrUntrustedSigner) {
			t.Errorf("%s, no pins: err = %v", name, err)
		}
	}
}

// The signed document's bytes are stable under re-parsing: Verify accepts
// what Sign wrote, and Sign leaves the unsigned content unchanged.
func TestSignKeepsContent(t *testing.T) {
	key, cert := newKey(t, kindP256, "c")
	doc, err := Build(Config{EntityID: "e", Certs: []*x509.Certificate{cert}, ID: "_x"})
	if err != nil {
		t.Fatal(err)
	}
	signed, err := Sign(doc, key, cert)
	if err != nil {
		t.Fatal(err)
	}
	start := bytes.Index(signed, []byte("<ds:Signature"))
	end := bytes.Index(signed, []byte("</ds:Signature>")) + len("</ds:Signature>")
	without := append(bytes.Clone(signed[:start]), signed[end:]...)
	if !bytes.Equal(without, doc) {
		t.Errorf("Sign changed the content:\n%s\n%s", doc, without)
	}
}

// Sign works on documents keyroll did not build: real AD FS metadata with its
// signature removed, plus characters that only survive if escaped.
func TestSignForeignDocument(t *testing.T) {
	key, cert := newKey(t, kindRSA2048, "re-signer")
	data := string(readFixture(t, "adfs2016-ec2amaz-co4bqav.xml"))
	data = regexp.MustCompile(`<ds:Signature .*?</ds:Signature>`).ReplaceAllString(data, "")
	data = strings.Replace(data, `entityID="`, `x="tab&#9;lf&#10;cr&#13;" entityID="`, 1)
	data = strings.Replace(data, `</EntityDescriptor>`, "<Extensions>a&#13;\r\nb</Extensions></EntityDescriptor>", 1)
	signed, err := Sign([]byte(data), key, cert)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Verify(signed, []*x509.Certificate{cert}); err != nil || got != cert {
		t.Fatalf("Verify: %v", err)
	}
	if bin := xmlsectest.Find(t); bin != "" {
		if ok, out := xmlsec1Verify(t, bin, signed, cert); !ok {
			t.Errorf("xmlsec1 rejects the re-signed AD FS document:\n%s", out)
		}
	}
}

// TestVerifyBoundsPinnedTries: a caller that pins many certificates (say,
// every one a hostile document lists) costs at most MaxPinnedTries passes
// when KeyInfo names none of them, and still finds a signer KeyInfo names.
func TestVerifyBoundsPinnedTries(t *testing.T) {
	var pins []*x509.Certificate
	for i := 0; i < 40; i++ {
		_, c := newKey(t, kindP256, fmt.Sprintf("pin-%d", i))
		pins = append(pins, c)
	}
	key, cert := newKey(t, kindP256, "attacker")
	_, err := Verify(signedDoc(t, key, cert), pins)
	if !errors.Is(err, ErrUntrustedSigner) || !strings.Contains(err.Error(), fmt.Sprintf("first %d of 40", MaxPinnedTries)) {
		t.Fatalf("err = %v, want ErrUntrustedSigner after %d tries", err, MaxPinnedTries)
	}
	signerKey, signer := newKey(t, kindP256, "pin-30")
	if got, err := Verify(signedDoc(t, signerKey, signer), pins); err != nil || !got.Equal(signer) {
		t.Fatalf("signer pinned at position 30 and named by KeyInfo: %v", err)
	}
}
