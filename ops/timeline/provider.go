package timeline

import (
	"crypto/x509"
	"errors"
	"time"

	"github.com/keyroll/keyroll/jwk"
	"github.com/keyroll/keyroll/ops"
)

// ErrNoCertificate: the provider publishes no key with a certificate, so
// there are no dates to work from.
var ErrNoCertificate = errors.New("the provider publishes no certificate (only bare keys): there are no dates to work from; use --cert")

// CertOf describes a certificate.
func CertOf(c *x509.Certificate) Cert {
	return Cert{Subject: c.Subject.String(), Thumbprint: jwk.SHA1Thumbprint(c.Raw), NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC()}
}

// ForProvider returns the timeline of the certificate p signs with now (see
// ops.Published.Signer; hint names it), and how it was chosen. When no
// signer can be told (every certificate expired), the newest certificate is
// used; a hint that names no published key is an error wrapping
// ops.ErrSignerNotPublished. A certificate newer than the signer is taken as the published next
// one: its NotBefore is the observed generation date.
func ForProvider(p *ops.Published, opt Options, now time.Time, hint string) (Timeline, string, error) {
	if err := p.CheckHint(hint); err != nil {
		return Timeline{}, "", err
	}
	g := p.Signer(opt.Policy, now, hint)
	method := g.Method
	var signer ops.Key
	switch {
	case g.Known() && p.Keys[g.Index].HasCert():
		signer = p.Keys[g.Index]
	default:
		latest, ok := ops.Latest(p.Keys)
		if !ok {
			return Timeline{}, method, ErrNoCertificate
		}
		signer, method = latest, method+"; showing the newest certificate"
	}
	for _, k := range p.Keys {
		if k.HasCert() && k.NotBefore.After(signer.NotBefore) && (opt.NextPublished.IsZero() || k.NotBefore.Before(opt.NextPublished)) {
			opt.NextPublished = k.NotBefore
		}
	}
	return Compute(CertOf(signer.Cert), opt), method, nil
}
