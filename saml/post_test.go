package saml

import (
	"bytes"
	"crypto/x509"
	"errors"
	"strings"
	"testing"

	dsig "github.com/russellhaering/goxmldsig"

	"github.com/keyroll/keyroll/internal/xmlsafe"
)

func TestPostSignedAccepted(t *testing.T) {
	for _, key := range []string{"rsa-sp", "p256-sp"} {
		s := testSigner(t, key)
		signed := signedPost(t, s, "_p1")
		// Base64 wrapped at 76 columns with CRLF, as some SPs post it.
		enc := b64(signed)
		var wrapped strings.Builder
		for i := 0; i < len(enc); i += 76 {
			wrapped.WriteString(enc[i:min(i+76, len(enc))] + "\r\n")
		}
		req, err := ParsePostRequest(wrapped.String(), []*x509.Certificate{testSigner(t, "rsa-other").Cert, s.Cert}, true)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if !req.Signed || req.ID != "_p1" || req.Issuer != "https://sp.example/" || req.AssertionConsumerServiceURL != "https://sp.example/acs" {
			t.Errorf("%s: %+v", key, req)
		}
	}
}

func TestPostUnsigned(t *testing.T) {
	data := b64(authnRequestXML(t, "_p2"))
	if _, err := ParsePostRequest(data, nil, true); !errors.Is(err, ErrUnsigned) {
		t.Errorf("requireSigned: err = %v, want ErrUnsigned", err)
	}
	req, err := ParsePostRequest(data, nil, false)
	if err != nil || req.Signed || req.ID != "_p2" {
		t.Errorf("unsigned allowed: %v %+v", err, req)
	}
}

// Signature wrapping and other ways of making the reader look at something
// other than what was signed.
func TestPostWrappingRefused(t *testing.T) {
	s := testSigner(t, "rsa-sp")
	certs := []*x509.Certificate{s.Cert}
	signed := string(signedPost(t, s, "_p3"))
	inner := strings.TrimPrefix(signed, `<samlp:AuthnRequest xmlns:samlp="`+NSProtocol+`" xmlns:saml="`+NSAssertion+`" `)
	if inner == signed {
		t.Fatalf("unexpected serialisation:\n%s", signed)
	}
	evilOpen := `<samlp:AuthnRequest xmlns:samlp="` + NSProtocol + `" xmlns:saml="` + NSAssertion +
		`" ID="_evil" Version="2.0" IssueInstant="2026-03-01T12:00:00Z" AssertionConsumerServiceURL="https://evil.example/acs">` +
		`<saml:Issuer>https://sp.example/</saml:Issuer>`
	sigStart, sigEnd := strings.Index(signed, "<ds:Signature"), strings.Index(signed, "</ds:Signature>")+len("</ds:Signature>")
	sigXML := signed[sigStart:sigEnd]
	for _, c := range []struct {
		name, doc string
		want      error
		msg       string
	}{
		{"changed ACS", strings.Replace(signed, "https://sp.example/acs", "https://evil.example/acs", 1), ErrBadSignature, "verifies under none"},
		{"signed request inside an evil one", evilOpen + `<samlp:Extensions>` + signed + `</samlp:Extensions></samlp:AuthnRequest>`, ErrBadSignature, "not a child of the root"},
		{"evil root takes the ID, original moved below", strings.Replace(evilOpen, `ID="_evil"`, `ID="_p3"`, 1) + sigXML +
			`<samlp:Extensions>` + strings.Replace(signed, sigXML, "", 1) + `</samlp:Extensions></samlp:AuthnRequest>`, ErrBadSignature, `ID "_p3" appears on 2 elements`},
		{"signature moved to an evil root", evilOpen + sigXML + `</samlp:AuthnRequest>`, ErrBadSignature, "does not point at the root"},
		{"two signatures", strings.Replace(signed, "</samlp:AuthnRequest>", sigXML+"</samlp:AuthnRequest>", 1), ErrBadSignature, "2 ds:Signature"},
		{"signed by an attacker", string(signedPost(t, testSigner(t, "rsa-other"), "_p3")), ErrBadSignature, "verifies under none"},
	} {
		_, err := ParsePostRequest(b64([]byte(c.doc)), certs, true)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: err = %v, want %v containing %q", c.name, err, c.want, c.msg)
		}
	}
}

func TestPostAlgorithmsRefused(t *testing.T) {
	s := testSigner(t, "rsa-sp")
	root := authnRequestElement("_p4")
	ctx, err := s.context("ID")
	if err != nil {
		t.Fatal(err)
	}
	if err := ctx.SetSignatureMethod(dsig.RSASHA1SignatureMethod); err != nil {
		t.Fatal(err)
	}
	if err := signEnveloped(ctx, root, 1); err != nil {
		t.Fatal(err)
	}
	sha1, _ := writeDoc(root)
	inclusive := bytes.ReplaceAll(signedPost(t, s, "_p5"), []byte("http://www.w3.org/2001/10/xml-exc-c14n#"), []byte("http://www.w3.org/2006/12/xml-c14n11"))
	for name, doc := range map[string][]byte{"rsa-sha1": sha1, "inclusive c14n": inclusive} {
		if _, err := ParsePostRequest(b64(doc), []*x509.Certificate{s.Cert}, true); !errors.Is(err, ErrUnsupportedAlgorithm) {
			t.Errorf("%s: err = %v, want ErrUnsupportedAlgorithm", name, err)
		}
	}
}

func TestPostHostile(t *testing.T) {
	for _, c := range []struct {
		name, doc string
		want      error
	}{
		{"DTD", `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><samlp:AuthnRequest xmlns:samlp="` + NSProtocol + `">&e;</samlp:AuthnRequest>`, ErrDTD},
		{"deep", strings.Repeat("<a>", 40) + strings.Repeat("</a>", 40), ErrMalformed},
		{"flood", "<a>" + strings.Repeat("<b/>", 3000) + "</a>", ErrTooLarge},
		{"oversize", strings.Repeat(" ", MaxEncodedSize), ErrTooLarge},
		{"no Version", `<samlp:AuthnRequest xmlns:samlp="` + NSProtocol + `" ID="_a" IssueInstant="2026-03-01T12:00:00Z"/>`, ErrMalformed},
		{"bad IssueInstant", `<samlp:AuthnRequest xmlns:samlp="` + NSProtocol + `" ID="_a" Version="2.0" IssueInstant="yesterday"/>`, ErrMalformed},
		{"index and URL", `<samlp:AuthnRequest xmlns:samlp="` + NSProtocol + `" ID="_a" Version="2.0" IssueInstant="2026-03-01T12:00:00Z" AssertionConsumerServiceIndex="1" AssertionConsumerServiceURL="https://x/"/>`, ErrMalformed},
	} {
		_, err := ParsePostRequest(b64([]byte(c.doc)), nil, false)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := ParsePostRequest("not base64!", nil, false); !errors.Is(err, ErrMalformed) {
		t.Errorf("bad base64: %v", err)
	}
	var xe *xmlsafe.Error
	_, err := ParsePostRequest(b64([]byte(`<!DOCTYPE x><x/>`)), nil, false)
	if !errors.Is(err, xmlsafe.ErrDTD) || !errors.As(err, &xe) {
		t.Errorf("DTD error does not match xmlsafe.ErrDTD: %v", err)
	}
	req, err := ParsePostRequest(b64([]byte(`<samlp:AuthnRequest xmlns:samlp="`+NSProtocol+`" ID="_a" Version="2.0" IssueInstant="2026-03-01T12:00:00+01:00" AssertionConsumerServiceIndex="3" IsPassive="1"/>`)), nil, false)
	if err != nil || req.AssertionConsumerServiceIndex == nil || *req.AssertionConsumerServiceIndex != 3 || !req.IsPassive {
		t.Errorf("index request: %v %+v", err, req)
	}
}
