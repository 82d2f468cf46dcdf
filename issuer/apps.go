package issuer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keyroll/keyroll/issuer/credential"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// AppSpec is what an application is registered with.
type AppSpec struct {
	Name     string
	Protocol store.Protocol // "" is OIDC
	// Audience is the aud of an OIDC application's tokens (default: its
	// client id), a SAML service provider's entity ID, or a WS-Federation
	// realm (wtrealm).
	Audience string
	// RedirectURIs are where answers may go: OIDC redirect URIs, SAML
	// assertion consumer services, WS-Federation reply addresses.
	RedirectURIs  []string
	Public        bool          // OIDC: no secret, PKCE required
	TokenLifetime time.Duration // 0: an hour, or the policy's maximum if shorter
	Fed           store.FedSettings
}

// FindApp resolves an application by client id or, failing that, by name.
func (m *Manager) FindApp(ctx context.Context, ref string) (store.Application, error) {
	app, err := m.cfg.Store.App(ctx, ref)
	if !errors.Is(err, store.ErrNotFound) {
		return app, err
	}
	app, err = m.cfg.Store.AppByName(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		return app, fmt.Errorf("%w: no application is named %q or has it as client id (keyroll apps list)", store.ErrNotFound, Clip(ref))
	}
	return app, err
}

// Apps returns every application, by name.
func (m *Manager) Apps(ctx context.Context) ([]store.Application, error) {
	return m.cfg.Store.Apps(ctx)
}

// CreateApp registers an application and returns it with its client
// secret (OIDC confidential clients only), which is shown this once and
// stored only as a SHA-256.
func (m *Manager) CreateApp(ctx context.Context, spec AppSpec, actor string) (store.Application, string, error) {
	if err := checkSpec(ctx, m, spec); err != nil {
		return store.Application{}, "", err
	}
	lifetime, err := tokenLifetime(spec.TokenLifetime, m.cfg.Policy.MaxTokenLifetime)
	if err != nil {
		return store.Application{}, "", err
	}
	now := m.Now()
	app := store.Application{ClientID: credential.NewClientID(), Name: spec.Name, Protocol: spec.Protocol,
		RedirectURIs: spec.RedirectURIs, Audience: spec.Audience, TokenLifetime: lifetime, Fed: spec.Fed,
		CreatedAt: now, UpdatedAt: now}
	if app.Protocol == "" {
		app.Protocol = store.ProtocolOIDC
	}
	if app.Audience == "" {
		app.Audience = app.ClientID
	}
	var secret string
	kind := string(app.Protocol) + " application"
	if app.Protocol == store.ProtocolOIDC {
		kind = "public client"
		if !spec.Public {
			secret, app.SecretHash = credential.NewClientSecret()
			kind = "confidential client"
		}
	}
	ev := lifecycle.Event{Time: now, Actor: actor, App: app.Name,
		Reason: fmt.Sprintf("application created: client id %s, %s", app.ClientID, kind)}
	if err := m.cfg.Store.CreateApp(ctx, app, ev); err != nil {
		return store.Application{}, "", err
	}
	return app, secret, nil
}

// checkSpec validates a registration for its protocol.
func checkSpec(ctx context.Context, m *Manager, spec AppSpec) error {
	if err := checkAppName(spec.Name); err != nil {
		return err
	}
	if spec.TokenLifetime < 0 || spec.TokenLifetime > 100*365*24*time.Hour {
		return invalid("token lifetime of %s", spec.TokenLifetime)
	}
	switch spec.Protocol {
	case "", store.ProtocolOIDC:
		if err := checkAudience(spec.Audience); err != nil {
			return err
		}
		if err := checkRedirectURIs(spec.RedirectURIs); err != nil {
			return err
		}
		if spec.Public && len(spec.RedirectURIs) == 0 {
			return invalid("a public client signs users in, so it needs at least one redirect URI")
		}
	case store.ProtocolSAML, store.ProtocolWSFed:
		if spec.Public {
			return invalid("--public is for OIDC clients; %s applications have no client secret", spec.Protocol)
		}
		return checkFedSpec(ctx, m, spec)
	default:
		return invalid("protocol %q: want oidc, saml or wsfed", spec.Protocol)
	}
	return nil
}

// DeleteApp removes an application; its pending codes go with it.
func (m *Manager) DeleteApp(ctx context.Context, ref, actor string) error {
	app, err := m.FindApp(ctx, ref)
	if err != nil {
		return err
	}
	return m.cfg.Store.DeleteApp(ctx, app.ClientID, lifecycle.Event{Time: m.Now(), Actor: actor, App: app.Name,
		Reason: "application deleted: client id " + app.ClientID})
}

// KeyRef names the key an override points at: exactly one of Key (a
// thumbprint or kid), Next and Latest.
type KeyRef struct {
	Key    string
	Next   bool // the next key
	Latest bool // the newest published key by NotBefore
	// AllowUnpublished accepts a key that is no longer published, to put
	// back a previous setting exactly; the primary signs meanwhile.
	AllowUnpublished bool
}

// AppChange is the outcome of an override or restore-default.
type AppChange struct {
	App     store.Application
	Changed bool // false when the setting was already so
	Events  []lifecycle.Event
}

// Override points the application at a published key. The key is chosen
// and checked inside the store's transaction, so it cannot be revoked
// between the check and the write.
func (m *Manager) Override(ctx context.Context, ref string, kr KeyRef, actor string) (*AppChange, error) {
	return m.changeApp(ctx, ref, func(cur store.Application, keys []lifecycle.Key, now time.Time) (*store.Application, *lifecycle.Event, error) {
		k, err := pickKey(keys, kr)
		if err != nil {
			return nil, nil, err
		}
		if why := unusable(k, m.Policy(), now); why != "" && !kr.AllowUnpublished {
			return nil, nil, fmt.Errorf("%w: key %s %s and cannot sign; choose a published key (keyroll keys list)", lifecycle.ErrNotPublished, k.Thumbprint, why)
		}
		if cur.KeyThumbprint == k.Thumbprint {
			return nil, nil, nil
		}
		was := "the primary"
		if cur.KeyThumbprint != "" {
			was = "override " + cur.KeyThumbprint
		}
		cur.KeyThumbprint, cur.FallbackAudited = k.Thumbprint, ""
		return &cur, &lifecycle.Event{KID: k.KID, Thumbprint: k.Thumbprint,
			Reason: fmt.Sprintf("signing key override set to %s (%s key; was %s)", k.Thumbprint, k.State, was)}, nil
	}, actor)
}

// RestoreDefault removes the override: the primary signs again.
func (m *Manager) RestoreDefault(ctx context.Context, ref, actor string) (*AppChange, error) {
	return m.changeApp(ctx, ref, func(cur store.Application, keys []lifecycle.Key, _ time.Time) (*store.Application, *lifecycle.Event, error) {
		if cur.KeyThumbprint == "" {
			return nil, nil, nil
		}
		ev := &lifecycle.Event{Thumbprint: cur.KeyThumbprint,
			Reason: fmt.Sprintf("signing key override %s removed; tokens are signed with the primary again", cur.KeyThumbprint)}
		if i := lifecycle.Find(keys, cur.KeyThumbprint); i >= 0 {
			ev.KID = keys[i].KID
		}
		cur.KeyThumbprint, cur.FallbackAudited = "", ""
		return &cur, ev, nil
	}, actor)
}

// appChange computes an override change: the new application (nil: no
// change) and its event, which changeApp completes with time, actor, app.
type appChange func(cur store.Application, keys []lifecycle.Key, now time.Time) (*store.Application, *lifecycle.Event, error)

func (m *Manager) changeApp(ctx context.Context, ref string, f appChange, actor string) (*AppChange, error) {
	app, err := m.FindApp(ctx, ref)
	if err != nil {
		return nil, err
	}
	var events []lifecycle.Event
	app, changed, err := m.cfg.Store.UpdateApp(ctx, app.ClientID, func(cur store.Application, keys []lifecycle.Key) (*store.Application, []lifecycle.Event, error) {
		events = nil
		now := m.Now()
		next, ev, err := f(cur, keys, now)
		if err != nil || next == nil {
			return nil, nil, err
		}
		next.UpdatedAt = now
		ev.Time, ev.Actor, ev.App = now, actor, cur.Name
		events = []lifecycle.Event{*ev}
		return next, events, nil
	})
	if err != nil {
		return nil, err
	}
	if !changed {
		events = nil
	}
	for _, e := range events {
		m.cfg.Logger.Info("application signing key changed", "app", e.App, "thumbprint", e.Thumbprint, "actor", e.Actor, "reason", e.Reason)
	}
	return &AppChange{App: app, Changed: changed, Events: events}, nil
}

// pickKey finds the key an override names.
func pickKey(keys []lifecycle.Key, kr KeyRef) (lifecycle.Key, error) {
	n := 0
	for _, set := range []bool{kr.Key != "", kr.Next, kr.Latest} {
		if set {
			n++
		}
	}
	if n != 1 {
		return lifecycle.Key{}, invalid("name exactly one of key, next or latest")
	}
	switch {
	case kr.Next:
		if i := lifecycle.NextIndex(keys); i >= 0 {
			return keys[i], nil
		}
		return lifecycle.Key{}, fmt.Errorf("%w: there is no next key; publish one with keyroll keys rotate", lifecycle.ErrNotPublished)
	case kr.Latest:
		var best *lifecycle.Key
		for i, k := range keys {
			if k.State.Published() && (best == nil || k.NotBefore.After(best.NotBefore) ||
				k.NotBefore.Equal(best.NotBefore) && k.CreatedAt.After(best.CreatedAt)) {
				best = &keys[i]
			}
		}
		if best == nil {
			return lifecycle.Key{}, fmt.Errorf("%w: no key is published", lifecycle.ErrNotPublished)
		}
		return *best, nil
	}
	i := lifecycle.Find(keys, kr.Key)
	if i < 0 {
		return lifecycle.Key{}, fmt.Errorf("%w: %q matches no key's thumbprint or kid (keyroll keys list)", lifecycle.ErrUnknownKey, Clip(kr.Key))
	}
	return keys[i], nil
}

// AppKey is the key that signs an application's tokens now, as operators
// see it: the choice, or why none can sign, and a warning when the
// override cannot sign (or soon will not).
type AppKey struct {
	Choice  *KeyChoice // nil when no key can sign
	Warning string
}

// AppKeyOf says which key signs app's tokens now.
func (m *Manager) AppKeyOf(ctx context.Context, app store.Application) AppKey {
	now := m.Now()
	c, known, err := chooseKey(m.Snapshot().Keys, app, m.Policy(), now)
	if !known && m.Refresh(ctx) == nil {
		c, _, err = chooseKey(m.Snapshot().Keys, app, m.Policy(), now)
	}
	if err != nil {
		return AppKey{Warning: err.Error()}
	}
	out := AppKey{Choice: &c}
	k := c.Key
	switch {
	case c.Unusable != nil:
		out.Warning = fmt.Sprintf("override key %s %s: tokens are signed with the primary %s instead; choose another key or restore the default",
			c.Unusable.Thumbprint, c.Why, k.Thumbprint)
	case c.Override && k.State == lifecycle.Retired:
		out.Warning = fmt.Sprintf("override key %s is retired and leaves the published keys on %s; the primary signs after that",
			k.Thumbprint, day(TokenLimit(k, m.cfg.Policy)))
	}
	return out
}
