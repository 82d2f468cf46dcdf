package issuer

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// SigningKey is everything a protocol handler needs to sign for one
// application: the key, its private half, its certificate, and the latest
// expiry a token signed now may have.
type SigningKey struct {
	KeyChoice
	Signer crypto.Signer
	Cert   *x509.Certificate
	// Expiry caps the validity of what is signed now: the earliest of
	// now + lifetime, the certificate's NotAfter and, for a retired key,
	// the end of its publication. Truncated to the second.
	Expiry time.Time
}

// SignerFor returns the key that signs app's tokens now, with an expiry for
// a token of the given lifetime (capped at the policy's maximum token
// lifetime). It fails with ErrNoSigningKey when no key can sign for at
// least a second.
func (m *Manager) SignerFor(ctx context.Context, app store.Application, lifetime time.Duration) (SigningKey, error) {
	c, err := m.Choose(ctx, app)
	if err != nil {
		return SigningKey{}, err
	}
	now := m.Now().Truncate(time.Second)
	exp := now.Add(min(lifetime, m.cfg.Policy.MaxTokenLifetime))
	if limit := TokenLimit(c.Key, m.cfg.Policy); limit.Before(exp) {
		exp = limit.Truncate(time.Second)
	}
	if !exp.After(now) {
		return SigningKey{}, fmt.Errorf("%w: key %s stops being usable within the second", ErrNoSigningKey, c.Key.Thumbprint)
	}
	signer, err := m.Signer(ctx, c.Key.KID)
	if err != nil {
		return SigningKey{}, err
	}
	cert := m.Snapshot().Certs[c.Key.KID]
	if cert == nil {
		if cert, err = x509.ParseCertificate(c.Key.Cert); err != nil {
			return SigningKey{}, fmt.Errorf("issuer: certificate of key %s does not parse: %w", c.Key.KID, err)
		}
	}
	return SigningKey{KeyChoice: c, Signer: signer, Cert: cert, Expiry: exp}, nil
}

// minMissRefresh is how often a lookup of an unknown kid may make this
// replica re-read the store: often enough to pick up another replica's new
// key at once, rarely enough that a flood of random kids costs nothing.
const minMissRefresh = time.Second

// missRefresh throttles refreshes for unknown kids.
type missRefresh struct{ last atomic.Int64 } // unix nanoseconds

// PublishedKey finds a published key by kid with its certificate,
// refreshing the snapshot at most once a second when the kid is unknown
// (another replica may have just published it). cert is nil when no
// published key has that kid.
func (m *Manager) PublishedKey(ctx context.Context, kid string) (lifecycle.Key, *x509.Certificate) {
	find := func() (lifecycle.Key, *x509.Certificate) {
		s := m.Snapshot()
		for _, k := range s.Published {
			if k.KID == kid {
				return k, s.Certs[kid]
			}
		}
		return lifecycle.Key{}, nil
	}
	if k, c := find(); c != nil {
		return k, c
	}
	now, last := m.Now().UnixNano(), m.miss.last.Load()
	if now-last < int64(minMissRefresh) || !m.miss.last.CompareAndSwap(last, now) {
		return lifecycle.Key{}, nil // refreshed a moment ago: the kid is unknown
	}
	if err := m.Refresh(ctx); err != nil {
		m.cfg.Logger.Warn("refresh for an unknown kid failed", "err", err)
	}
	return find()
}

// Issued counts a token or sign-in answer signed for app over protocol
// (keyroll_tokens_issued_total).
func (m *Manager) Issued(protocol string, app store.Application) {
	m.cfg.Metrics.issuedFor(protocol, app.Name)
}
