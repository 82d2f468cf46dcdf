package verify

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dsig "github.com/russellhaering/goxmldsig"

	"github.com/keyroll/keyroll/fedmeta"
	"github.com/keyroll/keyroll/internal/fixtures"
)

func TestSAMLResponseAccepted(t *testing.T) {
	k := rsaKey(t, "saml-idp").withCert(t)
	h := newSAMLHarness(t, SAMLConfig{}, k)
	p := defaultSAML(h.clk.Now())
	p.inResponseTo = "_req1"
	a := h.mustVerify(h.signedResponse(k, p), "_req1")
	if a.Subject != "alice@example.com" || a.Issuer != samlIdP || a.ID != "_assert1" || a.SessionIndex != "_s1" ||
		len(a.Attributes["role"]) != 2 || a.SigningKey != k.x5t() || a.Audiences[0] != samlSP {
		t.Fatalf("assertion %+v", a)
	}
}

func TestSAMLSignedResponseCoversItsAssertion(t *testing.T) {
	k := rsaKey(t, "saml-idp").withCert(t)
	h := newSAMLHarness(t, SAMLConfig{}, k)
	p := defaultSAML(h.clk.Now())
	resp := signXML(t, k, responseXML(p, assertionXML(p)), "")
	if a := h.mustVerify(resp, ""); a.Subject != "alice@example.com" {
		t.Fatalf("assertion %+v", a)
	}
}

func TestSAMLWSFedAccepted(t *testing.T) {
	k := rsaKey(t, "saml-idp").withCert(t)
	h := newSAMLHarness(t, SAMLConfig{}, k)
	p := defaultSAML(h.clk.Now())
	a, err := h.v.VerifyWSFed(h.ctx, []byte(wsfedXML(signXML(t, k, assertionXML(p), ""))))
	if err != nil || a.Subject != "alice@example.com" {
		t.Fatalf("WS-Fed: %v %+v", err, a)
	}
	if _, err := h.v.VerifyResponse(h.ctx, []byte(wsfedXML(signXML(t, k, assertionXML(p), ""))), ""); !errors.Is(err, ErrSAMLMalformed) {
		t.Fatalf("a WS-Fed token as a Response: %v", err)
	}
	saml11 := `<t:RequestSecurityTokenResponse xmlns:t="http://schemas.xmlsoap.org/ws/2005/02/trust"><t:RequestedSecurityToken>` +
		`<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:1.0:assertion" AssertionID="_x" MajorVersion="1" MinorVersion="1"/></t:RequestedSecurityToken></t:RequestSecurityTokenResponse>`
	if _, err := h.v.VerifyWSFed(h.ctx, []byte(saml11)); !errors.Is(err, ErrSAMLUnsupported) {
		t.Fatalf("SAML 1.1: %v", err)
	}
}

// Each check refuses with its own error.
func TestSAMLChecks(t *testing.T) {
	k := rsaKey(t, "saml-idp").withCert(t)
	h := newSAMLHarness(t, SAMLConfig{}, k)
	now := h.clk.Now()
	var exp *ExpiredError
	var nyv *NotYetValidError
	var aud *AudienceError
	var iss *IssuerError
	for name, tc := range map[string]struct {
		edit func(*samlParams)
		irt  string
		want func(error) bool
	}{
		"expired":             {func(p *samlParams) { p.notOnOrAfter = now.Add(-2 * time.Minute) }, "", func(e error) bool { return errors.As(e, &exp) }},
		"not yet valid":       {func(p *samlParams) { p.notBefore = now.Add(10 * time.Minute) }, "", func(e error) bool { return errors.As(e, &nyv) }},
		"other audience":      {func(p *samlParams) { p.audience = "https://other.example/" }, "", func(e error) bool { return errors.As(e, &aud) }},
		"other issuer":        {func(p *samlParams) { p.issuer = "https://evil.example/" }, "", func(e error) bool { return errors.As(e, &iss) }},
		"other recipient":     {func(p *samlParams) { p.recipient = "https://evil.example/acs" }, "", func(e error) bool { return errors.Is(e, ErrSAMLRecipient) }},
		"answers another req": {func(p *samlParams) { p.inResponseTo = "_other" }, "_req1", func(e error) bool { return errors.Is(e, ErrSAMLInResponseTo) }},
		"unsolicited refused": {func(p *samlParams) {}, "_req1", func(e error) bool { return errors.Is(e, ErrSAMLInResponseTo) }},
		"status failure":      {func(p *samlParams) { p.status = "urn:oasis:names:tc:SAML:2.0:status:Requester" }, "", func(e error) bool { return errors.Is(e, ErrSAMLStatus) }},
	} {
		p := defaultSAML(now)
		p.assertID = "_a-" + strings.ReplaceAll(name, " ", "-")
		tc.edit(&p)
		_, err := h.v.VerifyResponse(h.ctx, []byte(h.signedResponse(k, p)), tc.irt)
		if err == nil || !tc.want(err) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestSAMLReplayRefused(t *testing.T) {
	k := rsaKey(t, "saml-idp").withCert(t)
	h := newSAMLHarness(t, SAMLConfig{}, k)
	resp := h.signedResponse(k, defaultSAML(h.clk.Now()))
	h.mustVerify(resp, "")
	if _, err := h.v.VerifyResponse(h.ctx, []byte(resp), ""); !errors.Is(err, ErrSAMLReplay) {
		t.Fatalf("replay: %v", err)
	}
}

func TestSAMLAlgorithmAllowList(t *testing.T) {
	k := rsaKey(t, "saml-idp").withCert(t)
	h := newSAMLHarness(t, SAMLConfig{}, k)
	p := defaultSAML(h.clk.Now())
	resp := responseXML(p, signXML(t, k, assertionXML(p), dsig.RSASHA1SignatureMethod))
	if _, err := h.v.VerifyResponse(h.ctx, []byte(resp), ""); !errors.Is(err, ErrSAMLAlgorithm) {
		t.Fatalf("RSA-SHA1: %v", err)
	}
}

// A response signed by a certificate published a moment ago is accepted
// on first sight (one refresh); one the metadata never lists is refused
// as an unknown key.
func TestSAMLKeyRolloverAndUnknownKey(t *testing.T) {
	k1, k2, rogue := rsaKey(t, "saml-idp").withCert(t), rsaKey(t, "saml-idp-2").withCert(t), rsaKey(t, "saml-rogue").withCert(t)
	h := newSAMLHarness(t, SAMLConfig{}, k1)
	p := defaultSAML(h.clk.Now())
	h.mustVerify(h.signedResponse(k1, p), "")
	signing := rsaKey(t, "saml-md-signer").withCert(t)
	h.m.set(metadataDoc(t, &signing, fedmeta.Config{}, k1, k2))
	h.clk.Advance(time.Second)
	p.assertID = "_assert2"
	if a := h.mustVerify(h.signedResponse(k2, p), ""); a.SigningKey != k2.x5t() {
		t.Fatalf("signed by %s", a.SigningKey)
	}
	p.assertID = "_assert3"
	_, err := h.v.VerifyResponse(h.ctx, []byte(h.signedResponse(rogue, p)), "")
	var uk *UnknownKeyError
	if !errors.As(err, &uk) {
		t.Fatalf("rogue key: %v", err)
	}
}

// The real federation metadata of Entra ID and AD FS provides the keys:
// a response claiming their issuer but signed by any other key is refused.
func TestSAMLRealMetadataRefusesForeignSignature(t *testing.T) {
	rogue := rsaKey(t, "saml-rogue").withCert(t)
	for _, name := range []string{"entra-tenant-8b966979.xml", "adfs2016-ec2amaz-co4bqav.xml"} {
		path := filepath.Join(fixtures.Dir(t), "real-world", "federation-metadata", name)
		body, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		md, err := fedmeta.Parse(body)
		if err != nil {
			t.Fatal(err)
		}
		c, err := NewCache(StaticFile(path))
		if err != nil {
			t.Fatal(err)
		}
		v, err := NewSAML(c, SAMLConfig{Issuer: md.EntityID, Audience: []string{samlSP}, Recipient: samlACS})
		if err != nil {
			t.Fatal(err)
		}
		p := defaultSAML(time.Now())
		p.issuer = md.EntityID
		_, err = v.VerifyResponse(t.Context(), []byte(responseXML(p, signXML(t, rogue, assertionXML(p), ""))), "")
		if !errors.Is(err, ErrUnknownKey) || c.KeySet() == nil || c.KeySet().Usable() == 0 {
			t.Errorf("%s: %v (keys loaded: %v)", name, err, c.KeySet() != nil)
		}
	}
}

func TestSAMLACSHandler(t *testing.T) {
	k := rsaKey(t, "saml-idp").withCert(t)
	h := newSAMLHarness(t, SAMLConfig{}, k)
	var got *Assertion
	acs := h.v.ACS(func(*http.Request) string { return "_req1" }, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = AssertionFromContext(r.Context())
	}))
	post := func(form url.Values) int {
		req := httptest.NewRequest(http.MethodPost, samlACS, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		acs.ServeHTTP(w, req)
		return w.Code
	}
	p := defaultSAML(h.clk.Now())
	p.inResponseTo = "_req1"
	resp := base64.StdEncoding.EncodeToString([]byte(h.signedResponse(k, p)))
	if code := post(url.Values{"SAMLResponse": {resp}}); code != 200 || got == nil || got.Subject != "alice@example.com" {
		t.Fatalf("ACS: %d %+v", code, got)
	}
	got = nil
	if code := post(url.Values{"SAMLResponse": {resp}}); code != http.StatusForbidden || got != nil {
		t.Fatalf("replayed at the ACS: %d", code)
	}
	if code := post(url.Values{"SAMLResponse": {"%%%"}}); code != http.StatusBadRequest {
		t.Fatalf("not base64: %d", code)
	}
	if code := post(url.Values{}); code != http.StatusBadRequest {
		t.Fatalf("empty form: %d", code)
	}
}
