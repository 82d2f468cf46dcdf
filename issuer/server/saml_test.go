package server

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/fedmeta"
	"github.com/keyroll/keyroll/internal/xmlsectest"
	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/issuer/samlidp"
	"github.com/keyroll/keyroll/issuer/signin"
)

const (
	spEntity = "https://sp.example/saml"
	spACS    = "https://sp.example/saml/acs"
)

func (e *oauthEnv) samlApp(t *testing.T, fed *adminapi.FedInfo) *adminapi.CreatedApp {
	t.Helper()
	return e.createApp(t, adminapi.CreateAppRequest{Name: "sp", Protocol: "saml", Audience: spEntity, RedirectURIs: []string{spACS}, Fed: fed})
}

// authnRequest is a redirect-binding query for an AuthnRequest from spEntity.
func authnRequest(t *testing.T, id, acs string, at time.Time) string {
	t.Helper()
	acsAttr := ""
	if acs != "" {
		acsAttr = fmt.Sprintf(` AssertionConsumerServiceURL="%s"`, acs)
	}
	xml := fmt.Sprintf(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="%s" Version="2.0" IssueInstant="%s"%s><saml:Issuer>%s</saml:Issuer></samlp:AuthnRequest>`,
		id, at.UTC().Format(time.RFC3339), acsAttr, spEntity)
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.DefaultCompression)
	fw.Write([]byte(xml))
	fw.Close()
	return url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(buf.Bytes())}, "RelayState": {"rs-1"}}.Encode()
}

// signInAt plays the browser from a sign-on URL through the sign-in form
// to the self-submitting answer page.
func (b *browser) signInAt(start, user, password string) *samlidp.PostForm {
	b.t.Helper()
	resp, page := b.get(start)
	if resp.StatusCode != 200 {
		b.t.Fatalf("GET %s: %d %s", start, resp.StatusCode, page)
	}
	form, err := signin.ParseLoginForm([]byte(page))
	if err != nil {
		b.t.Fatalf("signin.ParseLoginForm: %v\n%s", err, page)
	}
	action, _ := resp.Request.URL.Parse(form.Action)
	resp, page = b.post(action.String(), form.Values(user, password))
	pf, err := samlidp.ParsePostForm([]byte(page))
	if resp.StatusCode != 200 || err != nil {
		b.t.Fatalf("sign-in answered %d (%v): %s", resp.StatusCode, err, page)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action https://sp.example") || strings.Contains(csp, "unsafe-inline") {
		b.t.Errorf("answer page CSP %q", csp)
	}
	return pf
}

// verifiedBy checks the enveloped signature of the last element named local
// under cert (RSA: goxmldsig reads ECDSA signatures as ASN.1, not the r||s
// XML-DSig specifies; the saml package's own tests cover ECDSA with
// xmlsec1) and returns the element as verified.
func verifiedBy(t *testing.T, doc []byte, cert *x509.Certificate, local string) *etree.Element {
	t.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromBytes(doc); err != nil {
		t.Fatal(err)
	}
	var el *etree.Element
	for _, e := range d.FindElements("//" + local) {
		el = e
	}
	if el == nil {
		t.Fatalf("no %s in %s", local, doc)
	}
	ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
	if el.NamespaceURI() == "urn:oasis:names:tc:SAML:1.0:assertion" {
		ctx.IdAttribute = "AssertionID"
	}
	ctx.Clock = dsig.NewFakeClockAt(cert.NotBefore.Add(time.Hour))
	v, err := ctx.Validate(el)
	if err != nil {
		t.Fatalf("%s signature does not verify under %s: %v", local, cert.Subject, err)
	}
	return v
}

func (e *oauthEnv) certOf(t *testing.T, kid string) *x509.Certificate {
	t.Helper()
	c := e.m.Snapshot().Certs[kid]
	if c == nil {
		t.Fatalf("no published certificate for %s", kid)
	}
	return c
}

func TestSAMLSignInSPInitiated(t *testing.T) {
	e := newRSAEnv(t)
	e.user(t, "alice@example.com", "correct horse battery")
	e.samlApp(t, nil)
	b := newBrowser(t)
	pf := b.signInAt(e.ts.URL+issuer.SAMLPath+"?"+authnRequest(t, "_req1", spACS, e.clk.Now()), "alice@example.com", "correct horse battery")
	if pf.Action != spACS || pf.Fields.Get("RelayState") != "rs-1" {
		t.Fatalf("answer posted to %s with RelayState %q", pf.Action, pf.Fields.Get("RelayState"))
	}
	xml, _ := base64.StdEncoding.DecodeString(pf.Fields.Get("SAMLResponse"))
	cert := e.certOf(t, e.m.Snapshot().Primary.KID)
	resp := verifiedBy(t, xml, cert, "Response")
	a := verifiedBy(t, xml, cert, "Assertion")
	for path, want := range map[string]string{
		"./Issuer": e.ts.URL, "./Subject/SubjectConfirmation/SubjectConfirmationData[@Recipient]": "",
		"./Conditions/AudienceRestriction/Audience": spEntity,
	} {
		el := a.FindElement(path)
		if el == nil || (want != "" && el.Text() != want) {
			t.Errorf("assertion %s = %v, want %q", path, el, want)
		}
	}
	if resp.SelectAttrValue("InResponseTo", "") != "_req1" || resp.SelectAttrValue("Destination", "") != spACS {
		t.Errorf("response InResponseTo/Destination: %q %q", resp.SelectAttrValue("InResponseTo", ""), resp.SelectAttrValue("Destination", ""))
	}
	nameID := a.FindElement("./Subject/NameID")
	if nameID == nil || nameID.SelectAttrValue("Format", "") != "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" || strings.Contains(nameID.Text(), "alice") {
		t.Errorf("NameID %v: want an opaque persistent id", nameID)
	}
	if !strings.Contains(string(xml), "alice@example.com") {
		t.Error("the name and email attributes are missing")
	}
	// The same request again is a replay.
	resp2, page := b.get(e.ts.URL + issuer.SAMLPath + "?" + authnRequest(t, "_req1", spACS, e.clk.Now()))
	if resp2.StatusCode != 400 || !strings.Contains(page, "already used") {
		t.Errorf("replayed request: %d %s", resp2.StatusCode, page)
	}
}

func TestSAMLOverrideSignsWithNextKey(t *testing.T) {
	e := newRSAEnv(t)
	e.user(t, "bob", "correct horse battery")
	e.samlApp(t, &adminapi.FedInfo{Sign: "assertion"})
	if _, err := e.c.Rotate(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Override(context.Background(), "sp", adminapi.OverrideRequest{Next: true}); err != nil {
		t.Fatal(err)
	}
	next := e.m.Snapshot().Published[1]
	pf := newBrowser(t).signInAt(e.ts.URL+samlidp.InitPath+"?app=sp", "bob", "correct horse battery")
	xml, _ := base64.StdEncoding.DecodeString(pf.Fields.Get("SAMLResponse"))
	verifiedBy(t, xml, e.certOf(t, next.KID), "Assertion")
	if strings.Contains(string(xml), "InResponseTo=") {
		t.Error("an IdP-initiated answer names a request")
	}
	d := etree.NewDocument()
	d.ReadFromBytes(xml)
	if sigs := d.FindElements("//Signature"); len(sigs) != 1 {
		t.Errorf("Sign: assertion gave %d signatures, want 1 (the assertion's)", len(sigs))
	}
}

// TestSAMLRefusals: requests that cannot be answered safely get an error
// page, never a redirect or a post to the SP.
func TestSAMLRefusals(t *testing.T) {
	e := newRSAEnv(t)
	e.samlApp(t, nil)
	now := e.clk.Now()
	unknown := authnRequest(t, "_x", "", now)
	cases := map[string]struct {
		query string
		want  string
	}{
		"unregistered ACS": {authnRequest(t, "_a", "https://evil.example/acs", now), "not registered"},
		"old request":      {authnRequest(t, "_b", spACS, now.Add(-time.Hour)), "requests are accepted for"},
		"no request":       {"RelayState=x", "no SAMLRequest"},
		"not deflated":     {url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString([]byte("<x/>"))}}.Encode(), "not valid"},
	}
	for name, c := range cases {
		resp, page := newBrowser(t).get(e.ts.URL + issuer.SAMLPath + "?" + c.query)
		if resp.StatusCode != 400 || !strings.Contains(page, c.want) || strings.Contains(page, "SAMLResponse") {
			t.Errorf("%s: %d %s", name, resp.StatusCode, page)
		}
	}
	if err := e.c.DeleteApp(context.Background(), "sp"); err != nil {
		t.Fatal(err)
	}
	resp, page := newBrowser(t).get(e.ts.URL + issuer.SAMLPath + "?" + unknown)
	if resp.StatusCode != 400 || !strings.Contains(page, "No SAML application is registered") {
		t.Errorf("unknown SP: %d %s", resp.StatusCode, page)
	}
}

func TestSAMLSignedRequestsRequired(t *testing.T) {
	e := newRSAEnv(t)
	spCert := e.certOf(t, e.m.Snapshot().Primary.KID) // any certificate will do: nothing signs with it here
	e.samlApp(t, &adminapi.FedInfo{SPCerts: [][]byte{spCert.Raw}, RequestsSigned: true})
	resp, page := newBrowser(t).get(e.ts.URL + issuer.SAMLPath + "?" + authnRequest(t, "_s", spACS, e.clk.Now()))
	if resp.StatusCode != 400 || !strings.Contains(page, "not signed") {
		t.Errorf("unsigned request to an SP that signs: %d %s", resp.StatusCode, page)
	}
}

func TestWSFedSignIn(t *testing.T) {
	for _, tokenType := range []string{"saml2", "saml11"} {
		t.Run(tokenType, func(t *testing.T) {
			e := newRSAEnv(t)
			e.user(t, "carol", "correct horse battery")
			e.createApp(t, adminapi.CreateAppRequest{Name: "wif", Protocol: "wsfed", Audience: "urn:wif:app",
				RedirectURIs: []string{"https://sp.example/wif/"}, Fed: &adminapi.FedInfo{TokenType: tokenType}})
			q := url.Values{"wa": {"wsignin1.0"}, "wtrealm": {"urn:wif:app"}, "wctx": {"rm=0&id=passive"}}
			pf := newBrowser(t).signInAt(e.ts.URL+issuer.PassivePath+"?"+q.Encode(), "carol", "correct horse battery")
			if pf.Action != "https://sp.example/wif/" || pf.Fields.Get("wa") != "wsignin1.0" || pf.Fields.Get("wctx") != "rm=0&id=passive" {
				t.Fatalf("answer %+v", pf)
			}
			verifiedBy(t, []byte(pf.Fields.Get("wresult")), e.certOf(t, e.m.Snapshot().Primary.KID), "Assertion")
			if !strings.Contains(pf.Fields.Get("wresult"), "urn:wif:app") {
				t.Error("the RSTR does not name the realm")
			}
			// An unregistered reply and an unknown realm stop with an error page.
			for _, bad := range []url.Values{
				{"wa": {"wsignin1.0"}, "wtrealm": {"urn:wif:app"}, "wreply": {"https://evil.example/"}},
				{"wa": {"wsignin1.0"}, "wtrealm": {"urn:other"}},
				{"wa": {"wsignin9"}},
			} {
				resp, page := newBrowser(t).get(e.ts.URL + issuer.PassivePath + "?" + bad.Encode())
				if resp.StatusCode != 400 || strings.Contains(page, "wresult") {
					t.Errorf("%v: %d %s", bad, resp.StatusCode, page)
				}
			}
		})
	}
}

// TestMetadataNamesWorkingEndpoints: every sign-on endpoint the federation
// metadata names answers (no 501).
func TestMetadataNamesWorkingEndpoints(t *testing.T) {
	e := newRSAEnv(t)
	if _, err := fedmeta.Parse(e.m.Snapshot().Metadata); err != nil {
		t.Fatal(err)
	}
	for _, ep := range []string{issuer.SAMLPath, issuer.PassivePath} {
		if !strings.Contains(string(e.m.Snapshot().Metadata), e.ts.URL+ep) {
			t.Errorf("metadata does not name %s", ep)
		}
		resp, _ := newBrowser(t).get(e.ts.URL + ep)
		if resp.StatusCode == http.StatusNotImplemented || resp.StatusCode == http.StatusNotFound {
			t.Errorf("GET %s: %d", ep, resp.StatusCode)
		}
	}
	if !strings.Contains(string(e.m.Snapshot().Metadata), "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST") {
		t.Error("metadata names no HTTP-POST SingleSignOnService")
	}
}

// TestSAMLResponseVerifiesWithXmlsec1: a signed Response and its signed
// Assertion verify with xmlsec1 against the published certificate.
func TestSAMLResponseVerifiesWithXmlsec1(t *testing.T) {
	bin := xmlsectest.Path(t)
	e := newRSAEnv(t)
	e.user(t, "dave", "correct horse battery")
	e.samlApp(t, nil)
	pf := newBrowser(t).signInAt(e.ts.URL+samlidp.InitPath+"?app=sp", "dave", "correct horse battery")
	xml, _ := base64.StdEncoding.DecodeString(pf.Fields.Get("SAMLResponse"))
	doc, pem := xmlsectest.Files(t, xml, e.certOf(t, e.m.Snapshot().Primary.KID))
	for _, node := range []string{"urn:oasis:names:tc:SAML:2.0:protocol:Response", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"} {
		ok, out := xmlsectest.Verify(bin, doc, "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response",
			"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion", "--node-xpath", xpathOf(node), "--pubkey-cert-pem", pem)
		if !ok || !strings.Contains(out, "OK") {
			t.Errorf("xmlsec1 --verify %s:\n%s", node, out)
		}
	}
}

func xpathOf(node string) string {
	if strings.HasSuffix(node, ":Response") {
		return "/*[local-name()='Response']/*[local-name()='Signature']"
	}
	return "//*[local-name()='Assertion']/*[local-name()='Signature']"
}

// spMetadata is an SP's metadata with one ACS and a signing certificate.
func spMetadata(entity, acs string, cert *x509.Certificate) []byte {
	return []byte(fmt.Sprintf(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="%s">
<md:SPSSODescriptor AuthnRequestsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>%s</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="%s" index="0"/>
</md:SPSSODescriptor></md:EntityDescriptor>`, entity, base64.StdEncoding.EncodeToString(cert.Raw), acs))
}

// TestSPMetadataURL: an SP registered from its metadata URL is read at
// creation and kept current by the refresher (the SP rolled its key and
// moved its ACS); metadata that names another entity changes nothing.
func TestSPMetadataURL(t *testing.T) {
	e := newRSAEnv(t)
	first := e.certOf(t, e.m.Snapshot().Primary.KID)
	if _, err := e.c.Rotate(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	second := e.certOf(t, e.m.Snapshot().Published[1].KID)
	var doc atomic.Value
	doc.Store(spMetadata(spEntity, spACS, first))
	sp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(doc.Load().([]byte)) }))
	defer sp.Close()
	created := e.createApp(t, adminapi.CreateAppRequest{Name: "hr", Protocol: "saml", Fed: &adminapi.FedInfo{SPMetadataURL: sp.URL + "/md"}})
	if created.App.Audience != spEntity || len(created.App.RedirectURIs) != 1 || !created.App.Fed.RequestsSigned || len(created.App.Fed.SPCerts) != 1 {
		t.Fatalf("created from metadata: %+v %+v", created.App, created.App.Fed)
	}
	doc.Store(spMetadata(spEntity, "https://sp.example/saml/acs2", second))
	if err := samlidp.RefreshSPMetadata(context.Background(), e.m, nil); err != nil {
		t.Fatal(err)
	}
	app, _ := e.c.App(context.Background(), "hr")
	if app.RedirectURIs[0] != "https://sp.example/saml/acs2" || !bytes.Equal(app.Fed.SPCerts[0], second.Raw) {
		t.Errorf("after refresh: %v", app.RedirectURIs)
	}
	doc.Store(spMetadata("https://attacker.example/", "https://attacker.example/acs", first))
	if err := samlidp.RefreshSPMetadata(context.Background(), e.m, nil); err == nil || !strings.Contains(err.Error(), "re-register") {
		t.Errorf("metadata naming another entity: %v", err)
	}
	if app2, _ := e.c.App(context.Background(), "hr"); app2.RedirectURIs[0] != "https://sp.example/saml/acs2" {
		t.Errorf("a refused refresh changed the application: %v", app2.RedirectURIs)
	}
	ev, _ := e.c.Events(context.Background(), time.Time{}, 0)
	found := false
	for _, x := range ev {
		found = found || strings.Contains(x.Reason, "SP metadata refreshed")
	}
	if !found {
		t.Error("the refresh was not audited")
	}
}
