package fedmeta

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/keyroll/keyroll/jwk"
)

// ErrPinnedSignerMismatch: a metadata signer is pinned and the document is
// unsigned, or signed by another key, or its signature does not verify.
// Nothing from it may be used.
var ErrPinnedSignerMismatch = errors.New("metadata is not signed by the pinned signer")

// Pin names who may sign a provider's metadata: certificates, and SHA-1 or
// SHA-256 thumbprints of a certificate the document itself publishes. A
// document is accepted only when its enveloped signature verifies under one
// of them. The zero Pin pins nothing.
type Pin struct {
	Certs       []*x509.Certificate
	Thumbprints []string // upper-case hex, 40 (SHA-1) or 64 (SHA-256) digits
}

// IsZero reports whether p pins nothing.
func (p Pin) IsZero() bool { return len(p.Certs) == 0 && len(p.Thumbprints) == 0 }

// String lists what is pinned, certificates by SHA-1 thumbprint.
func (p Pin) String() string {
	var out []string
	for _, c := range p.Certs {
		out = append(out, jwk.SHA1Thumbprint(c.Raw))
	}
	out = append(out, p.Thumbprints...)
	return strings.Join(out, ", ")
}

// matches reports whether cert is pinned by certificate or thumbprint.
func (p Pin) matches(cert *x509.Certificate) bool {
	for _, c := range p.Certs {
		if c.Equal(cert) {
			return true
		}
	}
	s1, s256 := sha1.Sum(cert.Raw), sha256.Sum256(cert.Raw)
	h1, h256 := strings.ToUpper(hex.EncodeToString(s1[:])), strings.ToUpper(hex.EncodeToString(s256[:]))
	for _, tp := range p.Thumbprints {
		if tp == h1 || tp == h256 {
			return true
		}
	}
	return false
}

// trusted returns the certificates a document may be signed with: the
// pinned certificates and those of doc whose thumbprint is pinned.
func (p Pin) trusted(doc []*x509.Certificate) []*x509.Certificate {
	out := append([]*x509.Certificate(nil), p.Certs...)
	for _, c := range doc {
		if len(p.Thumbprints) > 0 && p.matches(c) {
			out = append(out, c)
		}
	}
	return out
}

// Check verifies data's enveloped signature against p with [Verify]; doc
// are the certificates the document publishes (where thumbprint pins are
// looked up; the signature's own KeyInfo never is). It returns the pinned
// certificate that signed it, or an error wrapping ErrPinnedSignerMismatch
// that says what is wrong.
func (p Pin) Check(data []byte, doc []*x509.Certificate) (*x509.Certificate, error) {
	trusted := p.trusted(doc)
	if len(trusted) == 0 {
		return nil, fmt.Errorf("%w (%s): the document publishes no certificate with a pinned thumbprint", ErrPinnedSignerMismatch, p)
	}
	signer, err := Verify(data, trusted)
	switch {
	case errors.Is(err, ErrNoSignature):
		return nil, fmt.Errorf("%w (%s): the document is unsigned (%w)", ErrPinnedSignerMismatch, p, err)
	case err != nil:
		return nil, fmt.Errorf("%w (%s): %w", ErrPinnedSignerMismatch, p, err)
	}
	return signer, nil
}
