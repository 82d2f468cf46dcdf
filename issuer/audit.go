package issuer

import (
	"context"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// SecurityApp is the App of audit events about no key and no application
// (throttled sign-ins and client authentications).
const SecurityApp = "(security)"

// Audit writes an event that is about no key (throttled sign-ins, for
// instance) to the audit log, by actor "issuer", under SecurityApp.
// Failures are logged.
func (m *Manager) Audit(ctx context.Context, reason string) {
	ev := lifecycle.Event{Time: m.Now(), Actor: "issuer", App: SecurityApp, Reason: reason}
	_, _, err := m.ks.Update(ctx, func(ks []lifecycle.Key) (*store.Change, error) {
		return &store.Change{Keys: ks, Events: []lifecycle.Event{ev}}, nil
	})
	m.logErr("write an audit event", err)
	m.cfg.Logger.Warn(reason)
}
