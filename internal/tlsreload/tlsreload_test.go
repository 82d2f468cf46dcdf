package tlsreload

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func writePair(t *testing.T, dir, cn string) (string, string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	cf, kf := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	os.WriteFile(cf, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(kf, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return cf, kf
}

func cnOf(t *testing.T, l *Loader) string {
	t.Helper()
	c, err := x509.ParseCertificate(l.Certificate().Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return c.Subject.CommonName
}

// TestReload: a renewed pair is served after the next check; a broken one
// keeps the previous certificate; missing files fail at start.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	cf, kf := writePair(t, dir, "first")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l, err := New(cf, kf, func() time.Time { return now }, nil)
	if err != nil {
		t.Fatal(err)
	}
	writePair(t, dir, "second")
	os.Chtimes(cf, now.Add(time.Minute), now.Add(time.Minute))
	if got := cnOf(t, l); got != "first" {
		t.Fatalf("reloaded before the interval: %s", got)
	}
	now = now.Add(interval)
	if got := cnOf(t, l); got != "second" {
		t.Fatalf("after a renewal: %s, want second", got)
	}
	os.WriteFile(kf, []byte("garbage"), 0o600)
	now = now.Add(interval)
	if got := cnOf(t, l); got != "second" {
		t.Fatalf("a broken key replaced the certificate: %s", got)
	}
	if _, err := New(filepath.Join(dir, "missing.crt"), kf, nil, nil); err == nil {
		t.Error("missing certificate file accepted")
	}
}
