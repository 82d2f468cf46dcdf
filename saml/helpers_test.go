package saml

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/keyroll/keyroll/internal/testissuer"
	"github.com/keyroll/keyroll/internal/xmlsafe"
)

// keyCache keeps RSA key generation (slow on a shared machine) to once per
// name per test binary.
var keyCache sync.Map

// testSigner returns a cached key ("rsa", "rsa1024" or "p256" prefix) and a
// self-signed certificate for it.
func testSigner(t testing.TB, name string) Signer {
	t.Helper()
	if s, ok := keyCache.Load(name); ok {
		return s.(Signer)
	}
	var key crypto.Signer
	var err error
	switch {
	case strings.HasPrefix(name, "rsa1024"):
		key, err = rsa.GenerateKey(rand.Reader, 1024)
	case strings.HasPrefix(name, "rsa"):
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case strings.HasPrefix(name, "p384"):
		key, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	default:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	cert := testissuer.SelfSigned(t, key, name, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	s := Signer{Key: key, Cert: cert}
	keyCache.Store(name, s)
	return s
}

var zeroTime time.Time

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testAssertion() *Assertion {
	return &Assertion{
		Issuer:       "https://idp.example/",
		Subject:      "alice@example.com",
		NameIDFormat: NameIDEmail,
		Audience:     "https://sp.example/",
		NotBefore:    t0.Add(-5 * time.Minute),
		NotOnOrAfter: t0.Add(time.Hour),
		SessionIndex: "_sess1",
		Attributes: []Attribute{
			{Name: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", FriendlyName: "email", Values: []string{"alice@example.com"}},
			{Name: "http://schemas.microsoft.com/ws/2008/06/identity/claims/role", Values: []string{"admin", "a<b&c"}},
		},
	}
}

func testResponse() Response {
	return Response{
		Destination:  "https://sp.example/acs",
		InResponseTo: "_req1",
		IssueInstant: t0,
		Issuer:       "https://idp.example/",
		Assertion:    testAssertion(),
	}
}

// goxmldsigVerify verifies the enveloped signature of the element of doc
// that carries id (attribute idAttr) with goxmldsig against cert alone and
// returns the verified element. ECDSA r||s values are turned into the DER
// goxmldsig checks.
func goxmldsigVerify(t testing.TB, doc []byte, idAttr, id string, cert *x509.Certificate) (*etree.Element, error) {
	t.Helper()
	_, root, err := xmlsafe.Read(doc, xmlsafe.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var target *etree.Element
	xmlsafe.Walk(root, func(e *etree.Element) error {
		if v, _ := xmlsafe.Attr(e, idAttr); v == id {
			target = e
		}
		return nil
	})
	if target == nil {
		t.Fatalf("no element with %s=%q", idAttr, id)
	}
	if _, ok := cert.PublicKey.(*ecdsa.PublicKey); ok {
		for _, sig := range xmlsafe.Children(target, NSDSig, "Signature") {
			sv := xmlsafe.Child(sig, NSDSig, "SignatureValue")
			raw, _ := base64.StdEncoding.DecodeString(sv.Text())
			der, err := derECDSA(raw)
			if err != nil {
				t.Fatal(err)
			}
			sv.SetText(base64.StdEncoding.EncodeToString(der))
		}
	}
	ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
	ctx.IdAttribute = idAttr
	ctx.Clock = dsig.NewFakeClockAt(t0)
	return ctx.Validate(target)
}

// attrOf returns attribute key of the first element named local under root.
func findEl(t testing.TB, doc []byte, ns, local string) *etree.Element {
	t.Helper()
	_, root, err := xmlsafe.Read(doc, xmlsafe.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var found *etree.Element
	xmlsafe.Walk(root, func(e *etree.Element) error {
		if found == nil && xmlsafe.Is(e, ns, local) {
			found = e
		}
		return nil
	})
	return found
}
