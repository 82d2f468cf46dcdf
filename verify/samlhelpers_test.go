package verify

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/fedmeta"
)

const (
	samlIdP = "https://idp.example/"
	samlSP  = "https://sp.example/"
	samlACS = "https://sp.example/acs"
)

// samlParams describe a response under construction.
type samlParams struct {
	respID, assertID, inResponseTo, recipient, audience, issuer, nameID string
	notBefore, notOnOrAfter                                             time.Time
	status                                                              string
}

func defaultSAML(now time.Time) samlParams {
	return samlParams{respID: "_resp1", assertID: "_assert1", recipient: samlACS, audience: samlSP, issuer: samlIdP,
		nameID: "alice@example.com", notBefore: now.Add(-time.Minute), notOnOrAfter: now.Add(time.Hour),
		status: "urn:oasis:names:tc:SAML:2.0:status:Success"}
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// assertionXML is an unsigned assertion that declares its own namespace.
func assertionXML(p samlParams) string {
	irt := ""
	if p.inResponseTo != "" {
		irt = fmt.Sprintf(` InResponseTo="%s"`, p.inResponseTo)
	}
	return fmt.Sprintf(`<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="%s" Version="2.0" IssueInstant="%s">`+
		`<saml:Issuer>%s</saml:Issuer>`+
		`<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">%s</saml:NameID>`+
		`<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">`+
		`<saml:SubjectConfirmationData NotOnOrAfter="%s" Recipient="%s"%s/></saml:SubjectConfirmation></saml:Subject>`+
		`<saml:Conditions NotBefore="%s" NotOnOrAfter="%s"><saml:AudienceRestriction><saml:Audience>%s</saml:Audience></saml:AudienceRestriction></saml:Conditions>`+
		`<saml:AuthnStatement AuthnInstant="%s" SessionIndex="_s1"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`+
		`<saml:AttributeStatement><saml:Attribute Name="role"><saml:AttributeValue>admin</saml:AttributeValue><saml:AttributeValue>user</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>`+
		`</saml:Assertion>`,
		p.assertID, ts(p.notBefore), p.issuer, p.nameID, ts(p.notOnOrAfter), p.recipient, irt,
		ts(p.notBefore), ts(p.notOnOrAfter), p.audience, ts(p.notBefore))
}

// responseXML wraps body (assertions, already XML) in a samlp:Response.
func responseXML(p samlParams, body string) string {
	irt := ""
	if p.inResponseTo != "" {
		irt = fmt.Sprintf(` InResponseTo="%s"`, p.inResponseTo)
	}
	return fmt.Sprintf(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="%s" Version="2.0" IssueInstant="%s" Destination="%s"%s>`+
		`<saml:Issuer>%s</saml:Issuer><samlp:Status><samlp:StatusCode Value="%s"/></samlp:Status>%s</samlp:Response>`,
		p.respID, ts(p.notBefore), p.recipient, irt, p.issuer, p.status, body)
}

// wsfedXML wraps an assertion in a WS-Trust 1.3 RSTR collection.
func wsfedXML(assertion string) string {
	return `<t:RequestSecurityTokenResponseCollection xmlns:t="http://docs.oasis-open.org/ws-sx/ws-trust/200512">` +
		`<t:RequestSecurityTokenResponse><t:RequestedSecurityToken>` + assertion +
		`</t:RequestedSecurityToken></t:RequestSecurityTokenResponse></t:RequestSecurityTokenResponseCollection>`
}

// signXML signs the root element of doc (enveloped, exc-c14n) with k,
// using method (RSA-SHA256 when "").
func signXML(t testing.TB, k testKey, doc, method string) string {
	t.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromString(doc); err != nil {
		t.Fatal(err)
	}
	ctx, err := dsig.NewSigningContext(k.signer, [][]byte{k.cert.Raw})
	if err != nil {
		t.Fatal(err)
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if method == "" {
		method = dsig.RSASHA256SignatureMethod
	}
	if err := ctx.SetSignatureMethod(method); err != nil {
		t.Fatal(err)
	}
	signed, err := ctx.SignEnveloped(d.Root())
	if err != nil {
		t.Fatal(err)
	}
	out := etree.NewDocumentWithRoot(signed)
	s, err := out.WriteToString()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// samlHarness is a SAML verifier over federation metadata publishing keys.
type samlHarness struct {
	t   testing.TB
	clk *clock.Fake
	m   *metadataServer
	v   *SAMLVerifier
	ctx context.Context
}

func newSAMLHarness(t testing.TB, cfg SAMLConfig, keys ...testKey) *samlHarness {
	t.Helper()
	signing := rsaKey(t, "saml-md-signer").withCert(t)
	m := newMetadataServer(t, metadataDoc(t, &signing, fedmeta.Config{}, keys...))
	h := &samlHarness{t: t, clk: clock.NewFake(t0), m: m, ctx: context.Background()}
	c, err := NewCache(FederationMetadata(m.srv.URL, signing.cert), WithClock(h.clk))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Issuer == "" {
		cfg.Issuer = samlIdP
	}
	if cfg.Audience == nil {
		cfg.Audience = []string{samlSP}
	}
	if cfg.Recipient == "" {
		cfg.Recipient = samlACS
	}
	if h.v, err = NewSAML(c, cfg); err != nil {
		t.Fatal(err)
	}
	return h
}

// signedResponse is a Response with p's assertion signed by k.
func (h *samlHarness) signedResponse(k testKey, p samlParams) string {
	return responseXML(p, signXML(h.t, k, assertionXML(p), ""))
}

func (h *samlHarness) mustVerify(resp, inResponseTo string) *Assertion {
	h.t.Helper()
	a, err := h.v.VerifyResponse(h.ctx, []byte(resp), inResponseTo)
	if err != nil {
		h.t.Fatalf("VerifyResponse: %v", err)
	}
	return a
}

// stripXMLDecl drops the <?xml ...?> header etree writes, so a signed
// element can be embedded.
func stripXMLDecl(s string) string {
	if strings.HasPrefix(s, "<?xml") {
		if i := strings.Index(s, "?>"); i >= 0 {
			return s[i+2:]
		}
	}
	return s
}
