package saml

import (
	"bytes"
	"crypto/x509"
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestRedirectSignedAccepted(t *testing.T) {
	for _, key := range []string{"rsa-sp", "p256-sp"} {
		s := testSigner(t, key)
		q := signedRedirect(t, s, "_req1")
		certs := []*x509.Certificate{testSigner(t, "p256-other").Cert, s.Cert}
		req, relay, err := ParseRedirectRequest(q, certs, true)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if relay != "state/1?a=b" || !req.Signed || req.ID != "_req1" || req.Issuer != "https://sp.example/" ||
			req.Destination != "https://idp.example/saml2/sso" || req.AssertionConsumerServiceURL != "https://sp.example/acs" ||
			req.ProtocolBinding != BindingHTTPPost || req.NameIDFormat != NameIDPersistent || !req.ForceAuthn || req.IsPassive ||
			req.AssertionConsumerServiceIndex != nil || !req.IssueInstant.Equal(t0.Add(-2e9)) {
			t.Errorf("%s: got %+v relay %q", key, req, relay)
		}
	}
}

// The signature covers the octets as sent: an encoding Go would not produce
// (lower-case hex, a different parameter order) still verifies.
func TestRedirectSignedOverRawOctets(t *testing.T) {
	s := testSigner(t, "rsa-sp")
	enc := strings.ReplaceAll(url.QueryEscape(deflateB64(t, authnRequestXML(t, "_req2"))), "%2B", "%2b")
	q := signQuery(t, s, SigAlgRSASHA256, enc, "")
	parts := strings.Split(q, "&")
	q = "foo=bar&" + parts[2] + "&" + parts[1] + "&" + parts[0] // Signature, SigAlg, SAMLRequest
	req, relay, err := ParseRedirectRequest(q, []*x509.Certificate{s.Cert}, true)
	if err != nil || relay != "" || req.ID != "_req2" {
		t.Fatalf("err %v relay %q req %+v", err, relay, req)
	}
}

func TestRedirectUnsigned(t *testing.T) {
	q := "SAMLRequest=" + url.QueryEscape(deflateB64(t, authnRequestXML(t, "_req3"))) + "&RelayState=x"
	if _, _, err := ParseRedirectRequest(q, nil, true); !errors.Is(err, ErrUnsigned) {
		t.Errorf("requireSigned: err = %v, want ErrUnsigned", err)
	}
	req, relay, err := ParseRedirectRequest(q, nil, false)
	if err != nil || req.Signed || relay != "x" {
		t.Errorf("unsigned allowed: err %v, %+v", err, req)
	}
}

func TestRedirectRefused(t *testing.T) {
	s := testSigner(t, "rsa-sp")
	certs := []*x509.Certificate{s.Cert}
	good := signedRedirect(t, s, "_req4")
	enc := url.QueryEscape(deflateB64(t, authnRequestXML(t, "_req4")))
	huge := url.QueryEscape(deflateB64(t, bytes.Repeat([]byte(" "), MaxRequestSize+1)))
	dtd := url.QueryEscape(deflateB64(t, []byte(`<!DOCTYPE x [<!ENTITY e "x">]><x/>`)))
	for _, c := range []struct {
		name, query string
		certs       []*x509.Certificate
		want        error
		msg         string
	}{
		{"tampered RelayState", strings.Replace(good, "RelayState=state", "RelayState=evil", 1), certs, ErrBadSignature, "verifies under none"},
		{"tampered request", strings.Replace(good, enc[:20], enc[:19]+"A", 1), certs, ErrBadSignature, "verifies under none"},
		{"wrong cert", good, []*x509.Certificate{testSigner(t, "rsa-other").Cert}, ErrBadSignature, "verifies under none of the 1"},
		{"no cert of the key type", good, []*x509.Certificate{testSigner(t, "p256-other").Cert}, ErrBadSignature, "has an RSA key"},
		{"no certs", good, nil, ErrBadSignature, "no certificates"},
		{"rsa-sha1", signQuery(t, s, "http://www.w3.org/2000/09/xmldsig#rsa-sha1", enc, ""), certs, ErrUnsupportedAlgorithm, "SHA-1"},
		{"hmac", signQuery(t, s, "http://www.w3.org/2000/09/xmldsig#hmac-sha1", enc, ""), certs, ErrUnsupportedAlgorithm, "hmac-sha1"},
		{"oversized inflate", signQuery(t, s, SigAlgRSASHA256, huge, ""), certs, ErrTooLarge, "inflates to more than"},
		{"bad base64", "SAMLRequest=%%%21%21&RelayState=x", certs, ErrMalformed, ""},
		{"bad base64 request", "SAMLRequest=%21%21%21", nil, ErrMalformed, "not base64"},
		{"not deflate", "SAMLRequest=" + url.QueryEscape(b64([]byte("<x/>"))), nil, ErrMalformed, "DEFLATE"},
		{"bad base64 signature", strings.Split(good, "&Signature=")[0] + "&Signature=%21%21", certs, ErrMalformed, "Signature is not base64"},
		{"SigAlg without Signature", strings.Split(good, "&Signature=")[0], certs, ErrMalformed, "together"},
		{"no SAMLRequest", "RelayState=x", certs, ErrMalformed, "no SAMLRequest"},
		{"duplicate SAMLRequest", good + "&SAMLRequest=" + enc, certs, ErrMalformed, "more than once"},
		{"DTD", "SAMLRequest=" + dtd, nil, ErrDTD, "<!DOCTYPE"},
		{"oversized query", "SAMLRequest=" + strings.Repeat("A", MaxEncodedSize), certs, ErrTooLarge, "limit"},
		{"not an AuthnRequest", "SAMLRequest=" + url.QueryEscape(deflateB64(t, []byte(`<x/>`))), nil, ErrMalformed, "want {urn:oasis:names:tc:SAML:2.0:protocol}AuthnRequest"},
	} {
		_, _, err := ParseRedirectRequest(c.query, c.certs, true)
		if c.certs == nil && c.want != ErrBadSignature {
			_, _, err = ParseRedirectRequest(c.query, nil, false)
		}
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: err = %v, want %v containing %q", c.name, err, c.want, c.msg)
		}
	}
}

// The DTD and size errors also match xmlsafe's sentinels and are not
// mistaken for each other.
func TestRedirectErrorsDistinct(t *testing.T) {
	dtd := "SAMLRequest=" + url.QueryEscape(deflateB64(t, []byte(`<!DOCTYPE x><x/>`)))
	_, _, err := ParseRedirectRequest(dtd, nil, false)
	if errors.Is(err, ErrMalformed) || errors.Is(err, ErrTooLarge) {
		t.Errorf("DTD error also matches another sentinel: %v", err)
	}
}
