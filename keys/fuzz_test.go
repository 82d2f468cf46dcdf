package keys

import (
	"bytes"
	"testing"
	"time"
)

// FuzzParseKEK: a KEK is 32 bytes or an error, never a panic.
func FuzzParseKEK(f *testing.F) {
	for _, s := range []string{"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", "ABEiM0RVZneImaq7zN3u/wARIjNEVWZ3iJmqu8zd7v8=", " x ", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if kek, err := ParseKEK(s); err == nil && len(kek) != KEKSize {
			t.Fatalf("ParseKEK returned %d bytes", len(kek))
		}
	})
}

// FuzzOpenPrivate: altered sealed keys (and check values) never open.
func FuzzOpenPrivate(f *testing.F) {
	s, _ := NewSealer(bytes.Repeat([]byte{7}, KEKSize))
	m, err := Generate(Spec{Alg: "ES256"}, "https://i.example", time.Unix(0, 0), time.Unix(1e9, 0), nil)
	if err != nil {
		f.Fatal(err)
	}
	sealed, _ := s.SealPrivate(m.Key.KID, m.Key.Cert, m.Signer)
	f.Add(sealed, s.CheckValue())
	f.Add([]byte{}, []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, data, check []byte) {
		if _, _, err := s.OpenPrivate(m.Key.KID, m.Key.Cert, data); err == nil && !bytes.Equal(data, sealed) {
			t.Fatal("an altered sealed key opened")
		}
		_ = s.Verify(check)
	})
}

// FuzzParseReference: a stored key reference is decoded with its required
// fields, or refused.
func FuzzParseReference(f *testing.F) {
	f.Add(Reference{Backend: "pkcs11", Token: "t", ID: "0a", Label: "k", KID: "k"}.Marshal())
	f.Add([]byte("keyroll key reference/v2\n{}"))
	f.Add([]byte("keyroll key reference/v1\n{\"backend\":\"pkcs11\",\"id\":\"1\",\"kid\":\"k\"} trailing"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseReference(data)
		if err != nil {
			return
		}
		if r.Backend == "" || r.ID == "" || r.KID == "" {
			t.Fatalf("accepted %+v", r)
		}
		if again, err := ParseReference(r.Marshal()); err != nil || again != r {
			t.Fatalf("round trip: %+v, %v", again, err)
		}
	})
}
