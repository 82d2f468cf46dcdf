package pkcs11

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/miekg/pkcs11"

	"github.com/keyroll/keyroll/jwk"
	"github.com/keyroll/keyroll/keys"
)

// BackendName is the Backend of the references this package writes.
const BackendName = "pkcs11"

// oidP256 is the DER of the named curve P-256 (CKA_EC_PARAMS).
var oidP256 = []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}

// Generate implements keys.Backend: the key pair is made inside the token
// (RSA 2048/3072/4096 for RS256 and PS256, P-256 for ES256), labelled with
// its kid, and its certificate is self-signed through the token. If any
// step after the key pair exists fails, the pair is destroyed again.
func (t *Token) Generate(spec keys.Spec, subject string, notBefore, notAfter time.Time) (*keys.Material, []byte, error) {
	if err := spec.Validate(); err != nil {
		return nil, nil, err
	}
	id := make([]byte, 16)
	rand.Read(id)
	pubT, privT, mech, err := templates(spec, id)
	if err != nil {
		return nil, nil, err
	}
	var pub crypto.PublicKey
	var kid string
	err = t.do(func(s pkcs11.SessionHandle) error {
		pubH, privH, err := t.mod.ctx.GenerateKeyPair(s, []*pkcs11.Mechanism{mech}, pubT, privT)
		if err != nil {
			return fmt.Errorf("pkcs11: generate %s key in token %q: %w", spec, t.label, err)
		}
		if pub, err = t.publicKey(s, pubH); err == nil {
			if kid, err = jwk.Thumbprint(pub); err == nil {
				label := []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, kid)}
				if err = t.mod.ctx.SetAttributeValue(s, pubH, label); err == nil {
					err = t.mod.ctx.SetAttributeValue(s, privH, label)
				}
			}
		}
		if err != nil {
			t.mod.ctx.DestroyObject(s, privH)
			t.mod.ctx.DestroyObject(s, pubH)
			return fmt.Errorf("pkcs11: new %s key in token %q: %w", spec, t.label, err)
		}
		t.mu.Lock()
		t.handles[hex.EncodeToString(id)] = privH
		t.mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	ref := keys.Reference{Backend: BackendName, Token: t.label, ID: hex.EncodeToString(id), Label: kid, KID: kid}
	m, err := keys.Certify(spec.Alg, &signer{t: t, id: id, pub: pub}, subject, notBefore, notAfter, nil)
	if err != nil {
		return nil, nil, errors.Join(err, t.destroy(id))
	}
	return m, ref.Marshal(), nil
}

// templates are the attributes of a new key pair: token objects; the
// private half sensitive, never extractable, for signing only.
func templates(spec keys.Spec, id []byte) (pub, priv []*pkcs11.Attribute, mech *pkcs11.Mechanism, err error) {
	pending := "keyroll pending " + hex.EncodeToString(id)
	pub = []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, false),
		pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true),
		pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, false),
		pkcs11.NewAttribute(pkcs11.CKA_WRAP, false),
		pkcs11.NewAttribute(pkcs11.CKA_ID, id),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, pending),
	}
	priv = []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
		pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, false),
		pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, false),
		pkcs11.NewAttribute(pkcs11.CKA_DERIVE, false),
		pkcs11.NewAttribute(pkcs11.CKA_ID, id),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, pending),
	}
	switch spec.Alg {
	case "RS256", "PS256":
		pub = append(pub,
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA),
			pkcs11.NewAttribute(pkcs11.CKA_MODULUS_BITS, spec.RSABits),
			pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, []byte{1, 0, 1}))
		priv = append(priv, pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA))
		mech = pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN, nil)
	case "ES256":
		pub = append(pub,
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC),
			pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, oidP256))
		priv = append(priv, pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC))
		mech = pkcs11.NewMechanism(pkcs11.CKM_EC_KEY_PAIR_GEN, nil)
	default:
		return nil, nil, nil, fmt.Errorf("%w: %s (an HSM key is RS256, PS256 or ES256)", ErrUnsupported, spec.Alg)
	}
	return pub, priv, mech, nil
}

// publicKey reads the public key of a public key object.
func (t *Token) publicKey(s pkcs11.SessionHandle, h pkcs11.ObjectHandle) (crypto.PublicKey, error) {
	attrs, err := t.mod.ctx.GetAttributeValue(s, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, nil)})
	if err != nil {
		return nil, err
	}
	switch ulong(attrs[0].Value) {
	case pkcs11.CKK_RSA:
		a, err := t.mod.ctx.GetAttributeValue(s, h, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_MODULUS, nil), pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, nil)})
		if err != nil {
			return nil, err
		}
		e := new(big.Int).SetBytes(a[1].Value)
		if !e.IsInt64() || e.Int64() > 1<<31-1 {
			return nil, fmt.Errorf("%w: RSA public exponent too large", ErrUnsupported)
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(a[0].Value), E: int(e.Int64())}, nil
	case pkcs11.CKK_EC:
		a, err := t.mod.ctx.GetAttributeValue(s, h, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, nil), pkcs11.NewAttribute(pkcs11.CKA_EC_POINT, nil)})
		if err != nil {
			return nil, err
		}
		if string(a[0].Value) != string(oidP256) {
			return nil, fmt.Errorf("%w: EC curve other than P-256", ErrUnsupported)
		}
		point := a[1].Value
		var inner []byte
		if rest, err := asn1.Unmarshal(point, &inner); err == nil && len(rest) == 0 {
			point = inner // CKA_EC_POINT is DER OCTET STRING (some modules give it raw)
		}
		return ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
	default:
		return nil, fmt.Errorf("%w: key type %x", ErrUnsupported, attrs[0].Value)
	}
}

// ulong decodes a CK_ULONG attribute value (native byte order).
func ulong(b []byte) uint64 {
	switch len(b) {
	case 8:
		return binary.NativeEndian.Uint64(b)
	case 4:
		return uint64(binary.NativeEndian.Uint32(b))
	}
	return ^uint64(0)
}
