package saml

import (
	"strings"

	"github.com/beevik/etree"
)

const (
	cmBearer       = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
	attrNameURI    = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
	attrNameBasic  = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
	samlVersion20  = "2.0"
	assertionChild = 1 // the signature goes after Issuer
)

// BuildAssertion20 returns a standalone SAML 2.0 assertion signed by s (the
// form a WS-Federation response carries). a.IssueInstant and a.NotOnOrAfter
// are required; Recipient and InResponseTo are written only when set.
func BuildAssertion20(a Assertion, s Signer) ([]byte, error) {
	ctx, err := s.context("ID")
	if err != nil {
		return nil, err
	}
	if a, err = a.withDefaults(); err != nil {
		return nil, err
	}
	root := assertion20(a)
	if err := signEnveloped(ctx, root, assertionChild); err != nil {
		return nil, err
	}
	return writeDoc(root)
}

// assertion20 builds the saml:Assertion element of a (defaults applied),
// declaring its own namespace so it can be signed on its own.
func assertion20(a Assertion) *etree.Element {
	root := etree.NewElement("saml:Assertion")
	root.CreateAttr("xmlns:saml", NSAssertion)
	root.CreateAttr("ID", a.ID)
	root.CreateAttr("Version", samlVersion20)
	root.CreateAttr("IssueInstant", xsTime(a.IssueInstant))
	el(root, "saml:Issuer", a.Issuer)

	subject := root.CreateElement("saml:Subject")
	el(subject, "saml:NameID", a.Subject).CreateAttr("Format", a.NameIDFormat)
	sc := subject.CreateElement("saml:SubjectConfirmation")
	sc.CreateAttr("Method", cmBearer)
	scd := sc.CreateElement("saml:SubjectConfirmationData")
	attrIf(scd, "InResponseTo", a.InResponseTo)
	scd.CreateAttr("NotOnOrAfter", xsTime(a.NotOnOrAfter))
	attrIf(scd, "Recipient", a.Recipient)

	cond := root.CreateElement("saml:Conditions")
	if !a.NotBefore.IsZero() {
		cond.CreateAttr("NotBefore", xsTime(a.NotBefore))
	}
	cond.CreateAttr("NotOnOrAfter", xsTime(a.NotOnOrAfter))
	el(cond.CreateElement("saml:AudienceRestriction"), "saml:Audience", a.Audience)

	authn := root.CreateElement("saml:AuthnStatement")
	authn.CreateAttr("AuthnInstant", xsTime(a.AuthnInstant))
	attrIf(authn, "SessionIndex", a.SessionIndex)
	el(authn.CreateElement("saml:AuthnContext"), "saml:AuthnContextClassRef", a.AuthnContextClassRef)

	if len(a.Attributes) > 0 {
		stmt := root.CreateElement("saml:AttributeStatement")
		for _, at := range a.Attributes {
			ae := stmt.CreateElement("saml:Attribute")
			ae.CreateAttr("Name", at.Name)
			if strings.Contains(at.Name, ":") {
				ae.CreateAttr("NameFormat", attrNameURI)
			} else {
				ae.CreateAttr("NameFormat", attrNameBasic)
			}
			attrIf(ae, "FriendlyName", at.FriendlyName)
			for _, v := range at.Values {
				el(ae, "saml:AttributeValue", v)
			}
		}
	}
	return root
}
