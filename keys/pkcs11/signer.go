package pkcs11

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"

	"github.com/miekg/pkcs11"
)

// signer is a crypto.Signer whose private key stays in the token: RSA
// PKCS #1 v1.5 and PSS, and ECDSA (returning ASN.1 DER, as crypto/ecdsa
// does).
type signer struct {
	t   *Token
	id  []byte // CKA_ID
	pub crypto.PublicKey
}

func (s *signer) Public() crypto.PublicKey { return s.pub }

// digestInfo prefixes of PKCS #1 v1.5 signatures (RFC 8017 §9.2 note 1).
var digestInfo = map[crypto.Hash][]byte{
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

// pssParams are the PKCS #11 hash and MGF of each supported PSS hash.
var pssParams = map[crypto.Hash][2]uint{
	crypto.SHA256: {pkcs11.CKM_SHA256, pkcs11.CKG_MGF1_SHA256},
	crypto.SHA384: {pkcs11.CKM_SHA384, pkcs11.CKG_MGF1_SHA384},
	crypto.SHA512: {pkcs11.CKM_SHA512, pkcs11.CKG_MGF1_SHA512},
}

// Sign signs digest inside the token; rand is not used (the token has its own).
func (s *signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	h := opts.HashFunc()
	if h == 0 || len(digest) != h.Size() {
		return nil, fmt.Errorf("%w: sign a %d-byte message as %v", ErrUnsupported, len(digest), h)
	}
	var mech *pkcs11.Mechanism
	input := digest
	switch pub := s.pub.(type) {
	case *rsa.PublicKey:
		if pss, ok := opts.(*rsa.PSSOptions); ok {
			p, ok := pssParams[h]
			if !ok {
				return nil, fmt.Errorf("%w: RSA-PSS with %v", ErrUnsupported, h)
			}
			mech = pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS_PSS, pkcs11.NewPSSParams(p[0], p[1], uint(pssSalt(pss, pub, h))))
		} else {
			prefix, ok := digestInfo[h]
			if !ok {
				return nil, fmt.Errorf("%w: RSA PKCS #1 v1.5 with %v", ErrUnsupported, h)
			}
			mech = pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS, nil)
			input = append(append([]byte{}, prefix...), digest...)
		}
	case *ecdsa.PublicKey:
		mech = pkcs11.NewMechanism(pkcs11.CKM_ECDSA, nil)
	default:
		return nil, fmt.Errorf("%w: %T", ErrUnsupported, s.pub)
	}
	sig, err := s.t.sign(s.id, mech, input)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: sign with key %s in token %q: %w", hex.EncodeToString(s.id), s.t.label, err)
	}
	if _, ok := s.pub.(*ecdsa.PublicKey); ok {
		return ecdsaDER(sig)
	}
	return sig, nil
}

// pssSalt is the salt length Go's rsa.SignPSS would use for opts.
func pssSalt(opts *rsa.PSSOptions, pub *rsa.PublicKey, h crypto.Hash) int {
	switch opts.SaltLength {
	case rsa.PSSSaltLengthEqualsHash:
		return h.Size()
	case rsa.PSSSaltLengthAuto:
		return (pub.N.BitLen()-1+7)/8 - 2 - h.Size()
	default:
		return opts.SaltLength
	}
}

// ecdsaDER turns the token's r || s into the ASN.1 form crypto.Signer returns.
func ecdsaDER(raw []byte) ([]byte, error) {
	if len(raw) == 0 || len(raw)%2 != 0 {
		return nil, fmt.Errorf("pkcs11: ECDSA signature of %d bytes", len(raw))
	}
	n := len(raw) / 2
	return asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(raw[:n]), new(big.Int).SetBytes(raw[n:])})
}

// sign runs one C_SignInit/C_Sign with the private key of id, finding its
// handle again once if the cached one went stale.
func (t *Token) sign(id []byte, mech *pkcs11.Mechanism, input []byte) ([]byte, error) {
	var sig []byte
	err := t.do(func(s pkcs11.SessionHandle) error {
		for attempt := 0; ; attempt++ {
			h, err := t.privateHandle(s, id)
			if err != nil {
				return err
			}
			if err = t.mod.ctx.SignInit(s, []*pkcs11.Mechanism{mech}, h); err == nil {
				sig, err = t.mod.ctx.Sign(s, input)
			}
			if handleLost(err) && attempt == 0 {
				t.forget(id)
				continue
			}
			return err
		}
	})
	return sig, err
}
