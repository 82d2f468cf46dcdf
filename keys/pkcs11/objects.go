package pkcs11

import (
	"encoding/hex"
	"slices"

	"github.com/miekg/pkcs11"
)

// find returns the token objects matching template.
func (t *Token) find(s pkcs11.SessionHandle, template []*pkcs11.Attribute) ([]pkcs11.ObjectHandle, error) {
	if err := t.mod.ctx.FindObjectsInit(s, template); err != nil {
		return nil, err
	}
	var all []pkcs11.ObjectHandle
	for {
		hs, _, err := t.mod.ctx.FindObjects(s, 16)
		if err != nil {
			t.mod.ctx.FindObjectsFinal(s)
			return nil, err
		}
		all = append(all, hs...)
		if len(hs) == 0 {
			break
		}
	}
	return all, t.mod.ctx.FindObjectsFinal(s)
}

// privateHandle finds the private key object with CKA_ID id, once per
// process (object handles stay valid across the application's sessions).
func (t *Token) privateHandle(s pkcs11.SessionHandle, id []byte) (pkcs11.ObjectHandle, error) {
	key := hex.EncodeToString(id)
	t.mu.Lock()
	h, ok := t.handles[key]
	t.mu.Unlock()
	if ok {
		return h, nil
	}
	hs, err := t.find(s, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_ID, id),
	})
	if err != nil {
		return 0, err
	}
	if len(hs) != 1 {
		return 0, errNoObject(t.label, key, len(hs))
	}
	t.mu.Lock()
	t.handles[key] = hs[0]
	t.mu.Unlock()
	return hs[0], nil
}

func (t *Token) forget(id []byte) {
	t.mu.Lock()
	delete(t.handles, hex.EncodeToString(id))
	t.mu.Unlock()
}

// Labels returns the CKA_LABEL of every private key in the token, sorted:
// for keyroll's keys, their kids.
func (t *Token) Labels() ([]string, error) {
	var labels []string
	err := t.do(func(s pkcs11.SessionHandle) error {
		labels = nil
		hs, err := t.find(s, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY)})
		if err != nil {
			return err
		}
		for _, h := range hs {
			a, err := t.mod.ctx.GetAttributeValue(s, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, nil)})
			if err != nil {
				return err
			}
			labels = append(labels, string(a[0].Value))
		}
		return nil
	})
	slices.Sort(labels)
	return labels, err
}
