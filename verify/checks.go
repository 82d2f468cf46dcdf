package verify

import (
	"fmt"
	"slices"
	"time"
)

// checkClaims runs after the signature verified: iss (and the key's own
// issuer), aud, then the times.
func (v *Verifier) checkClaims(c *Claims, e *keyEntry, now time.Time) error {
	if err := v.checkIssuer(c, e); err != nil {
		return err
	}
	if err := v.checkAudience(c); err != nil {
		return err
	}
	return v.checkTimes(c, now)
}

func (v *Verifier) checkIssuer(c *Claims, e *keyEntry) error {
	if !v.skipIss {
		if c.present&clIss == 0 {
			return fmt.Errorf("%w: iss", ErrMissingClaim)
		}
		if !v.tmpl.match(v.issuer, c.Issuer, c.TenantID) {
			return &IssuerError{Got: c.Issuer, Want: v.issuer}
		}
		if len(v.tenants) > 0 && !slices.Contains(v.tenants, c.TenantID) {
			return &IssuerError{Got: c.Issuer, Want: v.issuer + " for an allowed tenant"}
		}
	}
	if ki := e.key.Issuer; ki != "" && !parseTemplate(ki).match(ki, c.Issuer, c.TenantID) {
		return &IssuerError{Got: c.Issuer, Want: ki, KeyID: e.key.KID}
	}
	return nil
}

func (v *Verifier) checkAudience(c *Claims) error {
	if v.skipAud {
		return nil
	}
	for _, got := range c.Audience {
		if slices.Contains(v.auds, got) {
			return nil
		}
	}
	return &AudienceError{Got: slices.Clone(c.Audience)}
}

// checkTimes requires exp and checks exp, nbf and iat with the skew.
func (v *Verifier) checkTimes(c *Claims, now time.Time) error {
	if c.present&clExp == 0 {
		return fmt.Errorf("%w: exp", ErrMissingClaim)
	}
	if !now.Before(c.Expiry.Add(v.skew)) {
		return &ExpiredError{Expiry: c.Expiry, Now: now}
	}
	late := now.Add(v.skew)
	if c.present&clNbf != 0 && late.Before(c.NotBefore) {
		return &NotYetValidError{Claim: "nbf", At: c.NotBefore, Now: now}
	}
	if c.present&clIat != 0 && late.Before(c.IssuedAt) {
		return &NotYetValidError{Claim: "iat", At: c.IssuedAt, Now: now}
	}
	return nil
}
