package keys

import (
	"crypto"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestReferenceRoundTrip(t *testing.T) {
	r := Reference{Backend: "pkcs11", Token: "keyroll", ID: "00ff", Label: "kid1", KID: "kid1"}
	stored := r.Marshal()
	if !IsReference(stored) || !strings.HasPrefix(string(stored), "keyroll key reference/v1\n{") {
		t.Fatalf("stored as %q", stored)
	}
	got, err := ParseReference(stored)
	if err != nil || got != r {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for _, bad := range []string{
		"keyroll key reference/v2\n{}",
		"keyroll key reference/v1\n{\"backend\":\"pkcs11\"}",
		"keyroll key reference/v1\n{\"backend\":\"pkcs11\",\"id\":\"00\",\"kid\":\"k\",\"pin\":\"x\"}",
		"keyroll key reference/v1\nnot json",
		"\x01\x02sealed bytes",
	} {
		if _, err := ParseReference([]byte(bad)); !errors.Is(err, ErrBadReference) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestSoftwareBackend(t *testing.T) {
	kek := make([]byte, KEKSize)
	rand.Read(kek)
	sealer, _ := NewSealer(kek)
	sw := Software{Sealer: sealer}
	m, stored, err := sw.Generate(Spec{Alg: "ES256"}, "issuer.test", now, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if IsReference(stored) {
		t.Fatal("a sealed key looks like a reference")
	}
	if _, err := sw.Open(m.Key.KID, m.Key.Cert, stored); err != nil {
		t.Fatal(err)
	}
	if _, err := (Software{}).Open(m.Key.KID, m.Key.Cert, stored); !errors.Is(err, ErrNoKEK) {
		t.Errorf("opened a sealed key without a KEK: %v", err)
	}
	ref := Reference{Backend: "pkcs11", Token: "hsm", ID: "01", KID: m.Key.KID}.Marshal()
	if _, err := sw.Open(m.Key.KID, m.Key.Cert, ref); err == nil || !strings.Contains(err.Error(), "--key-backend pkcs11") {
		t.Errorf("software backend on an HSM reference: %v", err)
	}
	// Mixed opens the old sealed key with the software half.
	mixed := Mixed{HSM: failing{}, Software: sw}
	if _, err := mixed.Open(m.Key.KID, m.Key.Cert, stored); err != nil {
		t.Errorf("mixed backend on a sealed key: %v", err)
	}
	if _, err := mixed.Open(m.Key.KID, m.Key.Cert, ref); !errors.Is(err, errFailing) {
		t.Errorf("mixed backend on a reference: %v", err)
	}
	if err := mixed.Destroy(m.Key.KID, stored); err != nil {
		t.Errorf("mixed backend destroying a sealed key: %v", err)
	}
}

var errFailing = errors.New("failing backend")

type failing struct{}

func (failing) Generate(Spec, string, time.Time, time.Time) (*Material, []byte, error) {
	return nil, nil, errFailing
}
func (failing) Open(string, []byte, []byte) (crypto.Signer, error) { return nil, errFailing }
func (failing) Destroy(string, []byte) error                       { return errFailing }
