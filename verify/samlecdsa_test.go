package verify

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	dsig "github.com/russellhaering/goxmldsig"

	"github.com/keyroll/keyroll/saml"
)

// ecdsaMessages are keyroll's issuer output signed with k (ECDSA P-256,
// r||s): a Response signed twice, one signed only on its assertion, one
// signed only as a whole, and a WS-Fed RSTR.
func ecdsaMessages(t *testing.T, k testKey, now time.Time) map[string]struct {
	doc  []byte
	kind samlKind
} {
	t.Helper()
	s := saml.Signer{Key: k.signer, Cert: k.cert}
	a := &saml.Assertion{Issuer: samlIdP, Subject: "alice@example.com", NameIDFormat: saml.NameIDEmail, Audience: samlSP, Recipient: samlACS,
		NotBefore: now.Add(-time.Minute), NotOnOrAfter: now.Add(time.Hour), SessionIndex: "_s1", IssueInstant: now,
		Attributes: []saml.Attribute{{Name: "role", Values: []string{"admin"}}}}
	out := map[string]struct {
		doc  []byte
		kind samlKind
	}{}
	for name, flags := range map[string][2]bool{"both signed": {true, true}, "response signed": {true, false}, "assertion signed": {false, true}} {
		r, err := saml.BuildResponse(saml.Response{Destination: samlACS, IssueInstant: now, Issuer: samlIdP, Assertion: a}, s, flags[0], flags[1])
		if err != nil {
			t.Fatal(err)
		}
		out[name] = struct {
			doc  []byte
			kind samlKind
		}{r, kindResponse}
	}
	a20, err := saml.BuildAssertion20(*a, s)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := saml.BuildWSFedResponse(a20, saml.TokenTypeSAML20, samlSP, now, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	out["wsfed"] = struct {
		doc  []byte
		kind samlKind
	}{ws, kindWSFed}
	return out
}

// keyroll's own ECDSA SAML (r||s, as XML-DSig 1.1 writes it) verifies,
// and a tampered copy does not.
func TestSAMLECDSAIssuerOutputs(t *testing.T) {
	ec := ecKey(t, "saml-idp-ec").withCert(t)
	h := newSAMLHarness(t, SAMLConfig{ReplayCacheSize: -1}, rsaKey(t, "saml-idp").withCert(t), ec)
	for name, m := range ecdsaMessages(t, ec, h.clk.Now()) {
		a, err := h.v.verify(h.ctx, m.doc, m.kind, "")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if a.Subject != "alice@example.com" || a.SigningKey != ec.x5t() || a.Attributes["role"][0] != "admin" {
			t.Fatalf("%s: read %+v", name, a)
		}
		tampered := []byte(strings.Replace(string(m.doc), "alice@example.com", "admin@example.com", 1))
		if _, err := h.v.verify(h.ctx, tampered, m.kind, ""); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("%s tampered: %v", name, err)
		}
		if _, err := h.v.verify(h.ctx, flipSignatureValue(t, m.doc), m.kind, ""); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("%s with its last SignatureValue changed: %v", name, err)
		}
	}
}

// flipSignatureValue changes one bit of the last SignatureValue of doc.
func flipSignatureValue(t *testing.T, doc []byte) []byte {
	t.Helper()
	s := string(doc)
	i := strings.LastIndex(s, "SignatureValue>")
	j := strings.LastIndex(s[:i], "SignatureValue>") + len("SignatureValue>")
	v, err := base64.StdEncoding.DecodeString(s[j : i-len("</ds:")])
	if err != nil {
		t.Fatal(err)
	}
	v[len(v)/2] ^= 1
	return []byte(s[:j] + base64.StdEncoding.EncodeToString(v) + s[i-len("</ds:"):])
}

// An ECDSA signature in ASN.1 DER, as goxmldsig writes it, verifies too.
func TestSAMLECDSADER(t *testing.T) {
	ec := ecKey(t, "saml-idp-ec").withCert(t)
	h := newSAMLHarness(t, SAMLConfig{}, ec)
	p := defaultSAML(h.clk.Now())
	resp := responseXML(p, signXML(t, ec, assertionXML(p), dsig.ECDSASHA256SignatureMethod))
	if a := h.mustVerify(resp, ""); a.SigningKey != ec.x5t() {
		t.Fatalf("read %+v", a)
	}
	p.assertID = "_assert2"
	resp = responseXML(p, signXML(t, ec, assertionXML(p), dsig.ECDSASHA384SignatureMethod))
	if _, err := h.v.VerifyResponse(h.ctx, []byte(resp), ""); err != nil {
		t.Fatalf("ecdsa-sha384 on P-256: %v", err)
	}
	p.assertID = "_assert3"
	tampered := strings.Replace(responseXML(p, signXML(t, ec, assertionXML(p), dsig.ECDSASHA256SignatureMethod)), "alice@", "mallory@", 1)
	if _, err := h.v.VerifyResponse(h.ctx, []byte(tampered), ""); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("tampered: %v", err)
	}
}

// The signature method is bound to the key type: an RSA certificate
// never verifies an ECDSA method, nor an EC certificate an RSA one, each
// refused with ErrKeyMismatch before any cryptography.
func TestSAMLAlgorithmKeyMismatch(t *testing.T) {
	rsa, ec := rsaKey(t, "saml-idp").withCert(t), ecKey(t, "saml-idp-ec").withCert(t)
	h := newSAMLHarness(t, SAMLConfig{ReplayCacheSize: -1}, rsa, ec)
	p := defaultSAML(h.clk.Now())
	rsaSigned := h.signedResponse(rsa, p)
	ecSigned := string(ecdsaMessages(t, ec, h.clk.Now())["assertion signed"].doc)
	for name, doc := range map[string]string{
		"ECDSA method, RSA certificate": strings.Replace(rsaSigned, dsigRSASHA256, dsigECDSASHA256, 1),
		"RSA method, EC certificate":    strings.Replace(ecSigned, dsigECDSASHA256, dsigRSASHA256, 1),
		"ECDSA-SHA512, RSA certificate": strings.Replace(rsaSigned, dsigRSASHA256, dsigECDSASHA512, 1),
	} {
		if doc == rsaSigned || doc == ecSigned {
			t.Fatalf("%s: the edit did not apply", name)
		}
		if _, err := h.v.VerifyResponse(h.ctx, []byte(doc), ""); !errors.Is(err, ErrKeyMismatch) {
			t.Errorf("%s: %v", name, err)
		}
	}

	// Without KeyInfo, an RSA-only key set refuses an ECDSA method (after
	// the refresh an unknown key gets) as a mismatch, not a bad signature.
	hr := newSAMLHarness(t, SAMLConfig{}, rsa)
	noKeyInfo := strings.Replace(rsaSigned, dsigRSASHA256, dsigECDSASHA256, 1)
	noKeyInfo = noKeyInfo[:strings.Index(noKeyInfo, "<ds:KeyInfo>")] + noKeyInfo[strings.Index(noKeyInfo, "</ds:KeyInfo>")+len("</ds:KeyInfo>"):]
	if _, err := hr.v.VerifyResponse(hr.ctx, []byte(noKeyInfo), ""); !errors.Is(err, ErrKeyMismatch) {
		t.Errorf("no KeyInfo: %v", err)
	}
	// An RSA key set never verifies an ECDSA-signed response.
	if _, err := hr.v.VerifyResponse(hr.ctx, []byte(ecSigned), ""); errors.Is(err, ErrKeyMismatch) || err == nil {
		t.Errorf("EC-signed response, RSA key set: %v", err)
	}
}
