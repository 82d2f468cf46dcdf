package verify

import (
	"context"
	"errors"
	"fmt"

	"github.com/keyroll/keyroll/jws"
)

// Registry verifies tokens of several issuers, each with its own
// [Verifier] and so its own key cache: a token is routed by its iss (and
// tid, for {tenantid} templates) and only ever checked against the keys
// of the issuer it names, which the verifier then checks again after the
// signature. Reading iss before the signature only picks the key set.
type Registry struct {
	exact     map[string]*Verifier
	templates []*Verifier
}

// NewRegistry returns a registry of verifiers with distinct issuers.
func NewRegistry(vs ...*Verifier) (*Registry, error) {
	r := &Registry{exact: make(map[string]*Verifier)}
	seen := make(map[string]bool)
	for _, v := range vs {
		switch {
		case v == nil:
			return nil, errors.New("verify: nil verifier")
		case v.skipIss:
			return nil, errors.New("verify: a verifier without an issuer check cannot be routed to")
		case seen[v.issuer]:
			return nil, fmt.Errorf("verify: issuer %s registered twice", clip(v.issuer))
		}
		seen[v.issuer] = true
		if v.tmpl.ok {
			r.templates = append(r.templates, v)
		} else {
			r.exact[v.issuer] = v
		}
	}
	return r, nil
}

// Lookup returns the verifier for tokens with this iss and tid, or nil.
// Exact issuers win over templates.
func (r *Registry) Lookup(iss, tid string) *Verifier {
	if v, ok := r.exact[iss]; ok {
		return v
	}
	for _, v := range r.templates {
		if v.tmpl.match(v.issuer, iss, tid) {
			return v
		}
	}
	return nil
}

// Verify routes token to its issuer's verifier and verifies it there.
// Tokens that cannot be routed fail with [ErrMalformed],
// [ErrMalformedClaims] or [ErrUnknownIssuer] before any signature check.
func (r *Registry) Verify(ctx context.Context, token string) (*Claims, error) {
	tok, err := jws.Parse(token)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	c := new(Claims)
	if err := scanClaims(payloadString(tok), c); err != nil {
		return nil, err
	}
	v := r.Lookup(c.Issuer, c.TenantID)
	if v == nil {
		return nil, fmt.Errorf("%w: %s", ErrUnknownIssuer, clip(c.Issuer))
	}
	c, err = v.verifyParsed(ctx, tok, c)
	v.record(err)
	return c, err
}
