package issuer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// KeyChoice is the key an application's tokens are signed with now: its
// override if that key can sign, else the primary.
type KeyChoice struct {
	Key      lifecycle.Key
	Override bool // Key is the application's override
	// Unusable is the override when it cannot sign (revoked, expired,
	// unknown) and the primary signs instead; Why says what is wrong with it.
	Unusable *lifecycle.Key
	Why      string
}

// ErrNoSigningKey: not even the primary can sign. Protocol handlers answer
// "temporarily unavailable".
var ErrNoSigningKey = errors.New("no usable signing key")

// unusable says why k cannot sign at now, or "".
func unusable(k lifecycle.Key, pol lifecycle.Policy, now time.Time) string {
	switch {
	case k.State == lifecycle.Retired && !now.Before(pol.UnpublishAt(k)):
		return "was retired and is unpublished from " + day(pol.UnpublishAt(k))
	case !k.State.Published() && !k.EndedAt.IsZero():
		return fmt.Sprintf("is %s since %s", k.State, day(k.EndedAt))
	case !k.State.Published():
		return "is " + string(k.State)
	case !now.Before(k.NotAfter):
		return "has a certificate that expired " + day(k.NotAfter)
	case now.Before(k.NotBefore):
		return "has a certificate valid only from " + day(k.NotBefore)
	}
	return ""
}

// chooseKey picks the signing key of app from keys (every key) at now.
// known is false when the override names a key that is not in keys: the
// caller's view may be stale, and it should look again before it falls back.
func chooseKey(keys []lifecycle.Key, app store.Application, pol lifecycle.Policy, now time.Time) (c KeyChoice, known bool, err error) {
	known = true
	if app.KeyThumbprint != "" {
		if i := lifecycle.Find(keys, app.KeyThumbprint); i < 0 {
			known = false
			c.Unusable, c.Why = &lifecycle.Key{Thumbprint: app.KeyThumbprint}, "is not a key of this issuer"
		} else if why := unusable(keys[i], pol, now); why != "" {
			k := keys[i]
			c.Unusable, c.Why = &k, why
		} else {
			return KeyChoice{Key: keys[i], Override: true}, true, nil
		}
	}
	pi := lifecycle.PrimaryIndex(keys)
	if pi < 0 {
		return c, known, fmt.Errorf("%w: there is no primary key", ErrNoSigningKey)
	}
	if why := unusable(keys[pi], pol, now); why != "" {
		return c, known, fmt.Errorf("%w: the primary %s %s", ErrNoSigningKey, keys[pi].Thumbprint, why)
	}
	c.Key = keys[pi]
	return c, known, nil
}

// Choose picks app's signing key from the manager's snapshot. An override
// the snapshot does not know (a key another replica just made) prompts one
// refresh first. A fallback from an override is audited once per override.
func (m *Manager) Choose(ctx context.Context, app store.Application) (KeyChoice, error) {
	now := m.Now()
	c, known, err := chooseKey(m.Snapshot().Keys, app, m.Policy(), now)
	if !known {
		if rerr := m.Refresh(ctx); rerr != nil {
			m.cfg.Logger.Warn("refresh for an unknown override key failed", "app", app.Name, "err", rerr)
		}
		c, _, err = chooseKey(m.Snapshot().Keys, app, m.Policy(), now)
	}
	if err != nil {
		return c, err
	}
	if c.Unusable != nil && app.FallbackAudited != app.KeyThumbprint {
		m.auditFallback(ctx, app, c, now)
	}
	return c, nil
}

// auditFallback records, once per override, that app's override cannot
// sign and the primary does. It re-checks inside the store's transaction,
// so a stale snapshot records nothing and replicas record it once.
func (m *Manager) auditFallback(ctx context.Context, app store.Application, c KeyChoice, now time.Time) {
	_, changed, err := m.cfg.Store.UpdateApp(ctx, app.ClientID, func(cur store.Application, keys []lifecycle.Key) (*store.Application, []lifecycle.Event, error) {
		if cur.KeyThumbprint != app.KeyThumbprint || cur.FallbackAudited == cur.KeyThumbprint {
			return nil, nil, nil
		}
		fresh, _, err := chooseKey(keys, cur, m.Policy(), now)
		if err != nil || fresh.Unusable == nil {
			return nil, nil, nil
		}
		cur.FallbackAudited = cur.KeyThumbprint
		return &cur, []lifecycle.Event{{Time: now, Actor: "issuer", App: cur.Name, KID: fresh.Unusable.KID,
			Thumbprint: fresh.Unusable.Thumbprint,
			Reason: fmt.Sprintf("override key %s %s: tokens are signed with the primary %s instead",
				fresh.Unusable.Thumbprint, fresh.Why, fresh.Key.Thumbprint)}}, nil
	})
	if err != nil {
		m.cfg.Logger.Error("audit of a fallback from an override failed", "app", app.Name, "err", err)
		return
	}
	if changed {
		m.cfg.Logger.Warn("application override cannot sign; falling back to the primary",
			"app", app.Name, "override", c.Unusable.Thumbprint, "why", c.Why, "primary", c.Key.Thumbprint)
	}
}

// TokenLimit is the latest expiry a token signed by k may have: its
// certificate's NotAfter and, for a retired key, the end of its publication,
// after which relying parties can no longer find it.
func TokenLimit(k lifecycle.Key, pol lifecycle.Policy) time.Time {
	limit := k.NotAfter
	if k.State == lifecycle.Retired {
		if u := pol.UnpublishAt(k); u.Before(limit) {
			limit = u
		}
	}
	return limit
}

// day formats a date for messages.
func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }
