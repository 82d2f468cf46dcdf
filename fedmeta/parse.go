package fedmeta

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/keyroll/keyroll/internal/xmlsafe"
	"github.com/keyroll/keyroll/jwk"
)

// SigningCert is one published signing certificate.
type SigningCert struct {
	Cert *x509.Certificate
	// Sources says where the certificate was listed, in document order and
	// without repeats: "RoleDescriptor/<xsi:type local name>" (e.g.
	// "RoleDescriptor/SecurityTokenServiceType"; plain "RoleDescriptor" when
	// it has no xsi:type), "IDPSSODescriptor" or "SPSSODescriptor".
	Sources []string
}

// Metadata is what Parse reads from a federation metadata document.
type Metadata struct {
	EntityID      string
	ValidUntil    time.Time     // zero if absent
	CacheDuration time.Duration // 0 if absent
	// Signing lists the signing certificates, deduplicated by DER encoding, in
	// first-seen document order.
	Signing []SigningCert
	// Signed reports that a ds:Signature is a child of the root. It says
	// nothing about validity: use Verify.
	Signed bool
	// PassiveURL is the fed:PassiveRequestorEndpoint address of the first
	// SecurityTokenServiceType RoleDescriptor, if any.
	PassiveURL string
}

// CertError says which published certificate could not be read. It matches
// ErrBadCertificate with errors.Is.
type CertError struct {
	Source string // e.g. "IDPSSODescriptor"
	Index  int    // 1-based position of the KeyDescriptor within Source
	Err    error
}

// Error implements error.
func (e *CertError) Error() string {
	return fmt.Sprintf("%v: %s KeyDescriptor %d: %v", ErrBadCertificate, e.Source, e.Index, e.Err)
}

// Unwrap returns ErrBadCertificate and the underlying error.
func (e *CertError) Unwrap() []error { return []error{ErrBadCertificate, e.Err} }

// Thumbprint returns the certificate thumbprint as AD FS and WIF show it:
// upper-case hex SHA-1 of the DER encoding.
func Thumbprint(c *x509.Certificate) string { return jwk.SHA1Thumbprint(c.Raw) }

// Parse reads federation metadata. See the package documentation for what it
// accepts. A document without signing certificates gives ErrNoSigningCerts;
// one that does not decode or parse gives a *CertError. Parse does not check
// the signature: use Verify on the same bytes for that.
func Parse(data []byte) (*Metadata, error) {
	_, root, err := readDoc(data)
	if err != nil {
		return nil, err
	}
	md := &Metadata{Signed: xmlsafe.Child(root, NSDSig, "Signature") != nil}
	if err := parseRootAttrs(root, md); err != nil {
		return nil, err
	}
	if md.Signing, err = signingCerts(root); err != nil {
		return nil, err
	}
	if len(md.Signing) == 0 {
		return nil, fmt.Errorf("%w: no KeyDescriptor with use=\"signing\" (or no use) "+
			"under RoleDescriptor, IDPSSODescriptor or SPSSODescriptor", ErrNoSigningCerts)
	}
	md.PassiveURL = passiveURL(root)
	return md, nil
}

func parseRootAttrs(root *etree.Element, md *Metadata) error {
	id, _ := xmlsafe.Attr(root, "entityID")
	md.EntityID = strings.TrimSpace(id)
	if md.EntityID == "" {
		return fmt.Errorf("%w: EntityDescriptor has no entityID", ErrMalformed)
	}
	if v, ok := xmlsafe.Attr(root, "validUntil"); ok {
		t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("%w: validUntil %q is not an xs:dateTime with time zone", ErrMalformed, v)
		}
		md.ValidUntil = t
	}
	if v, ok := xmlsafe.Attr(root, "cacheDuration"); ok {
		d, err := parseXSDuration(v)
		if err != nil {
			return fmt.Errorf("%w: cacheDuration: %v", ErrMalformed, err)
		}
		md.CacheDuration = d
	}
	return nil
}

// roleSource names a role descriptor for SigningCert.Sources, or "" if el is
// not one whose keys count.
func roleSource(el *etree.Element) string {
	if el.NamespaceURI() != NSMetadata {
		return ""
	}
	switch el.Tag {
	case "IDPSSODescriptor", "SPSSODescriptor":
		return el.Tag
	case "RoleDescriptor":
		if t, ok := xmlsafe.NSAttr(el, NSXSI, "type"); ok {
			if _, local := xmlsafe.ResolveQName(el, t); local != "" {
				return "RoleDescriptor/" + local
			}
		}
		return "RoleDescriptor"
	}
	return ""
}

func signingCerts(root *etree.Element) ([]SigningCert, error) {
	var out []SigningCert
	for _, role := range root.ChildElements() {
		src := roleSource(role)
		if src == "" {
			continue
		}
		for i, kd := range xmlsafe.Children(role, NSMetadata, "KeyDescriptor") {
			der, err := keyDescriptorDER(kd)
			if err == nil && der != nil {
				out, err = addCert(out, der, src)
			}
			if err != nil {
				return nil, &CertError{Source: src, Index: i + 1, Err: err}
			}
		}
	}
	return out, nil
}

// keyDescriptorDER returns the signing certificate of kd, or nil if kd is an
// encryption key.
func keyDescriptorDER(kd *etree.Element) ([]byte, error) {
	use, present := xmlsafe.Attr(kd, "use")
	switch use = strings.TrimSpace(use); {
	case use == "encryption":
		return nil, nil
	case use != "signing" && present:
		return nil, fmt.Errorf("unknown use %q", use)
	}
	el := xmlsafe.Path(kd, NSDSig, "KeyInfo", NSDSig, "X509Data", NSDSig, "X509Certificate")
	if el == nil {
		return nil, fmt.Errorf("no KeyInfo/X509Data/X509Certificate")
	}
	return decodeBase64(el.Text())
}

// decodeBase64 decodes certificate text, ignoring XML whitespace (line
// breaks, CRLF, indentation) inside it.
func decodeBase64(text string) ([]byte, error) {
	clean := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, text)
	if clean == "" {
		return nil, fmt.Errorf("empty X509Certificate")
	}
	der, err := base64.StdEncoding.Strict().DecodeString(clean)
	if err != nil {
		return nil, fmt.Errorf("X509Certificate is not base64: %v", err)
	}
	return der, nil
}

// decodeCert decodes and parses base64 certificate text.
func decodeCert(text string) (*x509.Certificate, error) {
	der, err := decodeBase64(text)
	if err != nil {
		return nil, err
	}
	return parseDER(der)
}

func parseDER(der []byte) (*x509.Certificate, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("X509Certificate does not parse: %v", err)
	}
	return cert, nil
}

// addCert records that der was listed under src, parsing it only the first
// time it is seen.
func addCert(list []SigningCert, der []byte, src string) ([]SigningCert, error) {
	for i := range list {
		if bytes.Equal(list[i].Cert.Raw, der) {
			if !slices.Contains(list[i].Sources, src) {
				list[i].Sources = append(list[i].Sources, src)
			}
			return list, nil
		}
	}
	cert, err := parseDER(der)
	if err != nil {
		return nil, err
	}
	return append(list, SigningCert{Cert: cert, Sources: []string{src}}), nil
}

// passiveURL returns the WS-Federation passive endpoint of the first
// SecurityTokenServiceType RoleDescriptor.
func passiveURL(root *etree.Element) string {
	for _, role := range xmlsafe.Children(root, NSMetadata, "RoleDescriptor") {
		t, _ := xmlsafe.NSAttr(role, NSXSI, "type")
		if ns, local := xmlsafe.ResolveQName(role, t); ns != NSFed || local != "SecurityTokenServiceType" {
			continue
		}
		addr := xmlsafe.Path(role, NSFed, "PassiveRequestorEndpoint", NSAddressing, "EndpointReference",
			NSAddressing, "Address")
		if addr != nil {
			return strings.TrimSpace(addr.Text())
		}
	}
	return ""
}
