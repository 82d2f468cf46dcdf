package pkcs11

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/miekg/pkcs11"

	"github.com/keyroll/keyroll/keys"
)

var _ keys.Backend = (*Token)(nil)

// reference decodes a stored record and checks that it names a key of
// this token.
func (t *Token) reference(kid string, stored []byte) (keys.Reference, []byte, error) {
	ref, err := keys.ParseReference(stored)
	if err != nil {
		return keys.Reference{}, nil, fmt.Errorf("private key %s: %w", kid, err)
	}
	if ref.Backend != BackendName || ref.KID != kid {
		return keys.Reference{}, nil, fmt.Errorf("private key %s: %w: reference is for %s key %s", kid, keys.ErrBadReference, ref.Backend, ref.KID)
	}
	if ref.Token != t.label {
		return keys.Reference{}, nil, fmt.Errorf("private key %s: %w %q, not %q", kid, ErrOtherToken, ref.Token, t.label)
	}
	id, err := hex.DecodeString(ref.ID)
	if err != nil || len(id) == 0 {
		return keys.Reference{}, nil, fmt.Errorf("private key %s: %w: bad CKA_ID %q", kid, keys.ErrBadReference, ref.ID)
	}
	return ref, id, nil
}

// Open implements keys.Backend. It proves the token's key belongs to the
// certificate with one signature, so a token that lost or swapped the key
// is found at start-up, not when a token is signed.
func (t *Token) Open(kid string, certDER, stored []byte) (crypto.Signer, error) {
	_, id, err := t.reference(kid, stored)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, fmt.Errorf("certificate of key %s does not parse: %w", kid, err)
	}
	s := &signer{t: t, id: id, pub: cert.PublicKey}
	if err := checkPair(s, cert); err != nil {
		return nil, fmt.Errorf("private key %s: %w", kid, err)
	}
	return s, nil
}

// checkPair signs a fixed digest in the token and verifies it with the
// certificate's public key.
func checkPair(s crypto.Signer, cert *x509.Certificate) error {
	msg := []byte("keyroll key pair check")
	digest := sha256.Sum256(msg)
	sig, err := s.Sign(nil, digest[:], crypto.SHA256)
	if err != nil {
		return err
	}
	alg := x509.SHA256WithRSA
	if cert.PublicKeyAlgorithm == x509.ECDSA {
		alg = x509.ECDSAWithSHA256
	}
	if err := cert.CheckSignature(alg, msg, sig); err != nil {
		return fmt.Errorf("the token's key does not match the certificate: %w", err)
	}
	return nil
}

// Destroy implements keys.Backend: it destroys every object of the key
// (private and public) in the token. A key already gone is not an error.
func (t *Token) Destroy(kid string, stored []byte) error {
	_, id, err := t.reference(kid, stored)
	if err != nil {
		return err
	}
	return t.destroy(id)
}

func (t *Token) destroy(id []byte) error {
	t.forget(id)
	return t.do(func(s pkcs11.SessionHandle) error {
		hs, err := t.find(s, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
			pkcs11.NewAttribute(pkcs11.CKA_ID, id),
		})
		if err != nil {
			return fmt.Errorf("pkcs11: find key %s in token %q: %w", hex.EncodeToString(id), t.label, err)
		}
		var errs []error
		for _, h := range hs {
			if err := t.mod.ctx.DestroyObject(s, h); err != nil && !handleLost(err) {
				errs = append(errs, err)
			}
		}
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("pkcs11: destroy key %s in token %q: %w", hex.EncodeToString(id), t.label, err)
		}
		return nil
	})
}
