package issuer

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"
)

// healthProbeInterval is how often SigningHealth really signs; calls in
// between get the last result.
const healthProbeInterval = time.Second

// healthProbe caches the last signing probe.
type healthProbe struct {
	mu  sync.Mutex
	at  time.Time
	kid string
	err error
}

// SigningHealth reports whether the primary key can sign now, by signing a
// fixed message with it: through the token for an HSM key, so a token that
// fails while the issuer runs makes it unhealthy (no key is changed for
// that; generation waits until the token is back). It probes at most once
// a second. It returns nil when there is no primary (health reports that
// on its own).
func (m *Manager) SigningHealth(ctx context.Context) error {
	snap := m.Snapshot()
	if snap == nil || snap.Primary == nil {
		return nil
	}
	kid := snap.Primary.KID
	p := &m.health
	p.mu.Lock()
	defer p.mu.Unlock()
	now := m.Now()
	if p.kid == kid && !p.at.IsZero() && !now.Before(p.at) && now.Sub(p.at) < healthProbeInterval {
		return p.err
	}
	signer, err := m.Signer(ctx, kid)
	if err == nil {
		msg := []byte("keyroll signing health probe")
		if _, ok := signer.Public().(ed25519.PublicKey); ok {
			_, err = signer.Sign(rand.Reader, msg, crypto.Hash(0))
		} else {
			digest := sha256.Sum256(msg)
			_, err = signer.Sign(rand.Reader, digest[:], crypto.SHA256)
		}
	}
	if err != nil && (p.err == nil || p.kid != kid) {
		m.cfg.Logger.Error("the primary signing key cannot sign", "kid", kid, "err", err)
	} else if err == nil && p.err != nil {
		m.cfg.Logger.Info("the primary signing key signs again", "kid", kid)
	}
	p.at, p.kid, p.err = now, kid, err
	return err
}
