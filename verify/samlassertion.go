package verify

import (
	"fmt"
	"slices"
	"time"
)

const samlBearer = "urn:oasis:names:tc:SAML:2.0:cm:bearer"

// readAssertion reads and checks a verified assertion: version, issuer,
// subject and its bearer confirmation, conditions, then the statements.
func (v *SAMLVerifier) readAssertion(el *xnode, now time.Time, inResponseTo string, kind samlKind) (*Assertion, error) {
	a := &Assertion{ID: attr(el, "ID")}
	if attr(el, "Version") != "2.0" || a.ID == "" {
		return nil, fmt.Errorf("%w: assertion Version or ID", ErrSAMLMalformed)
	}
	var err error
	if a.IssueInstant, err = samlTime(attr(el, "IssueInstant")); err != nil {
		return nil, err
	}
	iss, err := child(el, nsSAML, "Issuer")
	if err != nil || iss == nil {
		return nil, fmt.Errorf("%w: assertion Issuer", ErrSAMLMalformed)
	}
	if a.Issuer, err = text(iss); err != nil {
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
func (v *SAMLVerifier) subject(el *xnode, a *Assertion, now time.Time, inResponseTo string, kind samlKind) error {
	sub, err := child(el, nsSAML, "Subject")
	if err != nil || sub == nil {
		return fmt.Errorf("%w: assertion Subject", ErrSAMLMalformed)
	}
	if id, err := child(sub, nsSAML, "NameID"); err != nil {
		return err
	} else if id != nil {
		if a.Subject, err = text(id); err != nil {
			return err
		}
		a.SubjectFormat = attr(id, "Format")
	}
	var why error = ErrSAMLSubjectConfirmation
	for _, sc := range children(sub, nsSAML, "SubjectConfirmation") {
		if attr(sc, "Method") != samlBearer {
			continue
		}
		data, err := child(sc, nsSAML, "SubjectConfirmationData")
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
func (v *SAMLVerifier) bearer(data *xnode, now time.Time, inResponseTo string, kind samlKind) error {
	if data == nil {
		if kind == kindWSFed { // WS-Fed bearer tokens carry only Conditions
			return nil
		}
		return fmt.Errorf("%w: no SubjectConfirmationData", ErrSAMLSubjectConfirmation)
	}
	if nb := attr(data, "NotBefore"); nb != "" {
		return fmt.Errorf("%w: a bearer confirmation must not carry NotBefore", ErrSAMLSubjectConfirmation)
	}
	noa, err := samlTime(attr(data, "NotOnOrAfter"))
	switch {
	case err != nil && kind == kindResponse:
		return fmt.Errorf("%w: NotOnOrAfter is required", ErrSAMLSubjectConfirmation)
	case err == nil && !now.Before(noa.Add(v.cfg.Skew)):
		return &ExpiredError{Expiry: noa, Now: now}
	}
	if r := attr(data, "Recipient"); v.cfg.Recipient != "" && r != v.cfg.Recipient {
		return fmt.Errorf("%w: Recipient %s", ErrSAMLRecipient, clip(r))
	}
	if irt := attr(data, "InResponseTo"); irt != inResponseTo {
		return fmt.Errorf("%w: confirmation answers %s, expected %s", ErrSAMLInResponseTo, clip(irt), clip(inResponseTo))
	}
	return nil
}

// conditions checks NotBefore/NotOnOrAfter (required) with the skew and
// that every AudienceRestriction names an accepted audience.
func (v *SAMLVerifier) conditions(el *xnode, a *Assertion, now time.Time) error {
	c, err := child(el, nsSAML, "Conditions")
	if err != nil || c == nil {
		return fmt.Errorf("%w: assertion Conditions", ErrSAMLMalformed)
	}
	if a.NotOnOrAfter, err = samlTime(attr(c, "NotOnOrAfter")); err != nil {
		return fmt.Errorf("%w: Conditions NotOnOrAfter is required", ErrSAMLMalformed)
	}
	if nb := attr(c, "NotBefore"); nb != "" {
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
	restrictions := children(c, nsSAML, "AudienceRestriction")
	if len(restrictions) == 0 {
		return &AudienceError{}
	}
	for _, r := range restrictions {
		var got []string
		ok := false
		for _, au := range children(r, nsSAML, "Audience") {
			s, err := text(au)
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
func (v *SAMLVerifier) statements(el *xnode, a *Assertion) error {
	if as, err := child(el, nsSAML, "AuthnStatement"); err != nil {
		return err
	} else if as != nil {
		a.SessionIndex = attr(as, "SessionIndex")
	}
	for _, st := range children(el, nsSAML, "AttributeStatement") {
		for _, at := range children(st, nsSAML, "Attribute") {
			name := attr(at, "Name")
			if a.Attributes == nil {
				a.Attributes = map[string][]string{}
			}
			for _, val := range children(at, nsSAML, "AttributeValue") {
				s, err := text(val)
				if err != nil {
					return err
				}
				a.Attributes[name] = append(a.Attributes[name], s)
			}
		}
	}
	return nil
}

// samlTime parses an xs:dateTime in UTC.
func samlTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: time %s", ErrSAMLMalformed, clip(s))
	}
	return t, nil
}
