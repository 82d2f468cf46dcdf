package saml

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestBuildResponseRoundTrip(t *testing.T) {
	for _, key := range []string{"rsa-idp", "p256-idp"} {
		s := testSigner(t, key)
		other := testSigner(t, key+"-other")
		for _, c := range []struct {
			name              string
			signResp, signAss bool
		}{{"both", true, true}, {"response", true, false}, {"assertion", false, true}} {
			t.Run(key+"/"+c.name, func(t *testing.T) {
				r := testResponse()
				r.ID = "_resp1"
				r.Assertion.ID = "_assert1"
				out, err := BuildResponse(r, s, c.signResp, c.signAss)
				if err != nil {
					t.Fatal(err)
				}
				check := func(id string, want bool) {
					_, err := goxmldsigVerify(t, out, "ID", id, s.Cert)
					if (err == nil) != want {
						t.Errorf("%s: goxmldsig err = %v, want signed=%v\n%s", id, err, want, out)
					}
					if want {
						if _, err := goxmldsigVerify(t, out, "ID", id, other.Cert); err == nil {
							t.Errorf("%s verified under another key", id)
						}
					}
				}
				check("_resp1", c.signResp)
				check("_assert1", c.signAss)
				// The signature sits right after Issuer in each signed element.
				for _, local := range []string{"Response", "Assertion"} {
					ns := map[string]string{"Response": NSProtocol, "Assertion": NSAssertion}[local]
					e := findEl(t, out, ns, local)
					kids := e.ChildElements()
					if kids[0].Tag != "Issuer" {
						t.Errorf("%s: first child %s", local, kids[0].Tag)
					}
					if signed := kids[1].Tag == "Signature"; signed != map[string]bool{"Response": c.signResp, "Assertion": c.signAss}[local] {
						t.Errorf("%s: second child %s", local, kids[1].Tag)
					}
				}
				// A change anywhere under a signature breaks it.
				tampered := bytes.Replace(out, []byte("alice@example.com"), []byte("mallory@example.com"), 1)
				if _, err := goxmldsigVerify(t, tampered, "ID", "_resp1", s.Cert); c.signResp && err == nil {
					t.Error("tampered response verified")
				}
				if _, err := goxmldsigVerify(t, tampered, "ID", "_assert1", s.Cert); c.signAss && err == nil {
					t.Error("tampered assertion verified")
				}
			})
		}
	}
}

func TestBuildResponseContent(t *testing.T) {
	out, err := BuildResponse(testResponse(), testSigner(t, "p256-idp"), true, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`Destination="https://sp.example/acs"`, `InResponseTo="_req1"`, `IssueInstant="2026-03-01T12:00:00Z"`,
		`<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>`,
		`<saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">alice@example.com</saml:NameID>`,
		`<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData InResponseTo="_req1" NotOnOrAfter="2026-03-01T13:00:00Z" Recipient="https://sp.example/acs"/>`,
		`<saml:Conditions NotBefore="2026-03-01T11:55:00Z" NotOnOrAfter="2026-03-01T13:00:00Z"><saml:AudienceRestriction><saml:Audience>https://sp.example/</saml:Audience>`,
		`<saml:AuthnStatement AuthnInstant="2026-03-01T12:00:00Z" SessionIndex="_sess1"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef>`,
		`NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri" FriendlyName="email"><saml:AttributeValue>alice@example.com</saml:AttributeValue>`,
		`<saml:AttributeValue>a&lt;b&amp;c</saml:AttributeValue>`,
		`<ds:X509Certificate>`, `Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"`,
		`Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"`,
	} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("missing %s", want)
		}
	}
	r := testResponse()
	r.Assertion.Attributes = nil
	out, err = BuildResponse(r, testSigner(t, "p256-idp"), false, true)
	if err != nil || bytes.Contains(out, []byte("AttributeStatement")) {
		t.Errorf("no attributes: err %v, AttributeStatement written", err)
	}
}

func TestBuildErrorResponse(t *testing.T) {
	s := testSigner(t, "rsa-idp")
	r := testResponse()
	r.ID, r.Assertion = "_err1", nil
	r.Status, r.SubStatus, r.StatusMessage = StatusResponder, StatusAuthnFailed, "wrong password"
	out, err := BuildResponse(r, s, false, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := goxmldsigVerify(t, out, "ID", "_err1", s.Cert); err != nil {
		t.Errorf("error response not signed: %v", err)
	}
	if bytes.Contains(out, []byte("Assertion")) || !bytes.Contains(out, []byte(`<samlp:StatusCode Value="`+StatusResponder+`"><samlp:StatusCode Value="`+StatusAuthnFailed+`"/></samlp:StatusCode><samlp:StatusMessage>wrong password</samlp:StatusMessage>`)) {
		t.Errorf("error response:\n%s", out)
	}
}

func TestBuildRefuses(t *testing.T) {
	s := testSigner(t, "p256-idp")
	for _, c := range []struct {
		name string
		edit func(*Response, *bool)
		want error
		msg  string
	}{
		{"no issuer", func(r *Response, _ *bool) { r.Issuer = "" }, ErrInvalid, "no Issuer"},
		{"no issue instant", func(r *Response, _ *bool) { r.IssueInstant = zeroTime }, ErrInvalid, "IssueInstant"},
		{"no assertion", func(r *Response, _ *bool) { r.Assertion = nil }, ErrInvalid, "needs an Assertion"},
		{"error with assertion", func(r *Response, _ *bool) { r.Status = StatusRequester }, ErrInvalid, "carries no Assertion"},
		{"second-level status", func(r *Response, _ *bool) { r.Status, r.Assertion = StatusAuthnFailed, nil }, ErrInvalid, "not a top-level"},
		{"unsigned", func(_ *Response, unsigned *bool) { *unsigned = true }, ErrInvalid, "sign the response"},
		{"no subject", func(r *Response, _ *bool) { r.Assertion.Subject = "" }, ErrInvalid, "no Subject"},
		{"no audience", func(r *Response, _ *bool) { r.Assertion.Audience = "" }, ErrInvalid, "no Audience"},
		{"no expiry", func(r *Response, _ *bool) { r.Assertion.NotOnOrAfter = zeroTime }, ErrInvalid, "NotOnOrAfter"},
		{"inverted window", func(r *Response, _ *bool) { r.Assertion.NotBefore = r.Assertion.NotOnOrAfter }, ErrInvalid, "not before"},
		{"control char", func(r *Response, _ *bool) { r.Assertion.Subject = "a\x00b" }, ErrInvalid, "U+0000"},
		{"bad ID", func(r *Response, _ *bool) { r.ID = "1 2" }, ErrInvalid, "NCName"},
		{"same IDs", func(r *Response, _ *bool) { r.ID, r.Assertion.ID = "_x", "_x" }, ErrInvalid, "same ID"},
	} {
		r := testResponse()
		r.Assertion = testAssertion()
		unsigned := false
		c.edit(&r, &unsigned)
		_, err := BuildResponse(r, s, !unsigned, !unsigned)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: err = %v, want %v containing %q", c.name, err, c.want, c.msg)
		}
	}
}

func TestSignerRefuses(t *testing.T) {
	good := testSigner(t, "p256-idp")
	for name, s := range map[string]Signer{
		"nil key":  {Cert: good.Cert},
		"mismatch": {Key: good.Key, Cert: testSigner(t, "p256-other").Cert},
		"RSA 1024": testSigner(t, "rsa1024"),
		"P-384":    testSigner(t, "p384"),
	} {
		if _, err := BuildResponse(testResponse(), s, true, true); !errors.Is(err, ErrUnsupportedKey) {
			t.Errorf("%s: err = %v, want ErrUnsupportedKey", name, err)
		}
	}
}
