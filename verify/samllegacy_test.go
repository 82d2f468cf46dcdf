// Code in this file is the SAML verifier as it was before its own XML
// reader (etree and goxmldsig), kept for the differential tests: the
// verdict of the new one must equal it.

package verify

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// legacySAML is the former implementation over the same configuration and cache.
type legacySAML struct{ *SAMLVerifier }

func (v *legacySAML) verify(ctx context.Context, data []byte, kind samlKind, inResponseTo string) (*Assertion, error) {
	d, err := legacyParse(data)
	if err != nil {
		return nil, err
	}
	if d.kind != kind {
		return nil, fmt.Errorf("%w: got a %s, want a %s", ErrSAMLMalformed, kindName(d.kind), kindName(kind))
	}
	now := v.clk.Now()
	signed := d.assertion
	if _, err := v.signatureOf(signed); errors.Is(err, ErrSAMLUnsigned) && kind == kindResponse {
		signed = d.root // a signed Response covers its assertion
	}
	got, cert, err := v.validated(ctx, signed, now)
	if err != nil {
		return nil, err
	}
	if signed == d.root { // read the assertion inside what was verified
		as := legacyChildren(got, nsSAML, "Assertion")
		if len(as) != 1 {
			return nil, fmt.Errorf("%w: found %d in the signed response", ErrSAMLAssertionCount, len(as))
		}
		if err := v.checkResponse(got, inResponseTo); err != nil {
			return nil, err
		}
		got = as[0]
	} else if kind == kindResponse {
		if err := v.checkResponse(d.root, inResponseTo); err != nil {
			return nil, err
		}
	}
	a, err := v.readAssertion(got, now, inResponseTo, kind)
	if err != nil {
		return nil, err
	}
	sum := sha1.Sum(cert.Raw)
	a.SigningKey = base64.RawURLEncoding.EncodeToString(sum[:])
	if v.replay != nil && !v.replay.add(a.Issuer+"\x00"+a.ID, a.NotOnOrAfter.Add(v.cfg.Skew), now) {
		return nil, fmt.Errorf("%w: %s", ErrSAMLReplay, clip(a.ID))
	}
	return a, nil
}

// checkResponse checks the Response's own status, destination and
// InResponseTo. Unless the Response is signed these are unsigned, so they
// can only refuse, never make an assertion acceptable.
func (v *legacySAML) checkResponse(r *etree.Element, inResponseTo string) error {
	st, _ := legacyChild(r, nsSAMLP, "Status")
	var code *etree.Element
	if st != nil {
		code, _ = legacyChild(st, nsSAMLP, "StatusCode")
	}
	if code == nil || legacyAttr(code, "Value") != "urn:oasis:names:tc:SAML:2.0:status:Success" {
		val := ""
		if code != nil {
			val = legacyAttr(code, "Value")
		}
		return fmt.Errorf("%w: %s", ErrSAMLStatus, clip(val))
	}
	if dst := legacyAttr(r, "Destination"); dst != "" && v.cfg.Recipient != "" && dst != v.cfg.Recipient {
		return fmt.Errorf("%w: Destination %s", ErrSAMLRecipient, clip(dst))
	}
	if irt := legacyAttr(r, "InResponseTo"); irt != inResponseTo {
		return fmt.Errorf("%w: response answers %s, expected %s", ErrSAMLInResponseTo, clip(irt), clip(inResponseTo))
	}
	return nil
}

// legacyDoc is a parsed document whose single assertion has been located.
type legacyDoc struct {
	root      *etree.Element
	assertion *etree.Element
	kind      samlKind
}

// legacyParse reads data strictly: size-limited, no DOCTYPE, comment or
// processing instruction, every ID unique, exactly one SAML 2.0 assertion
// and it in the place the protocol puts it.
func legacyParse(data []byte) (*legacyDoc, error) {
	if len(data) > MaxSAMLSize {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrSAMLMalformed, MaxSAMLSize)
	}
	if bytes.Contains(data, []byte("<!")) {
		return nil, fmt.Errorf("%w: DOCTYPE, CDATA or comment", ErrSAMLMalformed)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(data); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSAMLMalformed, err)
	}
	for _, tok := range doc.Child {
		switch t := tok.(type) {
		case *etree.ProcInst:
			if t.Target != "xml" {
				return nil, fmt.Errorf("%w: processing instruction", ErrSAMLMalformed)
			}
		case *etree.CharData:
			if strings.TrimSpace(t.Data) != "" {
				return nil, fmt.Errorf("%w: text outside the root element", ErrSAMLMalformed)
			}
		case *etree.Element:
		default:
			return nil, fmt.Errorf("%w: unexpected %T", ErrSAMLMalformed, tok)
		}
	}
	root := doc.Root()
	if root == nil {
		return nil, fmt.Errorf("%w: no root element", ErrSAMLMalformed)
	}
	var assertions []*etree.Element
	ids := map[string]bool{}
	if err := legacyWalk(root, ids, &assertions); err != nil {
		return nil, err
	}
	if len(assertions) != 1 {
		return nil, fmt.Errorf("%w: found %d", ErrSAMLAssertionCount, len(assertions))
	}
	d := &legacyDoc{root: root, assertion: assertions[0]}
	return d, d.place()
}

// legacyWalk checks every element below el and collects the assertions.
func legacyWalk(el *etree.Element, ids map[string]bool, assertions *[]*etree.Element) error {
	for _, a := range el.Attr {
		if a.Key == "ID" || a.Key == "Id" || a.Key == "AssertionID" {
			if ids[a.Value] {
				return fmt.Errorf("%w: %s", ErrSAMLDuplicateID, clip(a.Value))
			}
			ids[a.Value] = true
		}
	}
	switch ns := el.NamespaceURI(); {
	case el.Tag == "Assertion" && ns == nsSAML:
		*assertions = append(*assertions, el)
	case el.Tag == "Assertion" && ns == nsSAML11:
		return fmt.Errorf("%w: SAML 1.1 assertion", ErrSAMLUnsupported)
	case el.Tag == "EncryptedAssertion":
		return fmt.Errorf("%w: encrypted assertion", ErrSAMLUnsupported)
	}
	for _, tok := range el.Child {
		switch t := tok.(type) {
		case *etree.Element:
			if err := legacyWalk(t, ids, assertions); err != nil {
				return err
			}
		case *etree.CharData:
		default:
			return fmt.Errorf("%w: %T inside <%s>", ErrSAMLMalformed, tok, el.Tag)
		}
	}
	return nil
}

// place checks that the assertion is where the envelope puts it: a child
// of samlp:Response, or of wst:RequestedSecurityToken in an RSTR (alone
// or in an RSTR collection).
func (d *legacyDoc) place() error {
	r, parent := d.root, d.assertion.Parent()
	switch {
	case r.Tag == "Response" && r.NamespaceURI() == nsSAMLP:
		d.kind = kindResponse
		if parent != r {
			return fmt.Errorf("%w: not a child of the Response", ErrSAMLStructure)
		}
		return nil
	case legacyIsTrust(r, "RequestSecurityTokenResponse"), legacyIsTrust(r, "RequestSecurityTokenResponseCollection"):
		d.kind = kindWSFed
		rstr := r
		if r.Tag == "RequestSecurityTokenResponseCollection" {
			kids := r.ChildElements()
			if len(kids) != 1 || !legacyIsTrust(kids[0], "RequestSecurityTokenResponse") {
				return fmt.Errorf("%w: the collection must hold one RequestSecurityTokenResponse", ErrSAMLStructure)
			}
			rstr = kids[0]
		}
		if parent == nil || !legacyIsTrust(parent, "RequestedSecurityToken") || parent.Parent() != rstr {
			return fmt.Errorf("%w: not in RequestedSecurityToken", ErrSAMLStructure)
		}
		return nil
	}
	return fmt.Errorf("%w: root <%s> is neither a SAML Response nor a WS-Trust RequestSecurityTokenResponse", ErrSAMLMalformed, r.Tag)
}

func legacyIsTrust(el *etree.Element, tag string) bool {
	ns := el.NamespaceURI()
	return el.Tag == tag && (ns == nsTrust05 || ns == nsTrust13)
}

// legacyChild returns el's only child element ns:tag, nil if none, and an error
// if there are several.
func legacyChild(el *etree.Element, ns, tag string) (*etree.Element, error) {
	var found *etree.Element
	for _, c := range el.ChildElements() {
		if c.Tag == tag && c.NamespaceURI() == ns {
			if found != nil {
				return nil, fmt.Errorf("%w: more than one <%s> in <%s>", ErrSAMLMalformed, tag, el.Tag)
			}
			found = c
		}
	}
	return found, nil
}

// legacyChildren returns el's child elements ns:tag.
func legacyChildren(el *etree.Element, ns, tag string) []*etree.Element {
	var out []*etree.Element
	for _, c := range el.ChildElements() {
		if c.Tag == tag && c.NamespaceURI() == ns {
			out = append(out, c)
		}
	}
	return out
}

// legacyText returns el's character data, refusing element content: a value
// split by markup is never read as its first part.
func legacyText(el *etree.Element) (string, error) {
	var b strings.Builder
	for _, tok := range el.Child {
		switch t := tok.(type) {
		case *etree.CharData:
			b.WriteString(t.Data)
		default:
			return "", fmt.Errorf("%w: <%s> holds markup, not text", ErrSAMLMalformed, el.Tag)
		}
	}
	return strings.TrimSpace(b.String()), nil
}

// legacyAttr returns el's unqualified attribute key.
func legacyAttr(el *etree.Element, key string) string {
	for _, a := range el.Attr {
		if a.Space == "" && a.Key == key {
			return a.Value
		}
	}
	return ""
}

// legacyDigests and legacyTransforms are the digest and transform algorithms accepted.
var (
	legacyDigests = []string{
		"http://www.w3.org/2001/04/xmlenc#sha256",
		"http://www.w3.org/2001/04/xmldsig-more#sha384",
		"http://www.w3.org/2001/04/xmlenc#sha512",
	}
	legacyTransforms = []string{
		string(dsig.EnvelopedSignatureAltorithmId),
		string(dsig.CanonicalXML10ExclusiveAlgorithmId),
	}
)

// signatureOf checks the shape of el's enveloped signature before any
// cryptography: one ds:Signature child, one Reference whose URI is "#" and
// el's own ID, allow-listed algorithms. It returns the KeyInfo certificate,
// if any (only a hint of which key to use: it must be in the key set).
func (v *legacySAML) signatureOf(el *etree.Element) (*x509.Certificate, error) {
	sig, err := legacyChild(el, nsDSig, "Signature")
	if err != nil {
		return nil, err
	}
	if sig == nil {
		return nil, ErrSAMLUnsigned
	}
	id := legacyAttr(el, "ID")
	si, err := legacyChild(sig, nsDSig, "SignedInfo")
	if err != nil || si == nil || id == "" {
		return nil, fmt.Errorf("%w: missing SignedInfo or ID", ErrSAMLReference)
	}
	refs := legacyChildren(si, nsDSig, "Reference")
	if len(refs) != 1 || legacyAttr(refs[0], "URI") != "#"+id {
		return nil, fmt.Errorf("%w: want one Reference to #%s", ErrSAMLReference, clip(id))
	}
	if err := v.algorithms(si, refs[0]); err != nil {
		return nil, err
	}
	return legacyKeyInfoCert(sig)
}

// algorithms checks every algorithm the signature names.
func (v *legacySAML) algorithms(si, ref *etree.Element) error {
	alg := func(parent *etree.Element, tag string, allowed []string) error {
		el, err := legacyChild(parent, nsDSig, tag)
		if err != nil {
			return err
		}
		if el == nil || !slices.Contains(allowed, legacyAttr(el, "Algorithm")) {
			a := ""
			if el != nil {
				a = legacyAttr(el, "Algorithm")
			}
			return fmt.Errorf("%w: %s %s", ErrSAMLAlgorithm, tag, clip(a))
		}
		return nil
	}
	c14n := []string{string(dsig.CanonicalXML10ExclusiveAlgorithmId)}
	if err := legacyErrorsFirst(alg(si, "CanonicalizationMethod", c14n), alg(si, "SignatureMethod", v.methods),
		alg(ref, "DigestMethod", legacyDigests)); err != nil {
		return err
	}
	if ts, err := legacyChild(ref, nsDSig, "Transforms"); err != nil {
		return err
	} else if ts != nil {
		for _, t := range ts.ChildElements() {
			if t.Tag != "Transform" || !slices.Contains(legacyTransforms, legacyAttr(t, "Algorithm")) {
				return fmt.Errorf("%w: transform %s", ErrSAMLAlgorithm, clip(legacyAttr(t, "Algorithm")))
			}
		}
	}
	return nil
}

func legacyErrorsFirst(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// legacyKeyInfoCert reads the first X509Certificate of the signature's KeyInfo.
func legacyKeyInfoCert(sig *etree.Element) (*x509.Certificate, error) {
	ki, err := legacyChild(sig, nsDSig, "KeyInfo")
	if err != nil || ki == nil {
		return nil, err
	}
	data, _ := legacyChild(ki, nsDSig, "X509Data")
	if data == nil {
		return nil, nil
	}
	c, _ := legacyChild(data, nsDSig, "X509Certificate")
	if c == nil {
		return nil, nil
	}
	b64, err := legacyText(c)
	if err != nil {
		return nil, err
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(b64), ""))
	if err != nil {
		return nil, fmt.Errorf("%w: KeyInfo certificate: %v", ErrSAMLMalformed, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%w: KeyInfo certificate: %v", ErrSAMLMalformed, err)
	}
	return cert, nil
}

// legacyCerts returns the usable certificates of ks that could have signed:
// the one KeyInfo names, or all when it names none.
func legacyCerts(ks *KeySet, named *x509.Certificate, limit int) []*x509.Certificate {
	var out []*x509.Certificate
	for i := range ks.entries {
		e := &ks.entries[i]
		if e.unusable != nil || e.fam != famRSA || len(e.key.Certs) == 0 {
			continue
		}
		c := e.key.Certs[0]
		if named != nil && !named.Equal(c) {
			continue
		}
		out = append(out, c)
		if len(out) == limit {
			break
		}
	}
	return out
}

// validated checks el's signature against the key set (refreshing once,
// throttled like JWTs, when the signing certificate is unknown) and
// returns the subtree the signature covers, as goxmldsig hands it back:
// the only thing read afterwards.
func (v *legacySAML) validated(ctx context.Context, el *etree.Element, now time.Time) (*etree.Element, *x509.Certificate, error) {
	named, err := v.signatureOf(el)
	if err != nil {
		return nil, nil, err
	}
	ks, fresh, err := v.cache.keys(ctx, now)
	if err != nil {
		return nil, nil, err
	}
	certs := legacyCerts(ks, named, DefaultMaxKeyTries)
	var out missOutcome
	for range maxMissRefreshes {
		if len(certs) > 0 || fresh {
			break
		}
		out = v.cache.refreshOnMiss(ctx, ks, now)
		if out.ks != nil && out.ks != ks {
			ks = out.ks
			certs = legacyCerts(ks, named, DefaultMaxKeyTries)
		}
		if out.final {
			break
		}
	}
	if len(certs) == 0 {
		what := "an unnamed signing certificate"
		if named != nil {
			sum := sha1.Sum(named.Raw)
			what = "certificate x5t " + clip(base64.RawURLEncoding.EncodeToString(sum[:]))
		}
		return nil, nil, (&missError{key: what}).explain(out, ks)
	}
	nsctx, err := etreeutils.NSBuildParentContext(el)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrSAMLMalformed, err)
	}
	detached, err := etreeutils.NSDetatch(nsctx, el) // with the namespaces its ancestors declare
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrSAMLMalformed, err)
	}
	var firstErr error
	for _, c := range certs {
		vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{c}})
		vc.Clock = dsig.NewFakeClockAt(now)
		got, err := vc.Validate(detached)
		if err == nil {
			return got, c, nil
		}
		if firstErr == nil {
			firstErr = fmt.Errorf("%w: %v", ErrBadSignature, err)
		}
	}
	return nil, nil, firstErr
}

// readAssertion reads and checks a verified assertion: version, issuer,
// subject and its bearer confirmation, conditions, then the statements.
func (v *legacySAML) readAssertion(el *etree.Element, now time.Time, inResponseTo string, kind samlKind) (*Assertion, error) {
	a := &Assertion{ID: legacyAttr(el, "ID")}
	if legacyAttr(el, "Version") != "2.0" || a.ID == "" {
		return nil, fmt.Errorf("%w: assertion Version or ID", ErrSAMLMalformed)
	}
	var err error
	if a.IssueInstant, err = samlTime(legacyAttr(el, "IssueInstant")); err != nil {
		return nil, err
	}
	iss, err := legacyChild(el, nsSAML, "Issuer")
	if err != nil || iss == nil {
		return nil, fmt.Errorf("%w: assertion Issuer", ErrSAMLMalformed)
	}
	if a.Issuer, err = legacyText(iss); err != nil {
		return nil, err
	}
	if a.Issuer != v.cfg.Issuer {
		return nil, &IssuerError{Got: a.Issuer, Want: v.cfg.Issuer}
	}
	if err := v.subject(el, a, now, inResponseTo, kind); err != nil {
		return nil, err
	}
	if err := v.conditions(el, a, now); err != nil {
		return nil, err
	}
	return a, v.statements(el, a)
}

// subject reads NameID and requires a bearer SubjectConfirmation whose data
// holds now, for this recipient and request.
func (v *legacySAML) subject(el *etree.Element, a *Assertion, now time.Time, inResponseTo string, kind samlKind) error {
	sub, err := legacyChild(el, nsSAML, "Subject")
	if err != nil || sub == nil {
		return fmt.Errorf("%w: assertion Subject", ErrSAMLMalformed)
	}
	if id, err := legacyChild(sub, nsSAML, "NameID"); err != nil {
		return err
	} else if id != nil {
		if a.Subject, err = legacyText(id); err != nil {
			return err
		}
		a.SubjectFormat = legacyAttr(id, "Format")
	}
	var why error = ErrSAMLSubjectConfirmation
	for _, sc := range legacyChildren(sub, nsSAML, "SubjectConfirmation") {
		if legacyAttr(sc, "Method") != samlBearer {
			continue
		}
		data, err := legacyChild(sc, nsSAML, "SubjectConfirmationData")
		if err != nil {
			return err
		}
		if why = v.bearer(data, now, inResponseTo, kind); why == nil {
			return nil
		}
	}
	return why
}

// bearer checks one bearer SubjectConfirmationData.
func (v *legacySAML) bearer(data *etree.Element, now time.Time, inResponseTo string, kind samlKind) error {
	if data == nil {
		if kind == kindWSFed { // WS-Fed bearer tokens carry only Conditions
			return nil
		}
		return fmt.Errorf("%w: no SubjectConfirmationData", ErrSAMLSubjectConfirmation)
	}
	if nb := legacyAttr(data, "NotBefore"); nb != "" {
		return fmt.Errorf("%w: a bearer confirmation must not carry NotBefore", ErrSAMLSubjectConfirmation)
	}
	noa, err := samlTime(legacyAttr(data, "NotOnOrAfter"))
	switch {
	case err != nil && kind == kindResponse:
		return fmt.Errorf("%w: NotOnOrAfter is required", ErrSAMLSubjectConfirmation)
	case err == nil && !now.Before(noa.Add(v.cfg.Skew)):
		return &ExpiredError{Expiry: noa, Now: now}
	}
	if r := legacyAttr(data, "Recipient"); v.cfg.Recipient != "" && r != v.cfg.Recipient {
		return fmt.Errorf("%w: Recipient %s", ErrSAMLRecipient, clip(r))
	}
	if irt := legacyAttr(data, "InResponseTo"); irt != inResponseTo {
		return fmt.Errorf("%w: confirmation answers %s, expected %s", ErrSAMLInResponseTo, clip(irt), clip(inResponseTo))
	}
	return nil
}

// conditions checks NotBefore/NotOnOrAfter (required) with the skew and
// that every AudienceRestriction names an accepted audience.
func (v *legacySAML) conditions(el *etree.Element, a *Assertion, now time.Time) error {
	c, err := legacyChild(el, nsSAML, "Conditions")
	if err != nil || c == nil {
		return fmt.Errorf("%w: assertion Conditions", ErrSAMLMalformed)
	}
	if a.NotOnOrAfter, err = samlTime(legacyAttr(c, "NotOnOrAfter")); err != nil {
		return fmt.Errorf("%w: Conditions NotOnOrAfter is required", ErrSAMLMalformed)
	}
	if nb := legacyAttr(c, "NotBefore"); nb != "" {
		if a.NotBefore, err = samlTime(nb); err != nil {
			return err
		}
		if now.Add(v.cfg.Skew).Before(a.NotBefore) {
			return &NotYetValidError{Claim: "NotBefore", At: a.NotBefore, Now: now}
		}
	}
	if !now.Before(a.NotOnOrAfter.Add(v.cfg.Skew)) {
		return &ExpiredError{Expiry: a.NotOnOrAfter, Now: now}
	}
	restrictions := legacyChildren(c, nsSAML, "AudienceRestriction")
	if len(restrictions) == 0 {
		return &AudienceError{}
	}
	for _, r := range restrictions {
		var got []string
		ok := false
		for _, au := range legacyChildren(r, nsSAML, "Audience") {
			s, err := legacyText(au)
			if err != nil {
				return err
			}
			got = append(got, s)
			ok = ok || slices.Contains(v.cfg.Audience, s)
		}
		if !ok {
			return &AudienceError{Got: got}
		}
		a.Audiences = append(a.Audiences, got...)
	}
	return nil
}

// statements reads the session index and the attributes.
func (v *legacySAML) statements(el *etree.Element, a *Assertion) error {
	if as, err := legacyChild(el, nsSAML, "AuthnStatement"); err != nil {
		return err
	} else if as != nil {
		a.SessionIndex = legacyAttr(as, "SessionIndex")
	}
	for _, st := range legacyChildren(el, nsSAML, "AttributeStatement") {
		for _, at := range legacyChildren(st, nsSAML, "Attribute") {
			name := legacyAttr(at, "Name")
			if a.Attributes == nil {
				a.Attributes = map[string][]string{}
			}
			for _, val := range legacyChildren(at, nsSAML, "AttributeValue") {
				s, err := legacyText(val)
				if err != nil {
					return err
				}
				a.Attributes[name] = append(a.Attributes[name], s)
			}
		}
	}
	return nil
}
