package saml

import (
	"fmt"
	"time"
)

// Attribute is one attribute (claim) of the subject. Name is written as the
// SAML 2.0 Attribute Name (with the uri NameFormat when it contains a ':',
// basic otherwise); in SAML 1.1 it is split at its last '/' into
// AttributeNamespace and AttributeName, as WIF does.
type Attribute struct {
	Name, FriendlyName string
	Values             []string
}

// Assertion is what the identity provider asserts about a signed-in subject.
type Assertion struct {
	// ID is the assertion's xml ID; generated ("_" + 32 hex digits) if empty.
	ID string
	// Issuer is the identity provider's entity ID.
	Issuer string
	// IssueInstant is when the assertion was made; in a Response, zero takes
	// the Response's.
	IssueInstant time.Time
	// Subject is the NameID value, in NameIDFormat (default unspecified).
	Subject      string
	NameIDFormat string
	// Audience is the relying party's entity ID (or WS-Fed realm).
	Audience string
	// Recipient is the assertion consumer service URL written in the bearer
	// SubjectConfirmationData; in a Response, empty takes its Destination.
	Recipient string
	// InResponseTo is the AuthnRequest ID; in a Response, empty takes its
	// InResponseTo. Empty for IdP-initiated sign-in.
	InResponseTo string
	// NotBefore (optional) and NotOnOrAfter (required) bound the assertion's
	// validity; NotOnOrAfter also bounds the bearer confirmation.
	NotBefore, NotOnOrAfter time.Time
	// SessionIndex names the IdP session (optional).
	SessionIndex string
	// AuthnInstant is when the subject authenticated; zero takes IssueInstant.
	AuthnInstant time.Time
	// AuthnContextClassRef defaults to AuthnContextPasswordProtectedTransport.
	AuthnContextClassRef string
	Attributes           []Attribute
}

// withDefaults fills the defaults and checks what every assertion needs.
func (a Assertion) withDefaults() (Assertion, error) {
	if a.ID == "" {
		a.ID = newID()
	}
	if a.NameIDFormat == "" {
		a.NameIDFormat = NameIDUnspecified
	}
	if a.AuthnContextClassRef == "" {
		a.AuthnContextClassRef = AuthnContextPasswordProtectedTransport
	}
	if a.AuthnInstant.IsZero() {
		a.AuthnInstant = a.IssueInstant
	}
	switch {
	case !isNCName(a.ID):
		return a, fmt.Errorf("%w: assertion ID %q is not an xml NCName", ErrInvalid, a.ID)
	case a.Issuer == "":
		return a, fmt.Errorf("%w: assertion has no Issuer", ErrInvalid)
	case a.Subject == "":
		return a, fmt.Errorf("%w: assertion has no Subject", ErrInvalid)
	case a.Audience == "":
		return a, fmt.Errorf("%w: assertion has no Audience", ErrInvalid)
	case a.IssueInstant.IsZero():
		return a, fmt.Errorf("%w: assertion has no IssueInstant", ErrInvalid)
	case a.NotOnOrAfter.IsZero():
		return a, fmt.Errorf("%w: assertion has no NotOnOrAfter", ErrInvalid)
	case !a.NotBefore.IsZero() && !a.NotBefore.Before(a.NotOnOrAfter):
		return a, fmt.Errorf("%w: NotBefore %s is not before NotOnOrAfter %s", ErrInvalid, xsTime(a.NotBefore), xsTime(a.NotOnOrAfter))
	}
	if err := checkText("Issuer", a.Issuer, "Subject", a.Subject, "NameIDFormat", a.NameIDFormat,
		"Audience", a.Audience, "Recipient", a.Recipient, "InResponseTo", a.InResponseTo,
		"SessionIndex", a.SessionIndex, "AuthnContextClassRef", a.AuthnContextClassRef); err != nil {
		return a, err
	}
	for _, at := range a.Attributes {
		if at.Name == "" {
			return a, fmt.Errorf("%w: attribute with no Name", ErrInvalid)
		}
		if err := checkText("attribute Name", at.Name, "attribute FriendlyName", at.FriendlyName); err != nil {
			return a, err
		}
		for _, v := range at.Values {
			if err := checkText("value of attribute "+at.Name, v); err != nil {
				return a, err
			}
		}
	}
	return a, nil
}
