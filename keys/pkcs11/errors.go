package pkcs11

import (
	"errors"
	"fmt"

	"github.com/miekg/pkcs11"
)

// Errors callers act on. None of them, and nothing this package returns,
// contains the PIN.
var (
	// ErrModule: the PKCS #11 module could not be loaded or initialised.
	ErrModule = errors.New("pkcs11: module unusable")
	// ErrNoToken: no present token carries the configured label.
	ErrNoToken = errors.New("pkcs11: no such token")
	// ErrLogin: the token refused the PIN (wrong, locked or expired).
	ErrLogin = errors.New("pkcs11: login refused")
	// ErrNoPIN: neither KEYROLL_PKCS11_PIN nor KEYROLL_PKCS11_PIN_FILE is set.
	ErrNoPIN = errors.New("pkcs11: no PIN: set KEYROLL_PKCS11_PIN or KEYROLL_PKCS11_PIN_FILE")
	// ErrNoObject: the token holds no private key under a stored reference.
	ErrNoObject = errors.New("pkcs11: the token holds no such key")
	// ErrOtherToken: a stored reference names another token than this one.
	ErrOtherToken = errors.New("pkcs11: the key lives in another token")
	// ErrClosed: the Token was closed.
	ErrClosed = errors.New("pkcs11: token closed")
	// ErrUnsupported: the token backend makes RS256, PS256 and ES256 keys only.
	ErrUnsupported = errors.New("pkcs11: unsupported key type")
)

// sessionLost reports whether err means the session (or the login behind
// it) is gone, so the session must be dropped and a new one opened.
func sessionLost(err error) bool {
	var e pkcs11.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e {
	case pkcs11.CKR_SESSION_HANDLE_INVALID, pkcs11.CKR_SESSION_CLOSED, pkcs11.CKR_USER_NOT_LOGGED_IN,
		pkcs11.CKR_DEVICE_REMOVED, pkcs11.CKR_TOKEN_NOT_PRESENT, pkcs11.CKR_DEVICE_ERROR,
		pkcs11.CKR_TOKEN_NOT_RECOGNIZED, pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED:
		return true
	}
	return false
}

// handleLost reports whether err means a cached object handle is stale.
func handleLost(err error) bool {
	var e pkcs11.Error
	return errors.As(err, &e) && (e == pkcs11.CKR_OBJECT_HANDLE_INVALID || e == pkcs11.CKR_KEY_HANDLE_INVALID)
}

func errNoObject(token, id string, n int) error {
	if n == 0 {
		return fmt.Errorf("%w: token %q has no private key with CKA_ID %s", ErrNoObject, token, id)
	}
	return fmt.Errorf("%w: token %q has %d private keys with CKA_ID %s", ErrNoObject, token, n, id)
}
