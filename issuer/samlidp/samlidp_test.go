package samlidp

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/keyroll/keyroll/saml"
	"github.com/keyroll/keyroll/store"
)

func TestNameIDFormat(t *testing.T) {
	app := store.Application{}
	emailApp := store.Application{Fed: store.FedSettings{NameIDFormat: saml.NameIDEmail}}
	for _, c := range []struct {
		app       store.Application
		requested string
		want      string
		ok        bool
	}{
		{app, "", saml.NameIDPersistent, true},
		{app, saml.NameIDUnspecified, saml.NameIDUnspecified, true},
		{emailApp, "", saml.NameIDEmail, true},
		{emailApp, saml.NameIDUnspecified, saml.NameIDEmail, true},
		{emailApp, saml.NameIDTransient, saml.NameIDTransient, true},
		{app, "urn:oasis:names:tc:SAML:2.0:nameid-format:kerberos", "", false},
	} {
		got, ok := nameIDFormat(c.app, c.requested)
		if got != c.want || ok != c.ok {
			t.Errorf("nameIDFormat(%q, %q) = %q %v, want %q %v", c.app.Fed.NameIDFormat, c.requested, got, ok, c.want, c.ok)
		}
	}
}

func TestAnswerURL(t *testing.T) {
	app := store.Application{Name: "sp", RedirectURIs: []string{"https://sp.example/a", "https://sp.example/b"}}
	one := 1
	for _, c := range []struct {
		req  saml.AuthnRequest
		want string
	}{
		{saml.AuthnRequest{}, "https://sp.example/a"},
		{saml.AuthnRequest{AssertionConsumerServiceURL: "https://sp.example/b"}, "https://sp.example/b"},
		{saml.AuthnRequest{AssertionConsumerServiceIndex: &one}, "https://sp.example/b"},
		{saml.AuthnRequest{AssertionConsumerServiceURL: "https://evil.example/"}, ""},
		{saml.AuthnRequest{ProtocolBinding: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact"}, ""},
	} {
		got, msg := answerURL(app, &c.req)
		if got != c.want || (c.want == "") != (msg != "") {
			t.Errorf("answerURL(%+v) = %q %q, want %q", c.req, got, msg, c.want)
		}
	}
}

func TestWithoutSignature(t *testing.T) {
	got := withoutSignature("SAMLRequest=abc&RelayState=x&SigAlg=y&Signature=z")
	if got != "SAMLRequest=abc&RelayState=x" {
		t.Errorf("withoutSignature: %q", got)
	}
}

func TestPeekIssuer(t *testing.T) {
	ok := base64.StdEncoding.EncodeToString([]byte(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_1" Version="2.0"><saml:Issuer> https://sp.example </saml:Issuer></samlp:AuthnRequest>`))
	if iss, err := peekIssuer(ok); err != nil || iss != "https://sp.example" {
		t.Fatalf("peekIssuer = %q, %v", iss, err)
	}
	for name, b64 := range map[string]string{
		"not base64": "!!!",
		"no issuer":  base64.StdEncoding.EncodeToString([]byte(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>`)),
		"dtd":        base64.StdEncoding.EncodeToString([]byte(`<!DOCTYPE x [<!ENTITY a "b">]><x/>`)),
		"other root": base64.StdEncoding.EncodeToString([]byte(`<x/>`)),
		"too large":  strings.Repeat("A", saml.MaxEncodedSize+4),
	} {
		if _, err := peekIssuer(b64); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzPeekIssuer: any SAMLRequest value is read or refused, never a panic.
func FuzzPeekIssuer(f *testing.F) {
	f.Add(base64.StdEncoding.EncodeToString([]byte(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><saml:Issuer>x</saml:Issuer></samlp:AuthnRequest>`)))
	f.Add("PHgvPg==")
	f.Fuzz(func(t *testing.T, s string) {
		peekIssuer(s)
	})
}

// FuzzParsePostForm: any page is read as an answer form or refused.
func FuzzParsePostForm(f *testing.F) {
	f.Add([]byte(`<form method="post" action="https://sp.example/acs"><input type="hidden" name="SAMLResponse" value="PHgvPg=="></form>`))
	f.Add([]byte(`<html>nothing</html>`))
	f.Fuzz(func(t *testing.T, page []byte) {
		pf, err := ParsePostForm(page)
		if err == nil && !pf.Fields.Has("SAMLResponse") && !pf.Fields.Has("wresult") {
			t.Fatalf("accepted a form without an answer: %+v", pf)
		}
	})
}
