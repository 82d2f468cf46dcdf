package keys

import (
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/jwk"
)

var now = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

func TestGenerateEveryAlg(t *testing.T) {
	seen := map[string]bool{}
	for _, spec := range []string{"RS256", "PS256", "ES256", "EdDSA"} {
		s, err := ParseSpec(spec)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Generate(s, "issuer.test", now.Add(-5*time.Minute), now.Add(365*24*time.Hour), nil)
		if err != nil {
			t.Fatal(err)
		}
		k := m.Key
		if k.Alg != spec || k.Thumbprint != jwk.SHA1Thumbprint(k.Cert) || len(k.Thumbprint) != 40 || strings.ToUpper(k.Thumbprint) != k.Thumbprint {
			t.Errorf("%s: %+v", spec, k)
		}
		if !k.NotBefore.Equal(now.Add(-5*time.Minute)) || !k.NotAfter.Equal(now.Add(365*24*time.Hour)) {
			t.Errorf("%s: validity %s..%s", spec, k.NotBefore, k.NotAfter)
		}
		if err := m.Cert.CheckSignature(m.Cert.SignatureAlgorithm, m.Cert.RawTBSCertificate, m.Cert.Signature); err != nil {
			t.Errorf("%s: not self-signed: %v", spec, err)
		}
		if seen[k.KID] {
			t.Errorf("kid %s reused", k.KID)
		}
		seen[k.KID] = true
	}
}

func TestParseSpec(t *testing.T) {
	if s, err := ParseSpec("RS256:4096"); err != nil || s.RSABits != 4096 {
		t.Fatalf("RS256:4096: %+v %v", s, err)
	}
	for _, bad := range []string{"HS256", "RS256:1024", "ES256:256", "RS256:x", "none"} {
		if _, err := ParseSpec(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestSealBindsKeyToItsRow(t *testing.T) {
	s, _ := NewSealer(make([]byte, KEKSize))
	m1, _ := Generate(Spec{Alg: "ES256"}, "a", now, now.Add(time.Hour), nil)
	m2, _ := Generate(Spec{Alg: "ES256"}, "b", now, now.Add(time.Hour), nil)
	sealed, err := s.SealPrivate(m1.Key.KID, m1.Key.Cert, m1.Signer)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sealed), string(m1.Key.Cert[:16])) {
		t.Fatal("sealed bytes look like plaintext")
	}
	if _, _, err := s.OpenPrivate(m1.Key.KID, m1.Key.Cert, sealed); err != nil {
		t.Fatalf("open: %v", err)
	}
	if _, _, err := s.OpenPrivate(m2.Key.KID, m2.Key.Cert, sealed); !errors.Is(err, ErrWrongKEK) {
		t.Fatalf("sealed key moved to another row opened: %v", err)
	}
	other, _ := NewSealer(append(make([]byte, KEKSize-1), 1))
	if _, _, err := other.OpenPrivate(m1.Key.KID, m1.Key.Cert, sealed); !errors.Is(err, ErrWrongKEK) {
		t.Fatalf("wrong KEK opened the key: %v", err)
	}
	if err := other.Verify(s.CheckValue()); !errors.Is(err, ErrWrongKEK) {
		t.Fatalf("KEK check under another KEK: %v", err)
	}
	if err := s.Verify(s.CheckValue()); err != nil {
		t.Fatal(err)
	}
	if _, err := x509.ParseCertificate(m1.Key.Cert); err != nil {
		t.Fatal(err)
	}
}

func TestLoadKEK(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "keyroll.kek")
	none := func(string) string { return "" }
	kek, src, err := LoadKEK(none, path, true)
	if err != nil || !src.Created || len(kek) != KEKSize {
		t.Fatalf("create: %v %+v", err, src)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
	again, src, err := LoadKEK(none, path, true)
	if err != nil || src.Created || string(again) != string(kek) {
		t.Fatalf("reload: %v %+v", err, src)
	}
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "KEYROLL_KEK" {
				return v
			}
			return ""
		}
	}
	if _, _, err := LoadKEK(env("too-short"), path, true); err == nil || strings.Contains(err.Error(), "too-short") {
		t.Fatalf("bad KEYROLL_KEK: %v (must not echo the secret)", err)
	}
	if _, _, err := LoadKEK(func(k string) string {
		if k == "KEYROLL_KEK_FILE" {
			return filepath.Join(dir, "missing")
		}
		return ""
	}, path, true); err == nil {
		t.Fatal("a missing explicit KEK file was created or ignored")
	}
	os.WriteFile(path, []byte("garbage"), 0o600)
	if _, _, err := LoadKEK(none, path, true); err == nil {
		t.Fatal("garbage KEK file accepted")
	}
	if b, _ := os.ReadFile(path); string(b) != "garbage" {
		t.Fatal("KEK file overwritten")
	}
}
