// Package issuer is the core of keyroll's identity provider: the rotation
// loop that applies the lifecycle policy to the key store, the published
// documents (OIDC discovery, JWKS, signed federation metadata), the
// applications and which key signs for each (the per-application override)
// and the test users. The protocols that sign users in (issuer/oidc,
// issuer/samlidp) see only "the signing key of application X" and what is
// published; the admin API is issuer/admin; issuer/server assembles them.
//
// A [Manager] owns the keys of one issuer. Every replica runs one; they
// share the store, and every change goes through store.Update, which
// re-decides inside its transaction, so exactly one replica performs a given
// rollover and the others see it on their next refresh.
package issuer

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/keys"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// Config configures a Manager.
type Config struct {
	Issuer string // issuer identifier (URL); names certificates and documents
	// Store is the durable state. Rotation and publication use only its
	// KeyStore part; applications, users, administrators and evidence
	// their own views of it.
	Store  store.Store
	Sealer *keys.Sealer // private-key encryption under the KEK; nil if Backend needs none
	// Backend makes new keys and opens stored ones (nil: software keys
	// sealed by Sealer). An HSM backend that may meet software keys made
	// before it is a keys.Mixed.
	Backend keys.Backend
	Policy  lifecycle.Policy // rollover policy
	KeySpec keys.Spec        // what new keys are
	Clock   clock.Clock      // nil: the wall clock
	Logger  *slog.Logger     // nil: discard
	// PollInterval is how often a replica checks the store for changes made
	// by others when the store cannot announce them (default 10 s).
	PollInterval time.Duration
	// Metrics receives rollover metrics; nil disables them.
	Metrics *Metrics
	// DestroyGrace is how long after a key is revoked or expired its HSM
	// object is destroyed: long enough for every replica to have seen the
	// change (default 2 × PollInterval + 1 minute).
	DestroyGrace time.Duration
	// PromotionGate is GateOff or GateEvidence: the next key then waits
	// for the applications' evidence (see Hold), up to the critical threshold.
	PromotionGate string
}

// Manager applies the rollover policy to the key store and keeps an
// immutable snapshot of what is published.
type Manager struct {
	cfg      Config
	ks       KeyStore // cfg.Store, as rotation and publication see it
	snap     atomic.Pointer[Snapshot]
	mu       sync.Mutex    // serialises this replica's writes and snapshot rebuilds
	changed  chan struct{} // closed when the snapshot is replaced; guarded by mu
	signers  sync.Map      // kid → crypto.Signer, opened on first use
	sign     *signerCache
	miss     missRefresh
	health   healthProbe
	ended    endedKeys
	hold     atomic.Pointer[lifecycle.Hold] // the promotion gate's latest answer
	evidence chan struct{}                  // a pending "the evidence may have changed"; see EvidenceChanged
	// waitAudited is the last promotion wait audited; guarded by the
	// rollover check (Run, or the caller of Check).
	waitAudited string
	damaged     damagedKeys
}

// ErrWrongKEK is returned by Open when the store was created under another KEK.
var ErrWrongKEK = keys.ErrWrongKEK

const kekCheckSetting = "kek_check"

// New checks the configuration and returns a Manager; call Open next.
func New(cfg Config) (*Manager, error) {
	if cfg.Issuer == "" || cfg.Store == nil || (cfg.Sealer == nil && cfg.Backend == nil) {
		return nil, errors.New("issuer: Issuer, Store and a Sealer or Backend are required")
	}
	if cfg.Backend == nil {
		cfg.Backend = keys.Software{Sealer: cfg.Sealer}
	}
	if err := cfg.Policy.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.KeySpec.Validate(); err != nil {
		return nil, err
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 10 * time.Second
	}
	if cfg.DestroyGrace <= 0 {
		cfg.DestroyGrace = 2*cfg.PollInterval + time.Minute
	}
	m := &Manager{cfg: cfg, ks: cfg.Store, changed: make(chan struct{}), evidence: make(chan struct{}, 1)}
	m.sign = &signerCache{m: m}
	return m, nil
}

// Open proves the KEK (if any) is the store's, opens every published
// private key (so a wrong KEK, an unusable token or a corrupted row stops
// start-up before anything is written), settles the policy (a new store
// gets its first key) and builds the first snapshot.
func (m *Manager) Open(ctx context.Context) error {
	if m.cfg.Sealer != nil {
		check, err := m.ks.InitSetting(ctx, kekCheckSetting, m.cfg.Sealer.CheckValue())
		if err != nil {
			return fmt.Errorf("issuer: read KEK check: %w", err)
		}
		if err := m.cfg.Sealer.Verify(check); err != nil {
			return fmt.Errorf("issuer: refusing to start: %w; the store was created under another key-encryption key (KEYROLL_KEK / KEYROLL_KEK_FILE)", err)
		}
	}
	all, _, err := m.ks.Keys(ctx)
	if err != nil {
		return fmt.Errorf("issuer: refusing to start: %w", err)
	}
	if err := m.consistent(all); err != nil {
		return fmt.Errorf("issuer: refusing to start: %w", err)
	}
	for _, k := range lifecycle.PublishedKeys(all) {
		if _, err := m.sign.open(ctx, k); err != nil {
			if mustOpen(k) {
				return &DamagedError{Key: k, Err: err}
			}
			// A key that will never sign again: reported, not fatal.
		}
	}
	if _, err := m.Check(ctx); err != nil {
		return err
	}
	if err := m.Refresh(ctx); err != nil {
		return err
	}
	if err := m.Snapshot().StateErr; err != nil {
		return fmt.Errorf("issuer: refusing to start: %w", err)
	}
	return nil
}

// Changed returns a channel that is closed when the snapshot is next
// replaced (by this replica's change or one it learns of from the store).
func (m *Manager) Changed() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changed
}

// Snapshot returns what is published now. It never blocks.
func (m *Manager) Snapshot() *Snapshot { return m.snap.Load() }

// Policy returns the rollover policy.
func (m *Manager) Policy() lifecycle.Policy { return m.cfg.Policy }

// Store returns the manager's store, for the composition of the HTTP side
// (issuer/server), which hands each protocol only the part it reads.
func (m *Manager) Store() store.Store { return m.cfg.Store }

// Issuer returns the issuer identifier (URL) the keys are published under.
func (m *Manager) Issuer() string { return m.cfg.Issuer }

// KeyAlg returns the algorithm of the keys the manager makes.
func (m *Manager) KeyAlg() string { return m.cfg.KeySpec.Alg }

// Logger returns the manager's logger.
func (m *Manager) Logger() *slog.Logger { return m.cfg.Logger }

// Now returns the manager's clock time.
func (m *Manager) Now() time.Time { return m.cfg.Clock.Now().UTC() }

// Check applies every action the policy says is due now and returns the
// audit events. It is what the rotation loop runs.
func (m *Manager) Check(ctx context.Context) ([]lifecycle.Event, error) {
	var all []lifecycle.Event
	for i := 0; i < 16; i++ {
		hold := m.askGate(ctx, m.Now())
		ev, err := m.update(ctx, "policy", func(ks []lifecycle.Key, now time.Time) ([]lifecycle.Action, error) {
			if err := lifecycle.Consistent(ks, m.cfg.Policy, now, true); err != nil {
				return nil, err
			}
			if a, ok := lifecycle.DueHeld(ks, m.cfg.Policy, now, hold); ok {
				return []lifecycle.Action{a}, nil
			}
			return nil, nil
		})
		if err != nil {
			m.cfg.Metrics.checkFailed()
			return all, fmt.Errorf("issuer: rollover check: %w", err)
		}
		if len(ev) == 0 {
			m.destroyEnded(ctx)
			m.cfg.Metrics.checked(m.Now())
			return all, m.auditWait(ctx, hold, m.Now())
		}
		all = append(all, ev...)
	}
	return all, errors.New("issuer: rollover check did not settle after 16 actions")
}

// Rotate generates a next key now, or with urgent a fresh primary at once.
func (m *Manager) Rotate(ctx context.Context, urgent bool, actor string) ([]lifecycle.Event, error) {
	return m.update(ctx, actor, func(ks []lifecycle.Key, _ time.Time) ([]lifecycle.Action, error) {
		a, err := lifecycle.Rotate(ks, urgent)
		return []lifecycle.Action{a}, err
	})
}

// Revoke withdraws the key named by ref (thumbprint or kid) at once,
// promoting a replacement first if it is the primary.
func (m *Manager) Revoke(ctx context.Context, ref, actor string) ([]lifecycle.Event, error) {
	return m.update(ctx, actor, func(ks []lifecycle.Key, _ time.Time) ([]lifecycle.Action, error) {
		return lifecycle.RevokePlan(ks, m.cfg.Policy, ref)
	})
}

type planFunc func(keys []lifecycle.Key, now time.Time) ([]lifecycle.Action, error)

var errStalePlan = errors.New("issuer: plan changed during the update")

// update decides a plan on the current keys, generates any fresh key outside
// the transaction, then re-decides inside it and applies the plan only if it
// still holds. A replica that lost the race to another finds nothing due.
func (m *Manager) update(ctx context.Context, actor string, plan planFunc) ([]lifecycle.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for attempt := 0; attempt < 3; attempt++ {
		current, _, err := m.ks.Keys(ctx)
		if err != nil {
			return nil, err
		}
		now := m.Now()
		first, err := plan(current, now)
		if err != nil || len(first) == 0 {
			return nil, err
		}
		var fresh *keys.Material
		var sealed []byte
		if needsKey(first) {
			if fresh, sealed, err = m.cfg.Backend.Generate(m.cfg.KeySpec, m.cfg.Issuer, now.Add(-m.cfg.Policy.ClockSkew), now.Add(m.cfg.Policy.CertificateDuration)); err != nil {
				return nil, fmt.Errorf("issuer: generate a key: %w", err)
			}
		}
		var events []lifecycle.Event
		used := false // the change being committed adds fresh
		_, _, err = m.ks.Update(ctx, func(ks []lifecycle.Key) (*store.Change, error) {
			events, used = nil, false
			acts, err := plan(ks, now)
			if err != nil || len(acts) == 0 {
				return nil, err
			}
			if needsKey(acts) && fresh == nil {
				return nil, errStalePlan
			}
			c := &store.Change{Keys: ks}
			for _, a := range acts {
				var fk *lifecycle.Key
				if a.Kind == lifecycle.Generate {
					fk = &fresh.Key
					c.Sealed = map[string][]byte{fresh.Key.KID: sealed}
					used = true
				}
				next, ev, err := lifecycle.Apply(c.Keys, a, fk, now, actor, m.cfg.Policy)
				if err != nil {
					return nil, err
				}
				c.Keys, events = next, append(events, ev...)
			}
			c.Events = events
			return c, nil
		})
		if fresh != nil && (err != nil || !used) {
			m.discard(ctx, fresh.Key.KID, sealed, used)
		}
		if errors.Is(err, errStalePlan) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if fresh != nil && used {
			m.signers.Store(fresh.Key.KID, fresh.Signer)
		}
		for _, e := range events {
			m.cfg.Logger.Info("key transition", "kid", e.KID, "thumbprint", e.Thumbprint, "from", e.From, "to", e.To, "actor", e.Actor, "reason", e.Reason)
			m.cfg.Metrics.transition(e)
		}
		return events, m.refreshLocked(ctx)
	}
	return nil, errors.New("issuer: the key set kept changing under the update; try again")
}

func needsKey(acts []lifecycle.Action) bool {
	for _, a := range acts {
		if a.Kind == lifecycle.Generate {
			return true
		}
	}
	return false
}

// Refresh rebuilds the snapshot if the store changed since the last one.
func (m *Manager) Refresh(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.refreshLocked(ctx)
}

func (m *Manager) refreshLocked(ctx context.Context) error {
	if s := m.snap.Load(); s != nil {
		gen, err := m.ks.Generation(ctx)
		if err != nil {
			return err
		}
		if gen == s.Generation {
			return nil
		}
	}
	all, gen, err := m.ks.Keys(ctx)
	if err != nil {
		return err
	}
	s, err := m.build(ctx, all, gen)
	if err != nil {
		return err
	}
	m.snap.Store(s)
	close(m.changed)
	m.changed = make(chan struct{})
	m.cfg.Metrics.observe(s, m.Now())
	return nil
}

// Signer returns the private key of kid, which must be published.
func (m *Manager) Signer(ctx context.Context, kid string) (crypto.Signer, error) {
	s := m.Snapshot()
	for _, k := range s.Keys {
		if k.KID == kid {
			if !k.State.Published() {
				return nil, fmt.Errorf("issuer: key %s is %s and may not sign", kid, k.State)
			}
			return m.sign.open(ctx, k)
		}
	}
	return nil, fmt.Errorf("%w: %s", lifecycle.ErrUnknownKey, kid)
}

// signerCache opens stored private keys (sealed or in an HSM) once.
type signerCache struct{ m *Manager }

func (c *signerCache) open(ctx context.Context, k lifecycle.Key) (crypto.Signer, error) {
	if s, ok := c.m.signers.Load(k.KID); ok {
		return s.(crypto.Signer), nil
	}
	sealed, err := c.m.ks.Sealed(ctx, k.KID)
	if err != nil {
		if errors.Is(err, store.ErrCorrupt) && !mustOpen(k) {
			c.m.noteDamaged(ctx, k, err)
		}
		return nil, err
	}
	signer, err := c.m.cfg.Backend.Open(k.KID, k.Cert, sealed)
	if err != nil {
		if !mustOpen(k) {
			c.m.noteDamaged(ctx, k, err)
		}
		return nil, err
	}
	c.m.signers.Store(k.KID, signer)
	return signer, nil
}
