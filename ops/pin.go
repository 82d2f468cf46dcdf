package ops

import (
	"errors"
	"fmt"

	"github.com/keyroll/keyroll/fedmeta"
	"github.com/keyroll/keyroll/lifecycle"
)

// Errors of pinned metadata trust.
var (
	// ErrPinnedSignerMismatch: a metadata signer is pinned and the document
	// is unsigned, or signed by another key, or its signature does not
	// verify. Nothing from it is used.
	ErrPinnedSignerMismatch = fedmeta.ErrPinnedSignerMismatch
	// ErrPinNeedsMetadata: a metadata signer is pinned for a source that
	// is not federation metadata (a JWKS cannot carry a signature).
	ErrPinNeedsMetadata = errors.New("a pinned metadata signer needs federation metadata")
)

// Pin names who may sign a provider's federation metadata (see
// [fedmeta.Pin]). The zero Pin pins nothing: a document's signature is then
// checked against its own certificates, which shows it intact but decides
// no trust.
type Pin = fedmeta.Pin

// AddPinSpec adds one --metadata-signer value to p: a SHA-1 or SHA-256
// thumbprint (hex, any case, spaces or colons allowed), or else the path
// of a file of certificates (PEM, DER or base64 .cer), read with read.
func AddPinSpec(p *Pin, spec string, read func(string) ([]byte, error)) error {
	if tp := lifecycle.NormalizeThumbprint(spec); len(tp) == 40 || len(tp) == 64 {
		p.Thumbprints = append(p.Thumbprints, tp)
		return nil
	}
	data, err := read(spec)
	if err != nil {
		return fmt.Errorf("metadata signer %q is neither a SHA-1/SHA-256 thumbprint nor a readable certificate file: %w", spec, err)
	}
	certs, err := ReadCertificates(data)
	if err != nil {
		return fmt.Errorf("metadata signer %s: %w", spec, err)
	}
	p.Certs = append(p.Certs, certs...)
	return nil
}
