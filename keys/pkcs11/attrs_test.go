package pkcs11

import (
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/miekg/pkcs11"

	"github.com/keyroll/keyroll/keys"
)

// TestAttributesInToken reads the new objects' attributes back through
// the module: the private key is a token object, private, sensitive and
// not extractable (and always was), its value cannot be read, and both
// halves carry the kid as their label.
func TestAttributesInToken(t *testing.T) {
	cfg := testToken(t)
	tok, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	for _, spec := range []keys.Spec{{Alg: "RS256", RSABits: 2048}, {Alg: "ES256"}} {
		now := time.Now()
		m, stored, err := tok.Generate(spec, "https://issuer.test", now, now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		ref, _ := keys.ParseReference(stored)
		id, _ := hex.DecodeString(ref.ID)
		err = tok.do(func(s pkcs11.SessionHandle) error {
			for _, class := range []uint{pkcs11.CKO_PRIVATE_KEY, pkcs11.CKO_PUBLIC_KEY} {
				hs, err := tok.find(s, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, class), pkcs11.NewAttribute(pkcs11.CKA_ID, id)})
				if err != nil || len(hs) != 1 {
					t.Fatalf("%s class %d: %d objects, %v", spec, class, len(hs), err)
				}
				label, err := tok.mod.ctx.GetAttributeValue(s, hs[0], []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, nil)})
				if err != nil || string(label[0].Value) != m.Key.KID {
					t.Errorf("%s class %d: label %q, want the kid %s (%v)", spec, class, label[0].Value, m.Key.KID, err)
				}
				if class != pkcs11.CKO_PRIVATE_KEY {
					continue
				}
				want := map[uint]bool{
					pkcs11.CKA_TOKEN: true, pkcs11.CKA_PRIVATE: true, pkcs11.CKA_SENSITIVE: true, pkcs11.CKA_ALWAYS_SENSITIVE: true,
					pkcs11.CKA_EXTRACTABLE: false, pkcs11.CKA_NEVER_EXTRACTABLE: true, pkcs11.CKA_SIGN: true, pkcs11.CKA_DECRYPT: false,
				}
				for typ, v := range want {
					a, err := tok.mod.ctx.GetAttributeValue(s, hs[0], []*pkcs11.Attribute{pkcs11.NewAttribute(typ, nil)})
					if err != nil || len(a[0].Value) != 1 || (a[0].Value[0] != 0) != v {
						t.Errorf("%s: attribute %#x = %v (%v), want %v", spec, typ, a, err, v)
					}
				}
				secret := uint(pkcs11.CKA_PRIVATE_EXPONENT)
				if spec.Alg == "ES256" {
					secret = pkcs11.CKA_VALUE
				}
				_, err = tok.mod.ctx.GetAttributeValue(s, hs[0], []*pkcs11.Attribute{pkcs11.NewAttribute(secret, nil)})
				if !errors.Is(err, pkcs11.Error(pkcs11.CKR_ATTRIBUTE_SENSITIVE)) {
					t.Errorf("%s: reading the private value: %v, want CKR_ATTRIBUTE_SENSITIVE", spec, err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
