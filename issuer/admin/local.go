package admin

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/lifecycle"
)

// Local is the admin API called in-process, with the same answers as
// *adminapi.Client but every change audited under its own actor: the web
// console runs the rollover drill through it as the signed-in
// administrator (drill.Admin), and the drill records itself through it in
// the issuer's drill history as a command-line drill does (drill.Recorder,
// drill.History).
type Local struct {
	m      *issuer.Manager
	tokens TokenMinter
	actor  string
}

// NewLocal returns the in-process admin API of m acting as actor; tokens
// mints test tokens (nil: AppToken fails).
func NewLocal(m *issuer.Manager, tokens TokenMinter, actor string) *Local {
	return &Local{m: m, tokens: tokens, actor: actor}
}

// App returns the application named by name or client id.
func (l *Local) App(ctx context.Context, app string) (*adminapi.AppInfo, error) {
	if err := l.m.Refresh(ctx); err != nil {
		return nil, err
	}
	a, err := l.m.FindApp(ctx, app)
	if err != nil {
		return nil, err
	}
	info := appInfoOf(ctx, l.m, a)
	return &info, nil
}

// Keys lists every key.
func (l *Local) Keys(ctx context.Context) ([]adminapi.KeyInfo, error) {
	if err := l.m.Refresh(ctx); err != nil {
		return nil, err
	}
	out := []adminapi.KeyInfo{}
	for _, k := range l.m.Snapshot().Keys {
		out = append(out, adminapi.NewKeyInfo(k, l.m.Policy()))
	}
	return out, nil
}

// Override points the application at a key.
func (l *Local) Override(ctx context.Context, app string, req adminapi.OverrideRequest) (*adminapi.OverrideResult, error) {
	if err := req.Check(); err != nil {
		return nil, issuer.Invalid("%v", err)
	}
	c, err := l.m.Override(ctx, app, issuer.KeyRef{Key: req.Key, Next: req.Next, Latest: req.Latest, AllowUnpublished: req.AllowUnpublished}, l.actor)
	return l.result(ctx, c, err)
}

// RestoreDefault removes the application's override.
func (l *Local) RestoreDefault(ctx context.Context, app string) (*adminapi.OverrideResult, error) {
	c, err := l.m.RestoreDefault(ctx, app, l.actor)
	return l.result(ctx, c, err)
}

func (l *Local) result(ctx context.Context, c *issuer.AppChange, err error) (*adminapi.OverrideResult, error) {
	if err != nil {
		return nil, err
	}
	return &adminapi.OverrideResult{App: appInfoOf(ctx, l.m, c.App), Changed: c.Changed, Events: eventInfos(c.Events)}, nil
}

// AppToken mints the application a test token signed with its effective key.
func (l *Local) AppToken(ctx context.Context, app string) (*adminapi.TokenResponse, error) {
	if l.tokens == nil {
		return nil, fmt.Errorf("this server issues no test tokens")
	}
	a, err := l.m.FindApp(ctx, app)
	if err != nil {
		return nil, err
	}
	resp, err := l.tokens.AppToken(ctx, a)
	if err != nil {
		return nil, err
	}
	if t, ok := resp.(*adminapi.TokenResponse); ok {
		return t, nil
	}
	js, err := json.Marshal(resp)
	if err != nil {
		return nil, err
	}
	var out adminapi.TokenResponse
	return &out, json.Unmarshal(js, &out)
}

// CreateUser makes a test user (a generated password when none is given).
func (l *Local) CreateUser(ctx context.Context, username, password string) (*adminapi.CreatedUser, error) {
	u, generated, err := l.m.CreateUser(ctx, username, password)
	if err != nil {
		return nil, err
	}
	return &adminapi.CreatedUser{User: adminapi.UserInfo{Username: u.Username, CreatedAt: u.CreatedAt}, Password: generated}, nil
}

// DeleteUser removes a test user.
func (l *Local) DeleteUser(ctx context.Context, username string) error {
	return l.m.DeleteUser(ctx, username)
}

// PublishTransient publishes a fresh transient key for a drill.
func (l *Local) PublishTransient(ctx context.Context) (*adminapi.KeyInfo, error) {
	k, err := l.m.PublishTransient(ctx, l.actor)
	if err != nil {
		return nil, err
	}
	ki := adminapi.NewKeyInfo(k, l.m.Policy())
	return &ki, nil
}

// WithdrawTransient unpublishes a transient key; a key that is not
// transient is refused.
func (l *Local) WithdrawTransient(ctx context.Context, key string) (*adminapi.KeyInfo, error) {
	if err := l.m.WithdrawTransient(ctx, key, l.actor); err != nil {
		return nil, err
	}
	ks := l.m.Snapshot().Keys
	i := lifecycle.Find(ks, key)
	if i < 0 {
		return nil, fmt.Errorf("%w: %s", lifecycle.ErrUnknownKey, issuer.Clip(key))
	}
	ki := adminapi.NewKeyInfo(ks[i], l.m.Policy())
	return &ki, nil
}

// RecordDrill stores a drill of the application in the drill history,
// as POST /admin/apps/{app}/drills does.
func (l *Local) RecordDrill(ctx context.Context, app string, rec adminapi.DrillRecordInfo) (*adminapi.DrillRecordInfo, error) {
	d, err := l.m.RecordDrill(ctx, app, drillRecord(rec))
	if err != nil {
		return nil, err
	}
	out := drillInfo(d)
	return &out, nil
}

// Drills returns the application's drill history, newest first, at most
// limit (0: all).
func (l *Local) Drills(ctx context.Context, app string, limit int) ([]adminapi.DrillRecordInfo, error) {
	ds, err := l.m.Drills(ctx, app, limit)
	if err != nil {
		return nil, err
	}
	return drillInfos(ds), nil
}
