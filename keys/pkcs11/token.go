package pkcs11

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/miekg/pkcs11"
)

// Config names the token to use.
type Config struct {
	Module string // path of the PKCS #11 library, e.g. /usr/lib/softhsm/libsofthsm2.so
	Token  string // token label
	PIN    string // user PIN; never logged, never in an error
	// Sessions caps the sessions open at once, and so the operations the
	// token runs in parallel for this process (default 4).
	Sessions int
}

// String shows the configuration with the PIN redacted, so a Config that
// ends up in a log or an error carries no secret.
func (c Config) String() string {
	return fmt.Sprintf("pkcs11.Config{Module: %q, Token: %q, PIN: <redacted>, Sessions: %d}", c.Module, c.Token, c.Sessions)
}

// GoString redacts the PIN from %#v too.
func (c Config) GoString() string { return c.String() }

// Token is an open, logged-in PKCS #11 token: a keys.Backend. It is safe
// for concurrent use.
type Token struct {
	mod    *module
	slot   uint
	label  string
	pin    string
	slots  chan struct{}             // one per session that may be open
	idle   chan pkcs11.SessionHandle // open, logged-in sessions not in use
	ops    sync.RWMutex              // operations hold it shared, Close exclusively
	closed bool                      // guarded by ops

	mu      sync.Mutex
	handles map[string]pkcs11.ObjectHandle // hex CKA_ID → private key object
}

// Open loads the module, finds the token by label and logs in. Every
// failure is a clear error (ErrModule, ErrNoToken, ErrLogin) that names
// the module and token but never the PIN; nothing is written to the token.
func Open(cfg Config) (*Token, error) {
	if cfg.Module == "" || cfg.Token == "" {
		return nil, errors.New("pkcs11: a module path and a token label are required")
	}
	if cfg.PIN == "" {
		return nil, ErrNoPIN
	}
	if cfg.Sessions <= 0 {
		cfg.Sessions = 4
	}
	mod, err := loadModule(cfg.Module)
	if err != nil {
		return nil, err
	}
	slot, err := findToken(mod, cfg.Token)
	if err != nil {
		mod.release()
		return nil, err
	}
	t := &Token{
		mod: mod, slot: slot, label: cfg.Token, pin: cfg.PIN,
		slots: make(chan struct{}, cfg.Sessions), idle: make(chan pkcs11.SessionHandle, cfg.Sessions),
		handles: map[string]pkcs11.ObjectHandle{},
	}
	// One session opened and logged in now proves the PIN; it stays in the
	// pool, which keeps the login alive.
	t.slots <- struct{}{}
	s, err := t.openSession()
	<-t.slots
	if err != nil {
		mod.release()
		return nil, err
	}
	t.idle <- s
	return t, nil
}

func findToken(mod *module, label string) (uint, error) {
	slots, err := mod.ctx.GetSlotList(true)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: C_GetSlotList: %v", ErrModule, mod.path, err)
	}
	var labels []string
	for _, slot := range slots {
		info, err := mod.ctx.GetTokenInfo(slot)
		if err != nil {
			continue
		}
		if info.Label == label {
			return slot, nil
		}
		labels = append(labels, fmt.Sprintf("%q", info.Label))
	}
	slices.Sort(labels)
	return 0, fmt.Errorf("%w: module %s has no token labelled %q (tokens present: %d %v)", ErrNoToken, mod.path, label, len(labels), labels)
}

// String names the token; it never shows the PIN.
func (t *Token) String() string { return fmt.Sprintf("PKCS #11 token %q (%s)", t.label, t.mod.path) }

// Label returns the token's label.
func (t *Token) Label() string { return t.label }

// Close logs out, closes the sessions and releases the module. Signers
// opened from the token fail with ErrClosed afterwards.
func (t *Token) Close() error {
	t.ops.Lock()
	defer t.ops.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	for {
		select {
		case s := <-t.idle:
			t.mod.ctx.CloseSession(s)
		default:
			t.mod.release()
			return nil
		}
	}
}

// openSession opens a read-write session and logs the user in (once per
// token for the whole application; later sessions find it logged in).
func (t *Token) openSession() (pkcs11.SessionHandle, error) {
	s, err := t.mod.ctx.OpenSession(t.slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return 0, fmt.Errorf("pkcs11: token %q: open session: %w", t.label, err)
	}
	err = t.mod.ctx.Login(s, pkcs11.CKU_USER, t.pin)
	if err != nil && !errors.Is(err, pkcs11.Error(pkcs11.CKR_USER_ALREADY_LOGGED_IN)) {
		t.mod.ctx.CloseSession(s)
		var e pkcs11.Error
		if errors.As(err, &e) {
			switch e {
			case pkcs11.CKR_PIN_INCORRECT, pkcs11.CKR_PIN_INVALID, pkcs11.CKR_PIN_LEN_RANGE, pkcs11.CKR_PIN_LOCKED, pkcs11.CKR_PIN_EXPIRED:
				return 0, fmt.Errorf("%w: token %q refused the PIN from KEYROLL_PKCS11_PIN / KEYROLL_PKCS11_PIN_FILE (%v)", ErrLogin, t.label, e)
			}
		}
		return 0, fmt.Errorf("%w: token %q: %v", ErrLogin, t.label, err)
	}
	return s, nil
}

// do runs fn on a logged-in session of its own. A session that turns out
// to be lost (token reinserted, login gone) is closed instead of returned
// to the pool and fn runs once more on a freshly opened one; every
// operation fn performs is safe to repeat after such a failure.
func (t *Token) do(fn func(pkcs11.SessionHandle) error) error {
	t.ops.RLock()
	defer t.ops.RUnlock()
	if t.closed {
		return ErrClosed
	}
	t.slots <- struct{}{}
	defer func() { <-t.slots }()
	for attempt := 0; ; attempt++ {
		var s pkcs11.SessionHandle
		select {
		case s = <-t.idle:
		default:
			var err error
			if s, err = t.openSession(); err != nil {
				return err
			}
		}
		err := fn(s)
		if !sessionLost(err) {
			t.idle <- s
			return err
		}
		t.mod.ctx.CloseSession(s)
		if attempt > 0 {
			return err
		}
	}
}
