package issuer

import (
	"context"

	"github.com/keyroll/keyroll/issuer/credential"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// minAdminPassword is the shortest password a console administrator may
// choose: console accounts roll keys, so they get a longer minimum than
// test users.
const minAdminPassword = 12

// CreateAdmin makes a console administrator, generating a password when
// none is given; the generated password is returned (shown once), else "".
// The creation is audited under actor.
func (m *Manager) CreateAdmin(ctx context.Context, name, password, actor string) (store.Admin, string, error) {
	if err := checkUserName(name); err != nil {
		return store.Admin{}, "", err
	}
	var generated string
	if password == "" {
		password = credential.Random(16)
		generated = password
	} else if len(password) < minAdminPassword || len(password) > 1024 {
		return store.Admin{}, "", invalid("an administrator's password must be %d to 1024 bytes long (got %d)", minAdminPassword, len(password))
	}
	now := m.Now()
	a := store.Admin{Name: name, PasswordHash: credential.HashPassword(password), CreatedAt: now}
	ev := lifecycle.Event{Time: now, Actor: actor, Reason: "console administrator " + name + " created"}
	if err := m.cfg.Store.CreateAdmin(ctx, a, ev); err != nil {
		return store.Admin{}, "", err
	}
	m.cfg.Logger.Info("console administrator created", "admin", a.Name, "actor", actor)
	return a, generated, nil
}

// Admins returns every console administrator, by name.
func (m *Manager) Admins(ctx context.Context) ([]store.Admin, error) { return m.cfg.Store.Admins(ctx) }

// DeleteAdmin removes a console administrator and ends their sessions.
func (m *Manager) DeleteAdmin(ctx context.Context, name, actor string) error {
	ev := lifecycle.Event{Time: m.Now(), Actor: actor, Reason: "console administrator " + Clip(name) + " deleted; their sessions ended"}
	if err := m.cfg.Store.DeleteAdmin(ctx, name, ev); err != nil {
		return err
	}
	m.cfg.Logger.Info("console administrator deleted", "admin", name, "actor", actor)
	return nil
}
