package saml

import (
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/beevik/etree"

	"github.com/keyroll/keyroll/internal/xmlsafe"
)

// Endpoint is an AssertionConsumerService of an SP.
type Endpoint struct {
	Binding, Location string
	Index             int
	IsDefault         bool
}

// SPMetadata is what ParseSPMetadata reads from an SP's EntityDescriptor.
type SPMetadata struct {
	EntityID string
	// ACS lists the AssertionConsumerService endpoints in document order.
	ACS []Endpoint
	// SigningCerts are the KeyDescriptors with use="signing" or no use, in
	// document order, without repeats.
	SigningCerts         []*x509.Certificate
	AuthnRequestsSigned  bool
	WantAssertionsSigned bool
	NameIDFormats        []string
}

// ParseSPMetadata reads SP metadata: an EntityDescriptor (not an
// EntitiesDescriptor aggregate) with an SPSSODescriptor supporting the SAML
// 2.0 protocol, of which the first is read. Its signature, if any, is not
// checked. Every KeyDescriptor read must hold a parsable X509Certificate;
// encryption keys are skipped.
func ParseSPMetadata(data []byte) (*SPMetadata, error) {
	root, err := readXML(data, xmlsafe.Limits{MaxSize: MaxMetadataSize}, NSMetadata, "EntityDescriptor")
	if err != nil {
		return nil, err
	}
	md := &SPMetadata{}
	id, _ := xmlsafe.Attr(root, "entityID")
	if md.EntityID = strings.TrimSpace(id); md.EntityID == "" {
		return nil, fmt.Errorf("%w: EntityDescriptor has no entityID", ErrMalformed)
	}
	var sp *etree.Element
	for _, d := range xmlsafe.Children(root, NSMetadata, "SPSSODescriptor") {
		if p, _ := xmlsafe.Attr(d, "protocolSupportEnumeration"); slices.Contains(strings.Fields(p), NSProtocol) {
			sp = d
			break
		}
	}
	if sp == nil {
		return nil, fmt.Errorf("%w: no SPSSODescriptor with protocolSupportEnumeration %s", ErrMalformed, NSProtocol)
	}
	if md.AuthnRequestsSigned, err = xsBool("AuthnRequestsSigned", sp); err != nil {
		return nil, err
	}
	if md.WantAssertionsSigned, err = xsBool("WantAssertionsSigned", sp); err != nil {
		return nil, err
	}
	if md.SigningCerts, err = signingCerts(sp); err != nil {
		return nil, err
	}
	for _, f := range xmlsafe.Children(sp, NSMetadata, "NameIDFormat") {
		md.NameIDFormats = append(md.NameIDFormats, strings.TrimSpace(f.Text()))
	}
	if md.ACS, err = endpoints(sp); err != nil {
		return nil, err
	}
	return md, nil
}

func endpoints(sp *etree.Element) ([]Endpoint, error) {
	var out []Endpoint
	for i, e := range xmlsafe.Children(sp, NSMetadata, "AssertionConsumerService") {
		get := func(k string) string { v, _ := xmlsafe.Attr(e, k); return strings.TrimSpace(v) }
		ep := Endpoint{Binding: get("Binding"), Location: get("Location")}
		if ep.Binding == "" || ep.Location == "" {
			return nil, fmt.Errorf("%w: AssertionConsumerService %d has no Binding or Location", ErrMalformed, i+1)
		}
		idx, err := strconv.ParseUint(get("index"), 10, 16)
		if err != nil {
			return nil, fmt.Errorf("%w: AssertionConsumerService %d: index %q is not an unsignedShort", ErrMalformed, i+1, get("index"))
		}
		ep.Index = int(idx)
		if ep.IsDefault, err = xsBool("isDefault", e); err != nil {
			return nil, err
		}
		out = append(out, ep)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: SPSSODescriptor has no AssertionConsumerService", ErrMalformed)
	}
	return out, nil
}

func signingCerts(sp *etree.Element) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for i, kd := range xmlsafe.Children(sp, NSMetadata, "KeyDescriptor") {
		use, present := xmlsafe.Attr(kd, "use")
		switch use = strings.TrimSpace(use); {
		case use == "encryption":
			continue
		case present && use != "signing":
			return nil, fmt.Errorf("%w: KeyDescriptor %d: unknown use %q", ErrMalformed, i+1, use)
		}
		x := xmlsafe.Path(kd, NSDSig, "KeyInfo", NSDSig, "X509Data", NSDSig, "X509Certificate")
		if x == nil {
			return nil, fmt.Errorf("%w: KeyDescriptor %d has no KeyInfo/X509Data/X509Certificate", ErrMalformed, i+1)
		}
		der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(x.Text()), ""))
		if err != nil {
			return nil, fmt.Errorf("%w: KeyDescriptor %d: X509Certificate is not base64: %v", ErrMalformed, i+1, err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("%w: KeyDescriptor %d: X509Certificate does not parse: %v", ErrMalformed, i+1, err)
		}
		if !slices.ContainsFunc(out, cert.Equal) {
			out = append(out, cert)
		}
	}
	return out, nil
}
