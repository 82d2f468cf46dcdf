package ops

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keyroll/keyroll/fedmeta"
	"github.com/keyroll/keyroll/jwk"
)

// MaxDocumentSize is the largest document read from a provider or a file:
// 1 MiB, the limit of both the JWKS and the federation metadata parsers.
const MaxDocumentSize = max(jwk.MaxSetSize, fedmeta.MaxSize)

// Kind is the type of a provider document.
type Kind string

// The document kinds Load understands.
const (
	KindJWKS      Kind = "jwks"
	KindDiscovery Kind = "discovery" // OIDC discovery; its jwks_uri holds the keys
	KindMetadata  Kind = "metadata"  // WS-Federation / SAML federation metadata
)

// Errors callers act on.
var (
	// ErrUnknownFormat: the document is none of the kinds above.
	ErrUnknownFormat = errors.New("not a JWKS, an OIDC discovery document or federation metadata")
	// ErrTooLarge: the document is over MaxDocumentSize.
	ErrTooLarge = fmt.Errorf("document is larger than %d bytes", MaxDocumentSize)
)

// Signature is the state of a metadata document's enveloped signature.
// With a pinned signer ([Pin]) it was checked against the pin, and that
// is a trust decision: Pinned is set. Without one it was checked against
// the signing certificates the document itself publishes: that proves the
// document intact, not who wrote it (anyone can sign a document listing
// their own certificate); trust in the content then rests on the TLS
// connection it was fetched over.
type Signature struct {
	Signed  bool   // the document carries a signature
	Valid   bool   // and it verifies (under a pinned certificate when Pinned, else one of its own)
	Pinned  bool   // it was checked against a pinned signer
	Signer  string // SHA-1 thumbprint of the certificate that verified it
	Subject string // that certificate's subject
	Err     string // why it does not verify
}

// String says what the signature shows. Only a signature checked against
// a pinned signer is called valid.
func (s Signature) String() string {
	who := s.Signer
	if s.Subject != "" {
		who += " (" + s.Subject + ")"
	}
	switch {
	case !s.Signed:
		return "unsigned"
	case s.Valid && s.Pinned:
		return "valid, signed by the pinned certificate " + who
	case s.Valid:
		return "signed by " + who + ", a certificate the document itself publishes: " +
			"that shows it intact, not who wrote it (no trust decision; pin the signer with --metadata-signer)"
	}
	return "INVALID: " + s.Err
}

// Published is the signing-key set of one provider.
type Published struct {
	Location  string    // where the keys were read (URL or file)
	Discovery string    // the discovery document that named Location, if any
	Kind      Kind      // KindJWKS or KindMetadata
	Issuer    string    // discovery issuer or metadata entityID
	Keys      []Key     // in document order
	Skipped   []error   // keys the parser left out, with why
	Signature Signature // metadata only
	// ValidUntil is the metadata's validUntil (zero if absent).
	ValidUntil time.Time
	// DeclaredSigner is the kid the provider says signs now (keyroll's
	// discovery member keyroll_signing_kid); empty when it does not say.
	DeclaredSigner string
}

// SkippedSigning returns the keys the parser left out that are published
// for signing (weak, alg mismatch, kid shared by different keys, malformed,
// ...), with why. Keys published for another use (encryption) are not
// signing keys and are left out of it. A relying party that copies the
// published set, or a check of what it trusts, cannot account for these.
func (p *Published) SkippedSigning() []error {
	var out []error
	for _, err := range p.Skipped {
		if !errors.Is(err, jwk.ErrNotForSigning) {
			out = append(out, err)
		}
	}
	return out
}

// Detect says what kind of document data is, from its content.
func Detect(data []byte) (Kind, error) {
	d := trimDoc(data)
	switch {
	case len(d) == 0:
		return "", fmt.Errorf("%w: the document is empty", ErrUnknownFormat)
	case d[0] == '<':
		if looksHTML(d) {
			return "", fmt.Errorf("%w: it is an HTML page", ErrUnknownFormat)
		}
		return KindMetadata, nil
	case d[0] == '{':
		var m map[string]json.RawMessage
		if err := json.Unmarshal(d, &m); err != nil {
			return "", fmt.Errorf("%w: invalid JSON: %v", ErrUnknownFormat, err)
		}
		if _, ok := m["keys"]; ok {
			return KindJWKS, nil
		}
		if _, ok := m["jwks_uri"]; ok {
			return KindDiscovery, nil
		}
		return "", fmt.Errorf(`%w: a JSON object with neither "keys" nor "jwks_uri"`, ErrUnknownFormat)
	}
	return "", ErrUnknownFormat
}

func trimDoc(data []byte) []byte {
	return bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
}

func looksHTML(d []byte) bool {
	head := strings.ToLower(string(d[:min(len(d), 64)]))
	return strings.HasPrefix(head, "<!doctype html") || strings.HasPrefix(head, "<html")
}

// Parse reads a JWKS or a federation metadata document. A discovery
// document is an error here: [Loader.Load] follows its jwks_uri.
func Parse(data []byte, location string) (*Published, error) {
	return ParsePinned(data, location, Pin{})
}

// ParsePinned is Parse with a pinned metadata signer: unless pin is zero,
// the document must be federation metadata whose signature verifies under
// the pin (errors wrap ErrPinNeedsMetadata or ErrPinnedSignerMismatch).
func ParsePinned(data []byte, location string, pin Pin) (*Published, error) {
	if len(data) > MaxDocumentSize {
		return nil, ErrTooLarge
	}
	kind, err := Detect(data)
	if err != nil {
		return nil, err
	}
	switch {
	case kind != KindMetadata && !pin.IsZero():
		return nil, fmt.Errorf("%w; %s is a %s", ErrPinNeedsMetadata, location, kind)
	case kind == KindJWKS:
		return parseJWKS(data, location)
	case kind == KindMetadata:
		return parseMetadata(data, location, pin)
	}
	return nil, fmt.Errorf("%s is an OIDC discovery document: load it to follow its jwks_uri", location)
}

func parseJWKS(data []byte, location string) (*Published, error) {
	keys, skipped, err := jwk.ParseSet(trimDoc(data))
	if err != nil {
		return nil, err
	}
	p := &Published{Location: location, Kind: KindJWKS, Skipped: skipped}
	for _, k := range keys {
		if k.Issuer != "" && p.Issuer == "" {
			p.Issuer = k.Issuer
		}
		p.Keys = append(p.Keys, fromJWK(k))
	}
	return p, nil
}

func parseMetadata(data []byte, location string, pin Pin) (*Published, error) {
	md, err := fedmeta.Parse(data)
	if err != nil {
		return nil, err
	}
	p := &Published{Location: location, Kind: KindMetadata, Issuer: md.EntityID, ValidUntil: md.ValidUntil}
	certs := make([]*x509.Certificate, 0, len(md.Signing))
	for _, s := range md.Signing {
		p.Keys = append(p.Keys, fromCert(s.Cert, s.Sources))
		certs = append(certs, s.Cert)
	}
	p.Signature = Signature{Signed: md.Signed}
	if !pin.IsZero() {
		signer, err := pin.Check(data, certs)
		if err != nil {
			return nil, err
		}
		p.Signature = Signature{Signed: true, Valid: true, Pinned: true,
			Signer: jwk.SHA1Thumbprint(signer.Raw), Subject: signer.Subject.String()}
		return p, nil
	}
	if md.Signed {
		signer, err := fedmeta.Verify(data, certs)
		if err != nil {
			p.Signature.Err = err.Error()
		} else {
			p.Signature.Valid, p.Signature.Signer, p.Signature.Subject = true, jwk.SHA1Thumbprint(signer.Raw), signer.Subject.String()
		}
	}
	return p, nil
}

// discovery is the part of an OIDC discovery document keyroll reads.
type discovery struct {
	Issuer  string `json:"issuer"`
	JWKSURI string `json:"jwks_uri"`
	// SigningKID is the kid keyroll's issuer says it signs with now.
	SigningKID string `json:"keyroll_signing_kid"`
}

func parseDiscovery(data []byte) (discovery, error) {
	var d discovery
	if err := json.Unmarshal(trimDoc(data), &d); err != nil {
		return d, fmt.Errorf("OIDC discovery document: %w", err)
	}
	if strings.TrimSpace(d.JWKSURI) == "" {
		return d, errors.New(`OIDC discovery document has an empty "jwks_uri"`)
	}
	return d, nil
}
