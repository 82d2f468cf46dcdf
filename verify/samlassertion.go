package verify

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unsafe"
)

const samlBearer = "urn:oasis:names:tc:SAML:2.0:cm:bearer"

// readAssertion reads and checks a verified assertion: version, issuer,
// subject and its bearer confirmation, conditions, then the statements.
// Every string it returns, in the assertion or an error, is a copy: the
// tree's are the caller's document.
func (v *SAMLVerifier) readAssertion(el *xnode, now time.Time, inResponseTo string, kind samlKind) (*Assertion, error) {
	var ar strArena
	a := &Assertion{ID: ar.str(attr(el, "ID"))}
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
		return nil, &IssuerError{Got: strings.Clone(a.Issuer), Want: v.cfg.Issuer}
	}
	a.Issuer = v.cfg.Issuer
	if err := v.subject(el, a, now, inResponseTo, kind, &ar); err != nil {
		return nil, err
	}
	if err := v.conditions(el, a, now, &ar); err != nil {
		return nil, err
	}
	return a, v.statements(el, a, &ar)
}

// strArena copies strings out of the tree into shared blocks: one
// allocation for the usual assertion instead of one per string.
type strArena []byte

func (ar *strArena) str(s string) string {
	if s == "" {
		return ""
	}
	if len(*ar)+len(s) > cap(*ar) {
		*ar = make([]byte, 0, max(512, len(s)))
	}
	start := len(*ar)
	*ar = append(*ar, s...)
	return unsafe.String(&(*ar)[start], len(s))
}

// subject reads NameID and requires a bearer SubjectConfirmation whose data
// holds now, for this recipient and request.
func (v *SAMLVerifier) subject(el *xnode, a *Assertion, now time.Time, inResponseTo string, kind samlKind, ar *strArena) error {
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
		a.Subject, a.SubjectFormat = ar.str(a.Subject), ar.str(attr(id, "Format"))
	}
	var why error = ErrSAMLSubjectConfirmation
	for sc := sub.first; sc != nil; sc = sc.next {
		if !sc.is(nsSAML, "SubjectConfirmation") || attr(sc, "Method") != samlBearer {
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
func (v *SAMLVerifier) conditions(el *xnode, a *Assertion, now time.Time, ar *strArena) error {
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
	restrictions := 0
	for r := c.first; r != nil; r = r.next {
		if !r.is(nsSAML, "AudienceRestriction") {
			continue
		}
		restrictions++
		mark, ok := len(a.Audiences), false
		for au := r.first; au != nil; au = au.next {
			if !au.is(nsSAML, "Audience") {
				continue
			}
			s, err := text(au)
			if err != nil {
				return err
			}
			a.Audiences = append(a.Audiences, ar.str(s))
			ok = ok || slices.Contains(v.cfg.Audience, s)
		}
		if !ok {
			return &AudienceError{Got: a.Audiences[mark:]}
		}
	}
	if restrictions == 0 {
		return &AudienceError{}
	}
	return nil
}

// statements reads the session index and the attributes.
func (v *SAMLVerifier) statements(el *xnode, a *Assertion, ar *strArena) error {
	if as, err := child(el, nsSAML, "AuthnStatement"); err != nil {
		return err
	} else if as != nil {
		a.SessionIndex = ar.str(attr(as, "SessionIndex"))
	}
	var values []string // every value, one allocation; each attribute's a capped slice of it
	for st := el.first; st != nil; st = st.next {
		if !st.is(nsSAML, "AttributeStatement") {
			continue
		}
		for at := st.first; at != nil; at = at.next {
			if !at.is(nsSAML, "Attribute") {
				continue
			}
			name := attr(at, "Name")
			if a.Attributes == nil {
				a.Attributes = map[string][]string{}
				values = make([]string, 0, attributeValues(el))
			}
			start := len(values)
			for val := at.first; val != nil; val = val.next {
				if !val.is(nsSAML, "AttributeValue") {
					continue
				}
				s, err := text(val)
				if err != nil {
					return err
				}
				values = append(values, ar.str(s))
			}
			if len(values) == start {
				continue
			}
			vals := values[start:len(values):len(values)]
			if prev, seen := a.Attributes[name]; seen {
				a.Attributes[name] = append(prev, vals...)
			} else {
				a.Attributes[ar.str(name)] = vals
			}
		}
	}
	return nil
}

// attributeValues counts the AttributeValue elements of el's attribute
// statements.
func attributeValues(el *xnode) int {
	n := 0
	for st := el.first; st != nil; st = st.next {
		if !st.is(nsSAML, "AttributeStatement") {
			continue
		}
		for at := st.first; at != nil; at = at.next {
			if !at.is(nsSAML, "Attribute") {
				continue
			}
			for val := at.first; val != nil; val = val.next {
				if val.is(nsSAML, "AttributeValue") {
					n++
				}
			}
		}
	}
	return n
}

// samlTime parses an xs:dateTime in UTC. The usual form,
// 2006-01-02T15:04:05Z, is read directly; anything else as RFC 3339.
func samlTime(s string) (time.Time, error) {
	if t, ok := samlTimeZ(s); ok {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: time %s", ErrSAMLMalformed, clip(s))
	}
	return t, nil
}

// samlTimeZ reads exactly YYYY-MM-DDTHH:MM:SSZ with every field in range,
// as time.Parse would; ok is false for anything else.
func samlTimeZ(s string) (time.Time, bool) {
	if len(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z' {
		return time.Time{}, false
	}
	var f [6]int
	for i, at := range [6]int{0, 5, 8, 11, 14, 17} {
		n := 2
		if i == 0 {
			n = 4
		}
		for _, c := range []byte(s[at : at+n]) {
			if c < '0' || c > '9' {
				return time.Time{}, false
			}
			f[i] = f[i]*10 + int(c-'0')
		}
	}
	y, mo, d, h, mi, sec := f[0], f[1], f[2], f[3], f[4], f[5]
	if mo < 1 || mo > 12 || d < 1 || d > 28 && d > time.Date(y, time.Month(mo)+1, 0, 0, 0, 0, 0, time.UTC).Day() || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC), true
}
