package saml

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestWSFedResponse(t *testing.T) {
	s := testSigner(t, "rsa-idp")
	a := *testAssertion()
	a.ID, a.IssueInstant = "_a11", t0
	token, err := BuildAssertion11(a, s)
	if err != nil {
		t.Fatal(err)
	}
	// A declaration and a comment before the assertion are dropped; the
	// element itself is carried byte for byte.
	in := append([]byte("\xef\xbb\xbf<?xml version=\"1.0\"?>\n<!-- c -->\n"), token...)
	out, err := BuildWSFedResponse(in, TokenTypeSAML11, "urn:app&co", t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := `<t:RequestSecurityTokenResponseCollection xmlns:t="http://docs.oasis-open.org/ws-sx/ws-trust/200512">` +
		`<t:RequestSecurityTokenResponse><t:Lifetime>` +
		`<wsu:Created xmlns:wsu="` + NSUtility + `">2026-03-01T12:00:00Z</wsu:Created>` +
		`<wsu:Expires xmlns:wsu="` + NSUtility + `">2026-03-01T13:00:00Z</wsu:Expires></t:Lifetime>` +
		`<wsp:AppliesTo xmlns:wsp="http://schemas.xmlsoap.org/ws/2004/09/policy"><wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing">` +
		`<wsa:Address>urn:app&amp;co</wsa:Address></wsa:EndpointReference></wsp:AppliesTo>` +
		`<t:RequestedSecurityToken>` + string(token) + `</t:RequestedSecurityToken>` +
		`<t:TokenType>urn:oasis:names:tc:SAML:1.0:assertion</t:TokenType>` +
		`<t:RequestType>http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue</t:RequestType>` +
		`<t:KeyType>http://docs.oasis-open.org/ws-sx/ws-trust/200512/Bearer</t:KeyType>` +
		`</t:RequestSecurityTokenResponse></t:RequestSecurityTokenResponseCollection>`
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	if _, err := goxmldsigVerify(t, out, "AssertionID", "_a11", s.Cert); err != nil {
		t.Errorf("assertion signature inside the envelope: %v", err)
	}
	for _, c := range []struct {
		name, tokenType string
		assertion       []byte
		msg             string
	}{
		{"wrong version", TokenTypeSAML20, token, "want {urn:oasis:names:tc:SAML:2.0:assertion}Assertion"},
		{"unknown type", "urn:x", token, "token type"},
		{"not XML", TokenTypeSAML11, []byte("hello"), "not XML"},
		{"two roots", TokenTypeSAML11, append(append([]byte{}, token...), token...), "more than one"},
		{"trailing comment", TokenTypeSAML11, append(append([]byte{}, token...), "<!-- x -->"...), "after its end tag"},
	} {
		_, err := BuildWSFedResponse(c.assertion, c.tokenType, "urn:app", t0, t0.Add(time.Hour))
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: err = %v, want ErrInvalid containing %q", c.name, err, c.msg)
		}
	}
	if _, err := BuildWSFedResponse(token, TokenTypeSAML11, "urn:app", t0, t0); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty lifetime: %v", err)
	}
}

func TestBuildAssertion11Content(t *testing.T) {
	a := *testAssertion()
	a.IssueInstant = t0
	out, err := BuildAssertion11(a, testSigner(t, "p256-idp"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`MajorVersion="1" MinorVersion="1" AssertionID="_`, `Issuer="https://idp.example/"`,
		`<saml:AudienceRestrictionCondition><saml:Audience>https://sp.example/</saml:Audience>`,
		`<saml:Attribute AttributeName="emailaddress" AttributeNamespace="http://schemas.xmlsoap.org/ws/2005/05/identity/claims">`,
		`<saml:ConfirmationMethod>urn:oasis:names:tc:SAML:1.0:cm:bearer</saml:ConfirmationMethod>`,
		`<saml:AuthenticationStatement AuthenticationMethod="urn:oasis:names:tc:SAML:1.0:am:password" AuthenticationInstant="2026-03-01T12:00:00Z">`,
		`</ds:Signature></saml:Assertion>`,
	} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("missing %s in\n%s", want, out)
		}
	}
	a.Attributes = []Attribute{{Name: "email", Values: []string{"x"}}}
	if _, err := BuildAssertion11(a, testSigner(t, "p256-idp")); !errors.Is(err, ErrInvalid) {
		t.Errorf("attribute without namespace: %v", err)
	}
}
