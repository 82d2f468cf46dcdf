package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeTLSPair writes a self-signed certificate for 127.0.0.1 and its key.
func writeTLSPair(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "keyroll test"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}

// TestServeTLS: with --tls-cert and --tls-key, serve speaks https that
// curl --cacert accepts, under an https issuer URL, and refuses plain http.
func TestServeTLS(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("curl is not installed")
		}
		t.Skip("curl is not installed")
	}
	dir := t.TempDir()
	cf, kf := writeTLSPair(t, dir)
	s := startServe(t, func(string) string { return "" }, "--store", "sqlite:"+filepath.Join(dir, "keyroll.db"), "--key-alg", "ES256",
		"--tls-cert", cf, "--tls-key", kf)
	if !strings.HasPrefix(s.url, "https://127.0.0.1:") {
		t.Fatalf("issuer URL %s, want https", s.url)
	}
	out, err := exec.Command(curl, "-sS", "--fail", "--cacert", cf, s.url+"/.well-known/openid-configuration").CombinedOutput()
	if err != nil {
		t.Fatalf("curl --cacert: %v\n%s", err, out)
	}
	var doc struct{ Issuer string }
	if json.Unmarshal(out, &doc) != nil || doc.Issuer != s.url {
		t.Errorf("discovery over https: %s", out)
	}
	if out, err := exec.Command(curl, "-sS", "--fail", "--cacert", cf, s.url+"/readyz").CombinedOutput(); err != nil || !strings.Contains(string(out), `"ok"`) {
		t.Errorf("readyz over https: %v %s", err, out)
	}
	plain := "http://" + strings.TrimPrefix(s.url, "https://") + "/healthz"
	if out, err := exec.Command(curl, "-sS", "--fail", plain).CombinedOutput(); err == nil {
		t.Errorf("plain http to the TLS listener answered: %s", out)
	}
	if _, _, code := runIn(t, "", "serve", "--tls-cert", cf); code == exitOK {
		t.Error("--tls-cert without --tls-key was accepted")
	}
}

// TestServeJSONLogs: --log-format json writes one JSON object a line;
// a bad --log-level is refused.
func TestServeJSONLogs(t *testing.T) {
	var errb strings.Builder
	_, errs, code := runIn(t, "", "serve", "--log-level", "loud")
	if code == exitOK || !strings.Contains(errs, "--log-level") {
		t.Errorf("--log-level loud: exit %d %s", code, errs)
	}
	lf := logFlags{format: "json", level: "info"}
	log, err := lf.logger(&errb)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hello", "k", "v")
	var line map[string]any
	if json.Unmarshal([]byte(errb.String()), &line) != nil || line["msg"] != "hello" || line["k"] != "v" {
		t.Errorf("json log line %q", errb.String())
	}
}
