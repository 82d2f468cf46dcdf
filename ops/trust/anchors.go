// Package trust compares what a relying party trusts with what its identity
// provider publishes, and says whether sign-in is OK, AT RISK or BROKEN.
//
// What the relying party trusts is read by [Read] from a thumbprint list, a
// PEM or .cer certificate bundle, a Web.config issuerNameRegistry, or a
// JWKS or federation metadata snapshot; [Check] matches it against a
// published set.
package trust

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/keyroll/keyroll/jwk"
	"github.com/keyroll/keyroll/ops"
	"github.com/keyroll/keyroll/ops/webconfig"
)

// MaxInputSize is the largest file of trusted keys read.
const MaxInputSize = ops.MaxDocumentSize

// ErrEmpty: the input names no trusted key at all.
var ErrEmpty = errors.New("no trusted key found in the input")

// Anchor is one key the relying party trusts, known by whatever the input
// gives: a thumbprint, a certificate, a public key.
type Anchor struct {
	SHA1          string           // certificate SHA-1, upper-case hex
	SHA256        string           // certificate SHA-256, upper-case hex
	JWKThumbprint string           // RFC 7638
	Public        crypto.PublicKey // when a certificate or JWK was given
	Label         string           // issuer name, subject or kid
	Origin        string           // where it was read: "Web.config line 115", ...
}

// Name is the anchor's most specific identifier, for display.
func (a Anchor) Name() string {
	switch {
	case a.SHA1 != "":
		return a.SHA1
	case a.SHA256 != "":
		return a.SHA256
	}
	return "jwk:" + a.JWKThumbprint
}

// Matches reports whether the anchor stands for the published key k: by
// certificate thumbprint, RFC 7638 thumbprint or equal public key.
func (a Anchor) Matches(k ops.Key) bool {
	switch {
	case a.SHA1 != "" && a.SHA1 == k.Thumbprint,
		a.SHA256 != "" && a.SHA256 == k.SHA256,
		a.JWKThumbprint != "" && a.JWKThumbprint == k.JWKThumbprint:
		return true
	}
	eq, ok := a.Public.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Public != nil && eq.Equal(k.Public)
}

// Read returns the anchors in a file's content, detecting its kind: a
// Web.config (XML with an issuerNameRegistry), federation metadata (other
// XML), a JWKS (JSON), a PEM bundle, a DER or base64 .cer certificate, or
// else a thumbprint list. name labels the anchors' Origin.
func Read(data []byte, name string) ([]Anchor, error) {
	if len(data) > MaxInputSize {
		return nil, fmt.Errorf("%s: %w", name, ops.ErrTooLarge)
	}
	d := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	var anchors []Anchor
	var err error
	switch {
	case len(d) == 0:
		return nil, fmt.Errorf("%s: %w (the file is empty)", name, ErrEmpty)
	case d[0] == '<' && bytes.Contains(d, []byte("issuerNameRegistry")):
		anchors, err = fromWebConfig(data, name)
	case d[0] == '<' || d[0] == '{':
		anchors, err = fromSnapshot(data, name)
	case bytes.Contains(d, []byte("-----BEGIN")) || ops.IsDER(data):
		anchors, err = fromCerts(data, name)
	default:
		if _, ok := ops.Base64Cert(d); ok {
			anchors, err = fromCerts(d, name)
		} else {
			anchors, err = ParseThumbprints(string(d), name)
		}
	}
	if err != nil {
		return nil, err
	}
	if len(anchors) == 0 {
		return nil, fmt.Errorf("%s: %w", name, ErrEmpty)
	}
	return anchors, nil
}

func fromWebConfig(data []byte, name string) ([]Anchor, error) {
	cfg, err := webconfig.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var out []Anchor
	for _, e := range cfg.Entries {
		origin := fmt.Sprintf("%s line %d", name, e.Line)
		if len(e.Thumbprint) != 40 {
			return nil, &LineError{Line: e.Line, Text: shorten(e.Raw), Err: fmt.Errorf("Web.config thumbprint: %w", ErrNotThumbprint)}
		}
		out = append(out, Anchor{SHA1: e.Thumbprint, Label: e.Issuer, Origin: origin})
	}
	return out, nil
}

func fromSnapshot(data []byte, name string) ([]Anchor, error) {
	p, err := ops.Parse(data, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var out []Anchor
	for _, k := range p.Keys {
		label := k.Subject
		if label == "" {
			label = "kid " + k.KID
		}
		out = append(out, Anchor{SHA1: k.Thumbprint, SHA256: k.SHA256, JWKThumbprint: k.JWKThumbprint, Public: k.Public, Label: label, Origin: name})
	}
	return out, nil
}

func fromCerts(data []byte, name string) ([]Anchor, error) {
	certs, err := ops.ReadCertificates(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	out := make([]Anchor, len(certs))
	for i, c := range certs {
		origin := name
		if len(certs) > 1 {
			origin = fmt.Sprintf("%s #%d", name, i+1)
		}
		out[i] = certAnchor(c, origin)
	}
	return out, nil
}

func certAnchor(c *x509.Certificate, origin string) Anchor {
	jt, _ := jwk.Thumbprint(c.PublicKey)
	return Anchor{SHA1: jwk.SHA1Thumbprint(c.Raw), SHA256: jwk.SHA256Thumbprint(c.Raw), JWKThumbprint: jt,
		Public: c.PublicKey, Label: c.Subject.String(), Origin: origin}
}
