package saml

import (
	"bytes"
	"crypto"
	"testing"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// The canonicaliser gives goxmldsig's bytes on the trees this package
// builds and on the corner cases it claims to handle.
func TestCanonicalizeMatchesGoxmldsig(t *testing.T) {
	a := *testAssertion()
	a.ID, a.IssueInstant = "_a1", t0
	a.Attributes = append(a.Attributes, Attribute{Name: "x", Values: []string{"tab\there\r\nq\"'>&<"}})
	r := testResponse()
	r.ID = "_r1"
	trees := map[string]*etree.Element{"assertion": assertion20(a), "response": response(r)}
	trees["response+assertion"] = response(r)
	trees["response+assertion"].AddChild(assertion20(a))
	doc := etree.NewDocument()
	if err := doc.ReadFromString(`<r xmlns="urn:d" xmlns:p="urn:p" xmlns:unused="urn:u" b="2" p:z="1" a="&#9;&#10;&quot;"><p:c xmlns="urn:d"><e xmlns="">t&gt;</e></p:c><f p:y="&amp;"/></r>`); err != nil {
		t.Fatal(err)
	}
	trees["default namespaces"] = doc.Root()
	exc := dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	for name, el := range trees {
		var mine bytes.Buffer
		if err := canonicalize(&mine, el); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		theirs, err := exc.Canonicalize(el.Copy())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(mine.Bytes(), theirs) {
			t.Errorf("%s:\nmine   %s\ntheirs %s", name, mine.Bytes(), theirs)
		}
	}
	// The nested element alone, its namespace declared by an ancestor.
	nested := trees["default namespaces"].ChildElements()[0]
	var mine bytes.Buffer
	canonicalize(&mine, nested)
	if want := `<p:c xmlns:p="urn:p"><e>t&gt;</e></p:c>`; mine.String() != want {
		t.Errorf("nested: %s, want %s", mine.String(), want)
	}
	comment := etree.NewElement("x")
	comment.CreateComment("c")
	if err := canonicalize(&mine, comment); err == nil {
		t.Error("a comment was canonicalised silently")
	}
}

// For RSA (deterministic PKCS #1 v1.5) the signature element is byte for
// byte the one goxmldsig's ConstructSignature makes.
func TestSignatureMatchesGoxmldsig(t *testing.T) {
	s := testSigner(t, "rsa-idp")
	a := *testAssertion()
	a.ID, a.IssueInstant = "_a1", t0
	r := testResponse()
	r.ID = "_r1"
	for name, c := range map[string]struct {
		el     *etree.Element
		idAttr string
	}{"saml2": {assertion20(a), "ID"}, "response": {response(r), "ID"}} {
		ours := c.el.Copy()
		ctx, err := s.context(c.idAttr)
		if err != nil {
			t.Fatal(err)
		}
		if err := signEnveloped(ctx, ours, 1); err != nil {
			t.Fatal(err)
		}
		gctx, err := dsig.NewSigningContext(s.Key, [][]byte{s.Cert.Raw})
		if err != nil {
			t.Fatal(err)
		}
		gctx.Hash = crypto.SHA256
		gctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
		gctx.Prefix = "ds"
		gctx.IdAttribute = c.idAttr
		theirs, err := gctx.ConstructSignature(c.el.Copy(), true)
		if err != nil {
			t.Fatal(err)
		}
		got, want := serialize(t, ours.ChildElements()[1]), serialize(t, theirs)
		if got != want {
			t.Errorf("%s:\nours   %s\ntheirs %s", name, got, want)
		}
	}
}

func serialize(t *testing.T, el *etree.Element) string {
	t.Helper()
	doc := etree.NewDocument()
	doc.SetRoot(el.Copy())
	s, err := doc.WriteToString()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
