package saml

import (
	"fmt"
	"strings"

	"github.com/beevik/etree"
)

const (
	cmBearer11     = "urn:oasis:names:tc:SAML:1.0:cm:bearer"
	amPassword11   = "urn:oasis:names:tc:SAML:1.0:am:password"
	amUnspecified1 = "urn:oasis:names:tc:SAML:1.0:am:unspecified"
)

// BuildAssertion11 returns a SAML 1.1 assertion signed by s, the token WIF
// 3.5 and passport-wsfed-saml2 expect inside a WS-Federation response: an
// AssertionID, Conditions with an AudienceRestrictionCondition, an
// AttributeStatement (when there are attributes) and an
// AuthenticationStatement, each with the subject and a bearer confirmation,
// and the signature as the last child, where the SAML 1.1 schema puts it.
//
// Attribute names must be claim-type URIs with a '/': the part after the
// last '/' is the AttributeName, the part before it the AttributeNamespace
// (relying parties join them again with '/'). Recipient, InResponseTo and
// SessionIndex have no place in SAML 1.1 and are ignored. The password
// authentication context classes are written as the SAML 1.1 password
// method; other class references are written as they are.
func BuildAssertion11(a Assertion, s Signer) ([]byte, error) {
	ctx, err := s.context("AssertionID")
	if err != nil {
		return nil, err
	}
	if a, err = a.withDefaults(); err != nil {
		return nil, err
	}
	root := etree.NewElement("saml:Assertion")
	root.CreateAttr("xmlns:saml", NSAssertion11)
	root.CreateAttr("MajorVersion", "1")
	root.CreateAttr("MinorVersion", "1")
	root.CreateAttr("AssertionID", a.ID)
	root.CreateAttr("Issuer", a.Issuer)
	root.CreateAttr("IssueInstant", xsTime(a.IssueInstant))

	cond := root.CreateElement("saml:Conditions")
	if !a.NotBefore.IsZero() {
		cond.CreateAttr("NotBefore", xsTime(a.NotBefore))
	}
	cond.CreateAttr("NotOnOrAfter", xsTime(a.NotOnOrAfter))
	el(cond.CreateElement("saml:AudienceRestrictionCondition"), "saml:Audience", a.Audience)

	if len(a.Attributes) > 0 {
		stmt := root.CreateElement("saml:AttributeStatement")
		subject11(stmt, a)
		for _, at := range a.Attributes {
			i := strings.LastIndexByte(at.Name, '/')
			if i <= 0 || i == len(at.Name)-1 {
				return nil, fmt.Errorf("%w: attribute %q has no namespace/name form, which SAML 1.1 needs "+
					"(e.g. http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name)", ErrInvalid, at.Name)
			}
			ae := stmt.CreateElement("saml:Attribute")
			ae.CreateAttr("AttributeName", at.Name[i+1:])
			ae.CreateAttr("AttributeNamespace", at.Name[:i])
			for _, v := range at.Values {
				el(ae, "saml:AttributeValue", v)
			}
		}
	}

	authn := root.CreateElement("saml:AuthenticationStatement")
	authn.CreateAttr("AuthenticationMethod", authMethod11(a.AuthnContextClassRef))
	authn.CreateAttr("AuthenticationInstant", xsTime(a.AuthnInstant))
	subject11(authn, a)

	if err := signEnveloped(ctx, root, len(root.Child)); err != nil {
		return nil, err
	}
	return writeDoc(root)
}

func subject11(stmt *etree.Element, a Assertion) {
	subject := stmt.CreateElement("saml:Subject")
	el(subject, "saml:NameIdentifier", a.Subject).CreateAttr("Format", a.NameIDFormat)
	el(subject.CreateElement("saml:SubjectConfirmation"), "saml:ConfirmationMethod", cmBearer11)
}

func authMethod11(classRef string) string {
	switch classRef {
	case AuthnContextPasswordProtectedTransport, AuthnContextPassword:
		return amPassword11
	case AuthnContextUnspecified:
		return amUnspecified1
	}
	return classRef
}
