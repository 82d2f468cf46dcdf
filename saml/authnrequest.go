package saml

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/keyroll/keyroll/internal/xmlsafe"
)

// AuthnRequest is what the identity provider reads from a samlp:AuthnRequest.
// The caller checks Issuer against its registered SPs, Destination against
// its own URL and the assertion consumer service against the SP's metadata.
type AuthnRequest struct {
	ID, Issuer, Destination     string
	AssertionConsumerServiceURL string
	ProtocolBinding             string
	// NameIDFormat is NameIDPolicy's Format, if any.
	NameIDFormat string
	// AssertionConsumerServiceIndex is set when the request names the ACS by
	// index instead of URL (the two are mutually exclusive).
	AssertionConsumerServiceIndex *int
	IssueInstant                  time.Time
	ForceAuthn, IsPassive         bool
	// Signed reports that a signature over the request verified under one
	// of the given certificates.
	Signed bool
}

// requestLimits bound an AuthnRequest's XML; real ones have a few dozen
// elements and nest five deep.
var requestLimits = xmlsafe.Limits{MaxSize: MaxRequestSize, MaxDepth: 32, MaxElements: 2000}

// readAuthnRequest reads the fields of the samlp:AuthnRequest element root.
func readAuthnRequest(root *etree.Element) (*AuthnRequest, error) {
	if !xmlsafe.Is(root, NSProtocol, "AuthnRequest") {
		return nil, fmt.Errorf("%w: root element is %s, want {%s}AuthnRequest", ErrMalformed, xmlsafe.Describe(root), NSProtocol)
	}
	get := func(k string) string { v, _ := xmlsafe.Attr(root, k); return strings.TrimSpace(v) }
	r := &AuthnRequest{
		ID:                          get("ID"),
		Destination:                 get("Destination"),
		AssertionConsumerServiceURL: get("AssertionConsumerServiceURL"),
		ProtocolBinding:             get("ProtocolBinding"),
	}
	if v := get("Version"); v != samlVersion20 {
		return nil, fmt.Errorf("%w: AuthnRequest Version %q, want 2.0", ErrMalformed, v)
	}
	if !isNCName(r.ID) {
		return nil, fmt.Errorf("%w: AuthnRequest ID %q is not an xml NCName", ErrMalformed, r.ID)
	}
	var err error
	if r.IssueInstant, err = parseTime("IssueInstant", get("IssueInstant")); err != nil {
		return nil, err
	}
	if r.ForceAuthn, err = xsBool("ForceAuthn", root); err != nil {
		return nil, err
	}
	if r.IsPassive, err = xsBool("IsPassive", root); err != nil {
		return nil, err
	}
	if v, ok := xmlsafe.Attr(root, "AssertionConsumerServiceIndex"); ok {
		i, err := strconv.ParseUint(strings.TrimSpace(v), 10, 16)
		if err != nil {
			return nil, fmt.Errorf("%w: AssertionConsumerServiceIndex %q is not an unsignedShort", ErrMalformed, v)
		}
		if r.AssertionConsumerServiceURL != "" || r.ProtocolBinding != "" {
			return nil, fmt.Errorf("%w: AssertionConsumerServiceIndex together with AssertionConsumerServiceURL or ProtocolBinding", ErrMalformed)
		}
		n := int(i)
		r.AssertionConsumerServiceIndex = &n
	}
	issuers := xmlsafe.Children(root, NSAssertion, "Issuer")
	if len(issuers) > 1 {
		return nil, fmt.Errorf("%w: %d Issuer elements", ErrMalformed, len(issuers))
	}
	if len(issuers) == 1 {
		r.Issuer = strings.TrimSpace(issuers[0].Text())
	}
	if p := xmlsafe.Child(root, NSProtocol, "NameIDPolicy"); p != nil {
		f, _ := xmlsafe.Attr(p, "Format")
		r.NameIDFormat = strings.TrimSpace(f)
	}
	return r, nil
}

// xsBool reads an optional xs:boolean attribute.
func xsBool(key string, e *etree.Element) (bool, error) {
	v, ok := xmlsafe.Attr(e, key)
	switch strings.TrimSpace(v) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	if !ok {
		return false, nil
	}
	return false, fmt.Errorf("%w: %s %q is not an xs:boolean", ErrMalformed, key, v)
}
