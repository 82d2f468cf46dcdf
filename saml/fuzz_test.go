package saml

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzSP is the committed test-only SP key of testdata/fuzz-sp.pem.
func fuzzSP(t testing.TB) Signer {
	t.Helper()
	data, err := os.ReadFile("testdata/fuzz-sp.pem")
	if err != nil {
		t.Fatal(err)
	}
	var s Signer
	for {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			break
		}
		switch b.Type {
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			s.Key = k.(crypto.Signer)
		case "CERTIFICATE":
			if s.Cert, err = x509.ParseCertificate(b.Bytes); err != nil {
				t.Fatal(err)
			}
		}
	}
	return s
}

var sentinels = []error{ErrMalformed, ErrTooLarge, ErrDTD, ErrUnsigned, ErrBadSignature, ErrUnsupportedAlgorithm}

func checkSentinel(t *testing.T, err error) {
	t.Helper()
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("error matches no sentinel: %v", err)
}

// The fuzz targets check that every input either parses or fails with one of
// the sentinels, and that requireSigned never lets an unsigned request by.
// Run them with a short minimisation time: base64 inputs minimise slowly and
// the default (60 s per new input) starves the fuzzer:
//
//	go test -run '^$' -fuzz '^FuzzParsePostRequest$' -fuzztime 60s -fuzzminimizetime 2s ./saml
func FuzzParseRedirectRequest(f *testing.F) {
	s := fuzzSP(f)
	certs := []*x509.Certificate{s.Cert}
	f.Add(signedRedirect(f, s, "_f1"))
	f.Fuzz(func(t *testing.T, q string) {
		for _, required := range []bool{true, false} {
			req, _, err := ParseRedirectRequest(q, certs, required)
			if err != nil {
				checkSentinel(t, err)
				continue
			}
			if req == nil || (required && !req.Signed) {
				t.Fatalf("accepted %+v with requireSigned=%v", req, required)
			}
		}
	})
}

func FuzzParsePostRequest(f *testing.F) {
	s := fuzzSP(f)
	certs := []*x509.Certificate{s.Cert}
	f.Add(b64(signedPost(f, s, "_f2")))
	f.Fuzz(func(t *testing.T, data string) {
		req, err := ParsePostRequest(data, certs, false)
		if err != nil {
			checkSentinel(t, err)
			return
		}
		if req == nil || !isNCName(req.ID) {
			t.Fatalf("accepted %+v", req)
		}
	})
}

func FuzzParseSPMetadata(f *testing.F) {
	f.Add([]byte(spMetadataXML(f, `<md:SPSSODescriptor protocolSupportEnumeration="`+NSProtocol+`">`+
		`<md:AssertionConsumerService Binding="`+BindingHTTPPost+`" Location="https://sp.example/acs" index="0"/></md:SPSSODescriptor>`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		md, err := ParseSPMetadata(data)
		if err != nil {
			checkSentinel(t, err)
			return
		}
		if md.EntityID == "" || len(md.ACS) == 0 {
			t.Fatalf("accepted %+v", md)
		}
	})
}

// TestWriteFuzzSeeds writes the committed seed corpora (see testdata/README.md).
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("SAML_WRITE_FUZZ_SEEDS") != "1" {
		t.Skip("set SAML_WRITE_FUZZ_SEEDS=1 to rewrite testdata/fuzz")
	}
	s := fuzzSP(t)
	enc := url.QueryEscape(deflateB64(t, authnRequestXML(t, "_s1")))
	post := signedPost(t, s, "_s2")
	sigXML := string(post[strings.Index(string(post), "<ds:Signature"):strings.Index(string(post), "</ds:Signature>")])
	seeds := map[string][]any{
		"FuzzParseRedirectRequest": {
			signedRedirect(t, s, "_s0"),
			"SAMLRequest=" + enc + "&RelayState=abc",
			signQuery(t, s, SigAlgECDSASHA256, enc, ""),
			signQuery(t, s, "http://www.w3.org/2000/09/xmldsig#rsa-sha1", enc, "x"),
			"SAMLRequest=" + url.QueryEscape(deflateB64(t, []byte(`<!DOCTYPE x><x/>`))),
		},
		"FuzzParsePostRequest": {
			b64(post),
			b64(authnRequestXML(t, "_s3")),
			b64([]byte(`<samlp:AuthnRequest xmlns:samlp="` + NSProtocol + `" ID="_e" Version="2.0" IssueInstant="2026-03-01T12:00:00Z"><samlp:Extensions>` + string(post) + `</samlp:Extensions></samlp:AuthnRequest>`)),
			b64([]byte(strings.Replace(string(post), "</samlp:AuthnRequest>", sigXML+"</ds:Signature></samlp:AuthnRequest>", 1))),
		},
		"FuzzParseSPMetadata": {
			[]byte(spMetadataXML(t, spDescriptor(t))),
			[]byte(`<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>`),
			[]byte(spMetadataXML(t, strings.Repeat("<x>", 70)+strings.Repeat("</x>", 70))),
		},
	}
	for name, list := range seeds {
		dir := filepath.Join("testdata", "fuzz", name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, v := range list {
			var line string
			switch v := v.(type) {
			case string:
				line = fmt.Sprintf("string(%q)", v)
			case []byte:
				line = fmt.Sprintf("[]byte(%q)", v)
			}
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%d", i)), []byte("go test fuzz v1\n"+line+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
