package saml

import (
	"bytes"
	"compress/flate"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"testing"

	"github.com/beevik/etree"
)

// The test SP: builds AuthnRequests and signs them as an SP would.

func authnRequestXML(t testing.TB, id string) []byte {
	t.Helper()
	root := authnRequestElement(id)
	out, err := writeDoc(root)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func authnRequestElement(id string) *etree.Element {
	root := etree.NewElement("samlp:AuthnRequest")
	root.CreateAttr("xmlns:samlp", NSProtocol)
	root.CreateAttr("xmlns:saml", NSAssertion)
	root.CreateAttr("ID", id)
	root.CreateAttr("Version", "2.0")
	root.CreateAttr("IssueInstant", "2026-03-01T11:59:58Z")
	root.CreateAttr("Destination", "https://idp.example/saml2/sso")
	root.CreateAttr("AssertionConsumerServiceURL", "https://sp.example/acs")
	root.CreateAttr("ProtocolBinding", BindingHTTPPost)
	root.CreateAttr("ForceAuthn", "true")
	root.CreateElement("saml:Issuer").SetText("https://sp.example/")
	p := root.CreateElement("samlp:NameIDPolicy")
	p.CreateAttr("Format", NameIDPersistent)
	p.CreateAttr("AllowCreate", "true")
	return root
}

func deflateB64(t testing.TB, data []byte) string {
	t.Helper()
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	w.Write(data)
	w.Close()
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

// signQuery returns the raw query of a redirect request signed by s with
// sigAlg over the given already-encoded parameters.
func signQuery(t testing.TB, s Signer, sigAlg, encRequest, encRelay string) string {
	t.Helper()
	q := "SAMLRequest=" + encRequest
	if encRelay != "" {
		q += "&RelayState=" + encRelay
	}
	q += "&SigAlg=" + url.QueryEscape(sigAlg)
	digest := sha256.Sum256([]byte(q))
	var sig []byte
	var err error
	if k, ok := s.Key.(*rsa.PrivateKey); ok {
		sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, digest[:])
	} else {
		sig, err = rawECDSASigner{s.Key}.Sign(rand.Reader, digest[:], crypto.SHA256)
	}
	if err != nil {
		t.Fatal(err)
	}
	return q + "&Signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(sig))
}

// signedRedirect is a redirect query for request id signed by s with RelayState.
func signedRedirect(t testing.TB, s Signer, id string) string {
	return signQuery(t, s, sigAlgFor(s), url.QueryEscape(deflateB64(t, authnRequestXML(t, id))), url.QueryEscape("state/1?a=b"))
}

func sigAlgFor(s Signer) string {
	if _, ok := s.Key.(*rsa.PrivateKey); ok {
		return SigAlgRSASHA256
	}
	return SigAlgECDSASHA256
}

// signedPost returns the XML of a request signed by s (enveloped, after Issuer).
func signedPost(t testing.TB, s Signer, id string) []byte {
	t.Helper()
	root := authnRequestElement(id)
	ctx, err := s.context("ID")
	if err != nil {
		t.Fatal(err)
	}
	if err := signEnveloped(ctx, root, 1); err != nil {
		t.Fatal(err)
	}
	out, err := writeDoc(root)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
