package issuer

import (
	"context"
	"time"

	"github.com/keyroll/keyroll/lifecycle"

	"github.com/keyroll/keyroll/issuer/credential"
	"github.com/keyroll/keyroll/store"
)

// CreateUser makes a test user, generating a password when none is given;
// the generated password is returned (shown once), else "".
func (m *Manager) CreateUser(ctx context.Context, username, password string) (store.User, string, error) {
	if err := checkUserName(username); err != nil {
		return store.User{}, "", err
	}
	var generated string
	if password == "" {
		password = credential.Random(16)
		generated = password
	} else if err := checkPassword(password); err != nil {
		return store.User{}, "", err
	}
	u := store.User{Username: username, PasswordHash: credential.HashPassword(password), CreatedAt: m.Now()}
	if err := m.cfg.Store.CreateUser(ctx, u); err != nil {
		return store.User{}, "", err
	}
	m.cfg.Logger.Info("test user created", "user", u.Username)
	return u, generated, nil
}

// Users returns every test user, by name.
func (m *Manager) Users(ctx context.Context) ([]store.User, error) { return m.cfg.Store.Users(ctx) }

// DeleteUser removes a test user and their pending authorization codes.
func (m *Manager) DeleteUser(ctx context.Context, username string) error {
	return m.cfg.Store.DeleteUser(ctx, username)
}

// Events returns audit events with Time ≥ since, oldest first, at most limit (0: all).
func (m *Manager) Events(ctx context.Context, since time.Time, limit int) ([]lifecycle.Event, error) {
	return m.cfg.Store.Events(ctx, since, limit)
}
