package fedmeta

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// Config describes the metadata keyroll's issuer publishes.
type Config struct {
	EntityID   string              // e.g. "https://issuer.example/" (the issuer URL)
	PassiveURL string              // WS-Federation passive requestor endpoint (fed:PassiveRequestorEndpoint)
	SSOURL     string              // SAML SingleSignOnService (HTTP-Redirect binding); optional
	Certs      []*x509.Certificate // every published signing certificate, in order
	ID         string              // xml ID of EntityDescriptor (the signature references it); generated if empty
	ValidUntil time.Time           // optional
	// CacheDuration, if positive, is written as the cacheDuration attribute
	// (how long relying parties may cache the document).
	CacheDuration time.Duration
}

// MaxEntityIDLen is the SAML 2.0 limit on entityID length.
const MaxEntityIDLen = 1024

var ncName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// Build writes unsigned metadata for cfg: an EntityDescriptor with a
// fed:SecurityTokenServiceType RoleDescriptor listing every certificate as a
// signing KeyDescriptor (plus fed:SecurityTokenServiceEndpoint and
// fed:PassiveRequestorEndpoint when PassiveURL is set) and, when SSOURL is
// set, an IDPSSODescriptor with the same keys and an HTTP-Redirect
// SingleSignOnService. (SAML requires at least one SingleSignOnService in an
// IDPSSODescriptor, so without SSOURL none is written.) Pass the result to Sign.
func Build(cfg Config) ([]byte, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	id := cfg.ID
	if id == "" {
		id = newID()
	}
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="utf-8"`)
	root := doc.CreateElement("EntityDescriptor")
	root.CreateAttr("xmlns", NSMetadata)
	root.CreateAttr("ID", id)
	root.CreateAttr("entityID", cfg.EntityID)
	if !cfg.ValidUntil.IsZero() {
		root.CreateAttr("validUntil", cfg.ValidUntil.UTC().Format(time.RFC3339Nano))
	}
	if cfg.CacheDuration > 0 {
		root.CreateAttr("cacheDuration", formatXSDuration(cfg.CacheDuration))
	}
	addSTSRole(root, cfg)
	if cfg.SSOURL != "" {
		addIDPRole(root, cfg)
	}
	return writeDoc(doc)
}

// writeDoc serializes with tab, CR and LF escaped inside attributes and CR in
// text, so a parser reads back exactly the tree that was signed.
func writeDoc(doc *etree.Document) ([]byte, error) {
	doc.WriteSettings.CanonicalAttrVal = true
	doc.WriteSettings.CanonicalText = true
	return doc.WriteToBytes()
}

func (cfg *Config) validate() error {
	if cfg.EntityID == "" || len(cfg.EntityID) > MaxEntityIDLen || strings.TrimSpace(cfg.EntityID) != cfg.EntityID {
		return fmt.Errorf("fedmeta: EntityID must be 1..%d characters without surrounding space", MaxEntityIDLen)
	}
	fields := []struct{ name, value string }{
		{"EntityID", cfg.EntityID}, {"PassiveURL", cfg.PassiveURL}, {"SSOURL", cfg.SSOURL},
	}
	for i, f := range fields {
		if !xmlSafe(f.value) {
			return fmt.Errorf("fedmeta: %s contains characters XML cannot carry", f.name)
		}
		if i > 0 && f.value != "" {
			if err := checkURL(f.value); err != nil {
				return fmt.Errorf("fedmeta: %s: %w", f.name, err)
			}
		}
	}
	if cfg.ID != "" && !ncName.MatchString(cfg.ID) {
		return fmt.Errorf("fedmeta: ID %q is not an XML NCName", cfg.ID)
	}
	if len(cfg.Certs) == 0 {
		return errors.New("fedmeta: no certificates to publish")
	}
	for i, c := range cfg.Certs {
		if c == nil || len(c.Raw) == 0 {
			return fmt.Errorf("fedmeta: certificate %d is empty", i+1)
		}
	}
	return nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	return nil
}

// xmlSafe reports whether s is valid UTF-8 without control characters (which
// XML either cannot carry or would normalize away in an attribute) or the
// non-characters U+FFFE and U+FFFF.
func xmlSafe(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0xFFFE || r == 0xFFFF {
			return false
		}
	}
	return true
}

// newID returns a fresh xml ID in the "_" + UUID form AD FS and Entra use.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return "_" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func addSTSRole(root *etree.Element, cfg Config) {
	role := root.CreateElement("RoleDescriptor")
	role.CreateAttr("xmlns:xsi", NSXSI)
	role.CreateAttr("xmlns:fed", NSFed)
	role.CreateAttr("xsi:type", "fed:SecurityTokenServiceType")
	role.CreateAttr("protocolSupportEnumeration", NSFed)
	addKeys(role, cfg.Certs)
	if cfg.PassiveURL != "" {
		addEndpoint(role, "fed:SecurityTokenServiceEndpoint", cfg.PassiveURL)
		addEndpoint(role, "fed:PassiveRequestorEndpoint", cfg.PassiveURL)
	}
}

func addIDPRole(root *etree.Element, cfg Config) {
	role := root.CreateElement("IDPSSODescriptor")
	role.CreateAttr("protocolSupportEnumeration", NSSAMLProtocol)
	addKeys(role, cfg.Certs)
	for _, f := range nameIDFormats {
		role.CreateElement("NameIDFormat").SetText(f)
	}
	for _, b := range []string{BindingHTTPRedirect, BindingHTTPPOST} {
		sso := role.CreateElement("SingleSignOnService")
		sso.CreateAttr("Binding", b)
		sso.CreateAttr("Location", cfg.SSOURL)
	}
}

// nameIDFormats are the NameID formats the identity provider issues,
// persistent (its default) first.
var nameIDFormats = []string{
	"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
	"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
	"urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
	"urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
}

func addKeys(role *etree.Element, certs []*x509.Certificate) {
	for _, c := range certs {
		kd := role.CreateElement("KeyDescriptor")
		kd.CreateAttr("use", "signing")
		ki := kd.CreateElement("KeyInfo")
		ki.CreateAttr("xmlns", NSDSig)
		ki.CreateElement("X509Data").CreateElement("X509Certificate").SetText(base64.StdEncoding.EncodeToString(c.Raw))
	}
}

func addEndpoint(role *etree.Element, tag, address string) {
	epr := role.CreateElement(tag).CreateElement("wsa:EndpointReference")
	epr.CreateAttr("xmlns:wsa", NSAddressing)
	epr.CreateElement("wsa:Address").SetText(address)
}
