package verify

import (
	"errors"
	"strings"
	"testing"
)

// wrapVariant is one signature-wrapping or tampering attack on a signed
// response, and the error it must be refused with.
type wrapVariant struct {
	name string
	doc  string
	want error
}

// wrappingCorpus builds the attacks from a response whose assertion k
// signed, an unsigned evil assertion, and a Response signed as a whole.
func wrappingCorpus(t testing.TB, h *samlHarness, k, rogue testKey) []wrapVariant {
	p := defaultSAML(h.clk.Now())
	signed := signXML(t, k, assertionXML(p), "")
	evilP := p
	evilP.nameID, evilP.assertID = "admin@example.com", "_evil"
	evil := assertionXML(evilP)
	evilSameID := assertionXML(func() samlParams { q := evilP; q.assertID = p.assertID; return q }())
	sigStart, sigEnd := strings.Index(signed, "<ds:Signature"), strings.Index(signed, "</ds:Signature>")+len("</ds:Signature>")
	if sigStart < 0 || sigEnd < sigStart {
		t.Fatalf("no signature in %s", signed)
	}
	signature := signed[sigStart:sigEnd]
	unsigned := signed[:sigStart] + signed[sigEnd:]
	withSig := func(assertion, sig string) string { // put sig just before </saml:Assertion>
		i := strings.LastIndex(assertion, "</saml:Assertion>")
		return assertion[:i] + sig + assertion[i:]
	}
	signedResp := signXML(t, k, responseXML(p, assertionXML(p)), "")
	respClose := strings.LastIndex(signedResp, "</samlp:Response>")
	return []wrapVariant{
		{"second assertion after the signed one", responseXML(p, signed+evil), ErrSAMLAssertionCount},
		{"evil assertion before the signed one", responseXML(p, evil+signed), ErrSAMLAssertionCount},
		{"evil assertion reusing the signed ID", responseXML(p, evilSameID+signed), ErrSAMLDuplicateID},
		{"signed assertion hidden in Extensions", responseXML(p, `<samlp:Extensions>`+signed+`</samlp:Extensions>`+evil), ErrSAMLAssertionCount},
		{"signed assertion alone, but wrapped", responseXML(p, `<samlp:Extensions>`+signed+`</samlp:Extensions>`), ErrSAMLStructure},
		{"evil assertion inside the signed one's Advice", responseXML(p, strings.Replace(signed, "<saml:AuthnStatement", "<saml:Advice>"+evil+"</saml:Advice><saml:AuthnStatement", 1)), ErrSAMLAssertionCount},
		{"signature moved onto the evil assertion", responseXML(p, withSig(evil, signature)), ErrSAMLReference},
		{"signature moved onto an evil assertion with its ID", responseXML(p, withSig(evilSameID, signature)), ErrBadSignature},
		{"NameID changed after signing", responseXML(p, strings.Replace(signed, "alice@example.com", "admin@example.com", 1)), ErrBadSignature},
		{"audience changed after signing", responseXML(p, strings.Replace(signed, samlSP, "https://other.example/", 1)), ErrBadSignature},
		{"signature stripped", responseXML(p, unsigned), ErrSAMLUnsigned},
		{"comment splits the NameID", responseXML(p, strings.Replace(signed, "alice@example.com", "alice@example.com<!---->.evil.com", 1)), ErrSAMLMalformed},
		{"DOCTYPE with an entity", `<!DOCTYPE r [<!ENTITY x "admin">]>` + responseXML(p, signed), ErrSAMLMalformed},
		{"processing instruction inside", responseXML(p, strings.Replace(signed, "<saml:Subject>", "<saml:Subject><?evil x?>", 1)), ErrSAMLMalformed},
		{"empty Reference URI", responseXML(p, strings.Replace(signed, `URI="#_assert1"`, `URI=""`, 1)), ErrSAMLReference},
		{"Reference to another element", responseXML(p, strings.Replace(signed, `URI="#_assert1"`, `URI="#_resp1"`, 1)), ErrSAMLReference},
		{"two References", responseXML(p, strings.Replace(signed, "</ds:Reference>", "</ds:Reference><ds:Reference URI=\"#_resp1\"/>", 1)), ErrSAMLReference},
		{"XPath transform", responseXML(p, strings.Replace(signed, "http://www.w3.org/2001/10/xml-exc-c14n#\"/></ds:Transforms>", "http://www.w3.org/TR/1999/REC-xpath-19991116\"/></ds:Transforms>", 1)), ErrSAMLAlgorithm},
		{"SHA-1 digest", responseXML(p, strings.Replace(signed, "http://www.w3.org/2001/04/xmlenc#sha256", "http://www.w3.org/2000/09/xmldsig#sha1", 1)), ErrSAMLAlgorithm},
		{"signed by a key the metadata does not list", responseXML(p, signXML(t, rogue, assertionXML(p), "")), ErrUnknownKey},
		{"assertion added to a signed Response", signedResp[:respClose] + evil + signedResp[respClose:], ErrSAMLAssertionCount},
		{"assertion of a signed Response replaced", strings.Replace(signedResp, "alice@example.com", "admin@example.com", 1), ErrBadSignature},
		{"assertion outside RequestedSecurityToken", strings.Replace(wsfedXML(signed), "<t:RequestedSecurityToken>", "<t:RequestedSecurityToken/><t:Lifetime>", 1), ErrSAMLMalformed},
		{"encrypted assertion", responseXML(p, `<saml:EncryptedAssertion/>`), ErrSAMLUnsupported},
		{"no assertion", responseXML(p, ""), ErrSAMLAssertionCount},
	}
}

func TestSAMLWrappingCorpusRefused(t *testing.T) {
	k, rogue := rsaKey(t, "saml-idp").withCert(t), rsaKey(t, "saml-rogue").withCert(t)
	h := newSAMLHarness(t, SAMLConfig{}, k)
	for _, w := range wrappingCorpus(t, h, k, rogue) {
		a, err := h.v.VerifyResponse(h.ctx, []byte(w.doc), "")
		if !errors.Is(err, w.want) {
			t.Errorf("%s: err = %v, want %v", w.name, err, w.want)
		}
		if a != nil {
			t.Errorf("%s: accepted %+v", w.name, a)
		}
	}
	// The untouched documents the corpus is made from are accepted.
	p := defaultSAML(h.clk.Now())
	h.mustVerify(responseXML(p, signXML(t, k, assertionXML(p), "")), "")
}

func FuzzSAMLResponse(f *testing.F) {
	k, rogue := rsaKey(f, "saml-idp").withCert(f), rsaKey(f, "saml-rogue").withCert(f)
	h := newSAMLHarness(f, SAMLConfig{ReplayCacheSize: -1}, k)
	p := defaultSAML(h.clk.Now())
	f.Add([]byte(h.signedResponse(k, p)))
	f.Add([]byte(wsfedXML(signXML(f, k, assertionXML(p), ""))))
	for _, w := range wrappingCorpus(f, h, k, rogue) {
		f.Add([]byte(w.doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, verify := range []func() (*Assertion, error){
			func() (*Assertion, error) { return h.v.VerifyResponse(h.ctx, data, "") },
			func() (*Assertion, error) { return h.v.VerifyWSFed(h.ctx, data) },
		} {
			a, err := verify()
			if err == nil && (a.Subject != "alice@example.com" || a.SigningKey != k.x5t()) {
				t.Fatalf("accepted an assertion the IdP did not sign: %+v", a)
			}
		}
	})
}
