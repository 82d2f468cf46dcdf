package issuer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// findApp resolves an application by client id or, failing that, by name.
func (p *provider) findApp(ctx context.Context, ref string) (store.Application, error) {
	app, err := p.st().App(ctx, ref)
	if !errors.Is(err, store.ErrNotFound) {
		return app, err
	}
	app, err = p.st().AppByName(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		return app, fmt.Errorf("%w: no application is named %q or has it as client id (keyroll apps list)", store.ErrNotFound, clip(ref))
	}
	return app, err
}

// createApp registers an application and returns it with its client
// secret, which is shown this once and stored only as a SHA-256.
func (p *provider) createApp(ctx context.Context, req CreateAppRequest, actor string) (*CreatedApp, error) {
	if err := checkAppName(req.Name); err != nil {
		return nil, err
	}
	if err := checkAudience(req.Audience); err != nil {
		return nil, err
	}
	if err := checkRedirectURIs(req.RedirectURIs); err != nil {
		return nil, err
	}
	if req.TokenLifetimeSeconds < 0 || req.TokenLifetimeSeconds > int64(100*365*24*time.Hour/time.Second) {
		return nil, invalid("token lifetime of %d seconds", req.TokenLifetimeSeconds)
	}
	lifetime, err := tokenLifetime(time.Duration(req.TokenLifetimeSeconds)*time.Second, p.m.cfg.Policy.MaxTokenLifetime)
	if err != nil {
		return nil, err
	}
	if req.Public && len(req.RedirectURIs) == 0 {
		return nil, invalid("a public client signs users in, so it needs at least one redirect URI")
	}
	now := p.m.Now()
	app := store.Application{ClientID: newClientID(), Name: req.Name, RedirectURIs: req.RedirectURIs,
		Audience: req.Audience, TokenLifetime: lifetime, CreatedAt: now, UpdatedAt: now}
	if app.Audience == "" {
		app.Audience = app.ClientID
	}
	out := &CreatedApp{}
	kind := "public client"
	if !req.Public {
		out.ClientSecret, app.SecretHash = newClientSecret()
		kind = "confidential client"
	}
	ev := lifecycle.Event{Time: now, Actor: actor, App: app.Name,
		Reason: fmt.Sprintf("application created: client id %s, %s", app.ClientID, kind)}
	if err := p.st().CreateApp(ctx, app, ev); err != nil {
		return nil, err
	}
	out.App = p.appInfo(ctx, app)
	return out, nil
}

// deleteApp removes an application; its pending codes go with it.
func (p *provider) deleteApp(ctx context.Context, ref, actor string) error {
	app, err := p.findApp(ctx, ref)
	if err != nil {
		return err
	}
	return p.st().DeleteApp(ctx, app.ClientID, lifecycle.Event{Time: p.m.Now(), Actor: actor, App: app.Name,
		Reason: "application deleted: client id " + app.ClientID})
}

// override points the application at a published key. The key is chosen
// and checked inside the store's transaction, so it cannot be revoked
// between the check and the write.
func (p *provider) override(ctx context.Context, ref string, req OverrideRequest, actor string) (*OverrideResult, error) {
	if err := req.check(); err != nil {
		return nil, err
	}
	return p.changeApp(ctx, ref, func(cur store.Application, keys []lifecycle.Key, now time.Time) (*store.Application, *lifecycle.Event, error) {
		k, err := pickKey(keys, req)
		if err != nil {
			return nil, nil, err
		}
		if why := unusable(k, p.m.Policy(), now); why != "" && !req.AllowUnpublished {
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

// restoreDefault removes the override: the primary signs again.
func (p *provider) restoreDefault(ctx context.Context, ref, actor string) (*OverrideResult, error) {
	return p.changeApp(ctx, ref, func(cur store.Application, keys []lifecycle.Key, _ time.Time) (*store.Application, *lifecycle.Event, error) {
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

func (p *provider) changeApp(ctx context.Context, ref string, f appChange, actor string) (*OverrideResult, error) {
	app, err := p.findApp(ctx, ref)
	if err != nil {
		return nil, err
	}
	var events []lifecycle.Event
	app, changed, err := p.st().UpdateApp(ctx, app.ClientID, func(cur store.Application, keys []lifecycle.Key) (*store.Application, []lifecycle.Event, error) {
		events = nil
		now := p.m.Now()
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
		p.log().Info("application signing key changed", "app", e.App, "thumbprint", e.Thumbprint, "actor", e.Actor, "reason", e.Reason)
	}
	return &OverrideResult{App: p.appInfo(ctx, app), Changed: changed, Events: eventInfos(events)}, nil
}

// pickKey finds the key an override request names.
func pickKey(keys []lifecycle.Key, req OverrideRequest) (lifecycle.Key, error) {
	switch {
	case req.Next:
		if i := lifecycle.NextIndex(keys); i >= 0 {
			return keys[i], nil
		}
		return lifecycle.Key{}, fmt.Errorf("%w: there is no next key; publish one with keyroll keys rotate", lifecycle.ErrNotPublished)
	case req.Latest:
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
	i := lifecycle.Find(keys, req.Key)
	if i < 0 {
		return lifecycle.Key{}, fmt.Errorf("%w: %q matches no key's thumbprint or kid (keyroll keys list)", lifecycle.ErrUnknownKey, clip(req.Key))
	}
	return keys[i], nil
}

// appInfo renders an application with the key that signs its tokens now.
func (p *provider) appInfo(ctx context.Context, app store.Application) AppInfo {
	info := AppInfo{ClientID: app.ClientID, Name: app.Name, Public: app.Public(), RedirectURIs: app.RedirectURIs,
		Audience: app.Audience, TokenLifetimeSeconds: int64(app.TokenLifetime / time.Second), KeyOverride: app.KeyThumbprint,
		CreatedAt: app.CreatedAt, UpdatedAt: app.UpdatedAt}
	if info.RedirectURIs == nil {
		info.RedirectURIs = []string{}
	}
	now := p.m.Now()
	c, known, err := chooseKey(p.m.Snapshot().Keys, app, p.m.Policy(), now)
	if !known && p.m.Refresh(ctx) == nil {
		c, _, err = chooseKey(p.m.Snapshot().Keys, app, p.m.Policy(), now)
	}
	if err != nil {
		info.Warning = err.Error()
		return info
	}
	k := c.Key
	info.SigningKey = &AppKeyInfo{Thumbprint: k.Thumbprint, KID: k.KID, Alg: k.Alg, State: string(k.State), NotAfter: k.NotAfter, Override: c.Override}
	switch {
	case c.Unusable != nil:
		info.Warning = fmt.Sprintf("override key %s %s: tokens are signed with the primary %s instead; choose another key or restore the default",
			c.Unusable.Thumbprint, c.Why, k.Thumbprint)
	case c.Override && k.State == lifecycle.Retired:
		info.Warning = fmt.Sprintf("override key %s is retired and leaves the published keys on %s; the primary signs after that",
			k.Thumbprint, day(tokenLimit(k, p.m.cfg.Policy)))
	}
	return info
}

// createUser makes a test user, generating a password when none is given.
func (p *provider) createUser(ctx context.Context, req CreateUserRequest) (*CreatedUser, error) {
	if err := checkUserName(req.Username); err != nil {
		return nil, err
	}
	out := &CreatedUser{}
	pw := req.Password
	if pw == "" {
		pw = randomString(16)
		out.Password = pw
	} else if err := checkPassword(pw); err != nil {
		return nil, err
	}
	u := store.User{Username: req.Username, PasswordHash: hashPassword(pw), CreatedAt: p.m.Now()}
	if err := p.st().CreateUser(ctx, u); err != nil {
		return nil, err
	}
	p.log().Info("test user created", "user", u.Username)
	out.User = UserInfo{Username: u.Username, CreatedAt: u.CreatedAt}
	return out, nil
}
