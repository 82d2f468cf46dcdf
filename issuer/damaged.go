package issuer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// damagedKeys remembers the keys whose stored private key does not open
// although they will never sign again (retired, a transient drill key):
// the issuer keeps running and reports them.
type damagedKeys struct {
	mu     sync.Mutex
	reason map[string]string // kid → why it does not open
}

// damagedSettingPrefix names the setting that records, across replicas and
// restarts, that a damaged key's audit event was written.
const damagedSettingPrefix = "damaged_key_reported:"

// mustOpen reports whether k's private key must open for the issuer to run:
// it signs now (primary) or will (a next key the policy promotes).
func mustOpen(k lifecycle.Key) bool {
	return k.State == lifecycle.Primary || (k.State == lifecycle.Next && !k.Transient)
}

// DamagedError is returned by Open when the private key of a key that signs
// or will sign does not open.
type DamagedError struct {
	Key lifecycle.Key
	Err error
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("issuer: refusing to start: the private key of the %s key %s (kid %s) does not open: %v; "+
		"the key-encryption key is the store's (its check value opened), so this key's stored record is damaged: "+
		"restore the store from a backup taken before the damage; nothing was written",
		e.Key.State, e.Key.Thumbprint, e.Key.KID, e.Err)
}

// Unwrap returns the cause.
func (e *DamagedError) Unwrap() error { return e.Err }

// noteDamaged records that k's private key does not open, counts it in
// the metrics and, once for the whole cluster, writes an audit event.
func (m *Manager) noteDamaged(ctx context.Context, k lifecycle.Key, cause error) {
	d := &m.damaged
	d.mu.Lock()
	if d.reason == nil {
		d.reason = map[string]string{}
	}
	_, known := d.reason[k.KID]
	d.reason[k.KID] = cause.Error()
	n := len(d.reason)
	d.mu.Unlock()
	m.cfg.Metrics.damagedKeys(n)
	if known {
		return
	}
	m.cfg.Logger.Error("the stored private key of a key that will never sign again does not open; the issuer keeps running",
		"kid", k.KID, "thumbprint", k.Thumbprint, "state", k.State, "err", cause)
	nonce := make([]byte, 16)
	rand.Read(nonce)
	mark := hex.EncodeToString(nonce)
	got, err := m.ks.InitSetting(ctx, damagedSettingPrefix+k.KID, []byte(mark))
	if err != nil || string(got) != mark {
		m.logErr("record the damaged key", err)
		return // another replica (or an earlier start) wrote the event
	}
	ev := lifecycle.Event{Time: m.Now(), Actor: "issuer", KID: k.KID, Thumbprint: k.Thumbprint, From: k.State, To: k.State,
		Reason: "stored private key does not open (" + clipReason(cause.Error()) + "); it will never sign again"}
	_, _, err = m.ks.Update(ctx, func(ks []lifecycle.Key) (*store.Change, error) {
		return &store.Change{Keys: ks, Events: []lifecycle.Event{ev}}, nil
	})
	m.logErr("audit the damaged key", err)
}

// Damaged returns why the stored private key of kid does not open, or ""
// when it is not known to be damaged.
func (m *Manager) Damaged(kid string) string {
	m.damaged.mu.Lock()
	defer m.damaged.mu.Unlock()
	return m.damaged.reason[kid]
}

func clipReason(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
