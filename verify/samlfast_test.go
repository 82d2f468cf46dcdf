package verify

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"

	"github.com/keyroll/keyroll/saml"
)

// goxmldsigC14N is goxmldsig's exclusive canonical form of the element
// of doc carrying ID id, as its validator computes it: detached with the
// namespaces of its ancestors, the enveloped ds:Signature child removed
// when enveloped.
func goxmldsigC14N(doc []byte, id string, enveloped bool, prefixList string) ([]byte, error) {
	d := etree.NewDocument()
	if err := d.ReadFromBytes(doc); err != nil {
		return nil, err
	}
	el := d.FindElement("//[@ID='" + id + "']")
	if el == nil {
		return nil, errors.New("no such ID")
	}
	return goxmldsigC14NElement(el, enveloped, prefixList)
}

func goxmldsigC14NElement(el *etree.Element, enveloped bool, prefixList string) ([]byte, error) {
	ctx, err := etreeutils.NSBuildParentContext(el)
	if err != nil {
		return nil, err
	}
	det, err := etreeutils.NSDetatch(ctx, el)
	if err != nil {
		return nil, err
	}
	if enveloped {
		for _, c := range det.ChildElements() {
			if c.Tag == "Signature" && c.NamespaceURI() == nsDSig {
				det.RemoveChild(c)
				break
			}
		}
	}
	return dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList(prefixList).Canonicalize(det)
}

// ownC14N is this package's canonical form of the same element.
func ownC14N(doc []byte, id string, enveloped bool, prefixList string) ([]byte, error) {
	d, err := parseXML(doc, samlXMLLimits)
	if err != nil {
		return nil, err
	}
	for _, el := range d.elements {
		if el.attr("ID") != id {
			continue
		}
		var skip *xnode
		if enveloped {
			skip, _ = child(el, nsDSig, "Signature")
		}
		prefixes, err := parsePrefixList(prefixList)
		if err != nil {
			return nil, err
		}
		return canonicalize(nil, el, skip, prefixes)
	}
	return nil, errors.New("no such ID")
}

// compareC14N checks every element of doc with an ID, and every
// SignedInfo, against goxmldsig; it reports whether the reader accepted doc.
func compareC14N(t testing.TB, doc []byte, prefixList string) bool {
	t.Helper()
	d, err := parseXML(doc, samlXMLLimits)
	if err != nil {
		return false
	}
	ed := etree.NewDocument()
	if err := ed.ReadFromBytes(doc); err != nil {
		t.Fatalf("the reader accepts what encoding/xml refuses (%v):\n%q", err, doc)
	}
	for _, el := range d.elements {
		if id := el.attr("ID"); id != "" {
			for _, env := range []bool{false, true} {
				want, werr := goxmldsigC14N(doc, id, env, prefixList)
				got, gerr := ownC14N(doc, id, env, prefixList)
				if werr == nil && gerr == nil && !bytes.Equal(got, want) {
					t.Fatalf("#%s (enveloped %v, prefixes %q):\n got %s\nwant %s", id, env, prefixList, got, want)
				}
			}
		}
		if el.is(nsDSig, "SignedInfo") {
			got, gerr := canonicalize(nil, el, nil, nil)
			var want []byte
			var werr error
			for _, e := range ed.FindElements("//SignedInfo") {
				if e.NamespaceURI() == nsDSig {
					want, werr = goxmldsigC14NElement(e, false, "")
					break // the documents compared hold one SignedInfo each, or several equal ones
				}
			}
			if werr == nil && gerr == nil && want != nil && !bytes.Equal(got, want) && len(ed.FindElements("//SignedInfo")) == 1 {
				t.Fatalf("SignedInfo:\n got %s\nwant %s", got, want)
			}
		}
	}
	return true
}

// c14nVectors are documents whose canonical forms both canonicalisers must agree on.
func c14nVectors(t testing.TB) [][]byte {
	k := rsaKey(t, "saml-idp").withCert(t)
	p := defaultSAML(t0)
	signed := signXML(t, k, assertionXML(p), "")
	out := [][]byte{
		[]byte(responseXML(p, signed)),
		[]byte(signXML(t, k, responseXML(p, signXML(t, k, assertionXML(p), "")), "")),
		[]byte(wsfedXML(signed)),
		[]byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<a:r xmlns:a="urn:a" xmlns:b="urn:b" xmlns="urn:d" ID="x1"><b:c ID="x2" z="1" b:y="2" a="&lt;&amp;&gt;&quot;&apos;&#9;&#xA;&#xD;"> t&amp;x &#xD; &gt; ` +
			"\r\n" + `</b:c><e xmlns:a="urn:a" xmlns:b="urn:other" b:k="v"/><a:f xmlns="urn:d2"><g ID="x3"/></a:f></a:r>`),
		[]byte(`<r xmlns:p="urn:p" xmlns:q="urn:q" ID="y1"><p:s ID="y2"><q:t ID="y3" p:a="1"/></p:s><u q:b="2" ID="y4"/></r>`),
		[]byte(`<p:r xmlns:p="urn:p"><p:s xmlns:p="urn:p2" ID="z1"><p:t xmlns:p="urn:p2"/><p:t xmlns:p="urn:p"/></p:s></p:r>`),
	}
	for _, w := range wrappingCorpus(t, newSAMLHarness(t, SAMLConfig{}, k), k, rsaKey(t, "saml-rogue").withCert(t)) {
		out = append(out, []byte(w.doc))
	}
	return append(out, issuerOutputs(t)...)
}

// issuerOutputs are keyroll's own signed messages, RSA and ECDSA.
func issuerOutputs(t testing.TB) [][]byte {
	return issuerOutputsBy(t, rsaKey(t, "saml-idp").withCert(t), ecKey(t, "saml-idp-ec").withCert(t))
}

// issuerOutputsBy are keyroll's own signed messages, by each of keys in
// turn: three Responses, a bare assertion and a WS-Fed RSTR each.
func issuerOutputsBy(t testing.TB, keys ...testKey) [][]byte {
	var out [][]byte
	for _, k := range keys {
		s := saml.Signer{Key: k.signer, Cert: k.cert}
		a := &saml.Assertion{Issuer: samlIdP, Subject: "alice@example.com", NameIDFormat: saml.NameIDEmail, Audience: samlSP, Recipient: samlACS,
			NotBefore: t0.Add(-time.Minute), NotOnOrAfter: t0.Add(time.Hour), SessionIndex: "_s1", IssueInstant: t0,
			Attributes: []saml.Attribute{{Name: "role", Values: []string{"admin", "a<b&c \"q\""}}}}
		for _, flags := range [][2]bool{{true, true}, {true, false}, {false, true}} {
			r, err := saml.BuildResponse(saml.Response{Destination: samlACS, IssueInstant: t0, Issuer: samlIdP, Assertion: a}, s, flags[0], flags[1])
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
		a20, err := saml.BuildAssertion20(*a, s)
		if err != nil {
			t.Fatal(err)
		}
		ws, err := saml.BuildWSFedResponse(a20, saml.TokenTypeSAML20, samlSP, t0, t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, a20, ws)
	}
	return out
}

func TestSAMLC14NMatchesGoxmldsig(t *testing.T) {
	for i, doc := range c14nVectors(t) {
		for _, list := range []string{"", "b", "a b", "p q", "saml xs ds"} {
			if !compareC14N(t, doc, list) && i < 6 {
				t.Fatalf("vector %d refused by the reader", i)
			}
		}
	}
}

func FuzzSAMLC14N(f *testing.F) {
	for _, doc := range c14nVectors(f) {
		f.Add(doc, "")
	}
	f.Add([]byte(`<a:r xmlns:a="urn:a" ID="1"><a:s xmlns:b="urn:b" ID="2"><b:t/></a:s></a:r>`), "b")
	f.Fuzz(func(t *testing.T, doc []byte, list string) {
		compareC14N(t, doc, list)
	})
}

// The reader reads keyroll's own issuer output, RSA and ECDSA: every
// message verifies; the former implementation (RSA only) verifies the RSA
// ones and reads them the same.
func TestSAMLIssuerOutputs(t *testing.T) {
	rsa, ec := rsaKey(t, "saml-idp").withCert(t), ecKey(t, "saml-idp-ec").withCert(t)
	h := newSAMLHarness(t, SAMLConfig{ReplayCacheSize: -1}, rsa, ec)
	old := &legacySAML{h.v}
	for i, doc := range issuerOutputsBy(t, rsa, ec) {
		kind := kindResponse
		if bytes.Contains(doc, []byte("RequestSecurityTokenResponse")) {
			kind = kindWSFed
		} else if !bytes.Contains(doc, []byte("samlp:Response")) {
			continue // a bare assertion
		}
		a, err := h.v.verify(h.ctx, doc, kind, "")
		la, lerr := old.verify(h.ctx, doc, kind, "")
		legacyOK := i < 5 // the RSA messages
		if err != nil || (lerr == nil) != legacyOK {
			t.Errorf("message %d: err %v, former implementation %v", i, err, lerr)
		}
		if err == nil && lerr == nil && !reflect.DeepEqual(a, la) {
			t.Errorf("message %d: read %+v, former implementation %+v", i, a, la)
		}
	}
}

// differential runs both implementations on data and fails when their
// verdicts or what they read differ.
func differential(t *testing.T, h *samlHarness, data []byte) {
	old := &legacySAML{h.v}
	for _, kind := range []samlKind{kindResponse, kindWSFed} {
		a, err := h.v.verify(h.ctx, data, kind, "")
		la, lerr := old.verify(h.ctx, data, kind, "")
		if (err == nil) != (lerr == nil) {
			if err != nil && refusedConstruct(data) {
				continue
			}
			t.Fatalf("%s: verdicts differ: %v; former implementation %v\n%q", kindName(kind), err, lerr, data)
		}
		if err == nil && !reflect.DeepEqual(a, la) {
			t.Fatalf("read %+v, former implementation %+v", a, la)
		}
	}
}

// refusedConstruct reports whether data holds a construct the reader
// refuses on purpose (documented in samlxml.go) that encoding/xml reads.
func refusedConstruct(data []byte) bool {
	_, err := parseXML(data, samlXMLLimits)
	return err != nil
}

func TestSAMLDifferentialCorpus(t *testing.T) {
	k, rogue := rsaKey(t, "saml-idp").withCert(t), rsaKey(t, "saml-rogue").withCert(t)
	h := newSAMLHarness(t, SAMLConfig{ReplayCacheSize: -1}, k)
	p := defaultSAML(h.clk.Now())
	docs := []string{h.signedResponse(k, p), wsfedXML(signXML(t, k, assertionXML(p), "")),
		signXML(t, k, responseXML(p, assertionXML(p)), ""), signXML(t, k, responseXML(p, signXML(t, k, assertionXML(p), "")), "")}
	for _, w := range wrappingCorpus(t, h, k, rogue) {
		docs = append(docs, w.doc)
	}
	for _, d := range docs {
		differential(t, h, []byte(d))
	}
}

func FuzzSAMLDifferential(f *testing.F) {
	k, rogue := rsaKey(f, "saml-idp").withCert(f), rsaKey(f, "saml-rogue").withCert(f)
	h := newSAMLHarness(f, SAMLConfig{ReplayCacheSize: -1}, k)
	p := defaultSAML(h.clk.Now())
	f.Add([]byte(h.signedResponse(k, p)))
	f.Add([]byte(wsfedXML(signXML(f, k, assertionXML(p), ""))))
	f.Add([]byte(signXML(f, k, responseXML(p, assertionXML(p)), "")))
	for _, w := range wrappingCorpus(f, h, k, rogue) {
		f.Add([]byte(w.doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h.ctx = context.Background()
		differential(t, h, data)
	})
}

// Constructs the reader refuses, each with ErrSAMLMalformed or
// ErrSAMLUnsupported, never a guess.
func TestSAMLReaderRefuses(t *testing.T) {
	k := rsaKey(t, "saml-idp").withCert(t)
	h := newSAMLHarness(t, SAMLConfig{}, k)
	p := defaultSAML(h.clk.Now())
	good := h.signedResponse(k, p)
	for name, doc := range map[string]string{
		"CDATA":                    strings.Replace(good, "alice@example.com", "<![CDATA[alice@example.com]]>", 1),
		"xml:space":                strings.Replace(good, "<saml:NameID ", `<saml:NameID xml:space="preserve" `, 1),
		"undeclared prefix":        strings.Replace(good, "<saml:Subject>", "<x:Subject>", 1),
		"default undeclared":       strings.Replace(good, "<saml:Subject>", `<saml:Subject xmlns="">`, 1),
		"newline in an attribute":  strings.Replace(good, `Version="2.0"`, "Version=\"2.0\n\"", 1),
		"byte order mark":          "\ufeff" + good,
		"other encoding":           `<?xml version="1.0" encoding="ISO-8859-1"?>` + good,
		"unknown entity":           strings.Replace(good, "alice@example.com", "&nbsp;", 1),
		"duplicate attribute":      strings.Replace(good, `Version="2.0"`, `Version="2.0" Version="2.0"`, 1),
		"control character":        strings.Replace(good, "alice@example.com", "alice\x01", 1),
		"character reference to 0": strings.Replace(good, "alice@example.com", "&#0;", 1),
		"deep nesting":             strings.Replace(good, "<saml:Subject>", "<saml:Subject>"+strings.Repeat("<x:a xmlns:x='urn:x'>", 70)+strings.Repeat("</x:a>", 70), 1),
	} {
		_, err := h.v.VerifyResponse(h.ctx, []byte(doc), "")
		if !errors.Is(err, ErrSAMLMalformed) && !errors.Is(err, ErrSAMLUnsupported) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// The verifier's steps on a signed response, for profiling:
//
//	go test -run '^$' -bench SAMLSteps -benchmem ./verify/
func BenchmarkSAMLSteps(b *testing.B) {
	k := rsaKey(b, "saml-idp").withCert(b)
	h := newSAMLHarness(b, SAMLConfig{ReplayCacheSize: -1}, k)
	doc := []byte(h.signedResponse(k, defaultSAML(h.clk.Now())))
	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			d, err := parseSAML(doc)
			if err != nil {
				b.Fatal(err)
			}
			d.doc.release()
		}
	})
	d, _ := parseSAML(doc)
	var sig samlSignature
	if err := h.v.signatureOf(d.assertion, &sig); err != nil {
		b.Fatal(err)
	}
	b.Run("shape", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = h.v.signatureOf(d.assertion, &sig)
		}
	})
	b.Run("c14n", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf, _ = canonicalize(buf[:0], d.assertion, sig.sig, nil)
			buf, _ = canonicalize(buf[:0], sig.signedInfo, nil, nil)
		}
	})
	b.Run("verify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := h.v.VerifyResponse(h.ctx, doc, ""); err != nil {
				b.Fatal(err)
			}
		}
	})
}
