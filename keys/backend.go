package keys

import (
	"crypto"
	"errors"
	"fmt"
	"time"
)

// Backend makes signing keys and reopens the ones it made. The issuer
// depends on nothing else about where private keys live: [Software] seals
// them under the KEK into the store, an HSM backend (keys/pkcs11) keeps
// them in a token and gives the store only a [Reference].
type Backend interface {
	// Generate makes a key pair of spec with a self-signed certificate
	// (see [Generate]) and returns it with the record the store keeps for
	// its private key: sealed bytes or a reference, never plain key bytes.
	Generate(spec Spec, subject string, notBefore, notAfter time.Time) (m *Material, stored []byte, err error)
	// Open returns the signer of a stored record for the key kid with the
	// certificate certDER, checking that the two belong together.
	Open(kid string, certDER, stored []byte) (crypto.Signer, error)
	// Destroy removes the private key a stored record names for good. It
	// is not an error if it is already gone. Backends that keep the
	// private key only in the store (sealed) have nothing to destroy.
	Destroy(kid string, stored []byte) error
}

// ErrNoKEK means a sealed software key must be opened but no key-encryption
// key was configured (an issuer that moved to an HSM still needs its KEK
// for the software keys it made before).
var ErrNoKEK = errors.New("this key is sealed under the key-encryption key, and none is configured (KEYROLL_KEK / KEYROLL_KEK_FILE)")

// Software is the Backend of keys generated in process and sealed under the
// KEK. Its Destroy does nothing: the sealed key is part of the key's record
// and, like the record, kept for good.
type Software struct{ Sealer *Sealer }

// Generate implements Backend.
func (s Software) Generate(spec Spec, subject string, notBefore, notAfter time.Time) (*Material, []byte, error) {
	if s.Sealer == nil {
		return nil, nil, ErrNoKEK
	}
	m, err := Generate(spec, subject, notBefore, notAfter, nil)
	if err != nil {
		return nil, nil, err
	}
	sealed, err := s.Sealer.SealPrivate(m.Key.KID, m.Key.Cert, m.Signer)
	if err != nil {
		return nil, nil, err
	}
	return m, sealed, nil
}

// Open implements Backend.
func (s Software) Open(kid string, certDER, stored []byte) (crypto.Signer, error) {
	if s.Sealer == nil {
		return nil, fmt.Errorf("private key %s: %w", kid, ErrNoKEK)
	}
	if IsReference(stored) {
		ref, err := ParseReference(stored)
		if err != nil {
			return nil, fmt.Errorf("private key %s: %w", kid, err)
		}
		return nil, fmt.Errorf("private key %s lives in %s token %q: start with --key-backend %s", kid, ref.Backend, ref.Token, ref.Backend)
	}
	signer, _, err := s.Sealer.OpenPrivate(kid, certDER, stored)
	return signer, err
}

// Destroy implements Backend: sealed keys are kept. A reference names a
// key this backend cannot reach, which is an error.
func (Software) Destroy(kid string, stored []byte) error {
	if IsReference(stored) {
		return fmt.Errorf("private key %s lives in an HSM, which this issuer is not configured to use", kid)
	}
	return nil
}

// Mixed is the Backend of an issuer whose new keys come from HSM while the
// store may still hold sealed software keys from before: it generates with
// HSM, opens and destroys references with HSM, and opens sealed keys with
// Software (which needs the KEK only if such a key is opened).
type Mixed struct {
	HSM      Backend
	Software Software
}

// Generate implements Backend: every new key is made by HSM.
func (b Mixed) Generate(spec Spec, subject string, notBefore, notAfter time.Time) (*Material, []byte, error) {
	return b.HSM.Generate(spec, subject, notBefore, notAfter)
}

// Open implements Backend.
func (b Mixed) Open(kid string, certDER, stored []byte) (crypto.Signer, error) {
	if IsReference(stored) {
		return b.HSM.Open(kid, certDER, stored)
	}
	return b.Software.Open(kid, certDER, stored)
}

// Destroy implements Backend.
func (b Mixed) Destroy(kid string, stored []byte) error {
	if IsReference(stored) {
		return b.HSM.Destroy(kid, stored)
	}
	return nil
}
