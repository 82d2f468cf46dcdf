package pkcs11_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/keys"
	"github.com/keyroll/keyroll/keys/pkcs11"
	"github.com/keyroll/keyroll/keys/pkcs11/softhsmtest"
)

var now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// newToken initialises a token labelled label in h and returns its configuration.
func newToken(h *softhsmtest.HSM, label string) pkcs11.Config {
	return pkcs11.Config{Module: h.Module, Token: h.Token(label), PIN: softhsmtest.PIN}
}

// open opens a token and closes it when the test ends.
func open(t *testing.T, cfg pkcs11.Config) *pkcs11.Token {
	t.Helper()
	tok, err := pkcs11.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tok.Close() })
	return tok
}

func generate(t *testing.T, tok *pkcs11.Token, spec string) (*keys.Material, []byte) {
	t.Helper()
	s, err := keys.ParseSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	m, stored, err := tok.Generate(s, "https://issuer.test", now, now.AddDate(1, 0, 0))
	if err != nil {
		t.Fatalf("generate %s: %v", spec, err)
	}
	return m, stored
}

func TestGenerateSignsInToken(t *testing.T) {
	h := softhsmtest.New(t)
	tok := open(t, newToken(h, "keyroll"))
	for _, spec := range []string{"RS256", "PS256:3072", "RS256:4096", "ES256"} {
		m, stored := generate(t, tok, spec)
		if err := m.Cert.CheckSignature(m.Cert.SignatureAlgorithm, m.Cert.RawTBSCertificate, m.Cert.Signature); err != nil {
			t.Errorf("%s: certificate not self-signed by the token's key: %v", spec, err)
		}
		ref, err := keys.ParseReference(stored)
		if err != nil || ref.KID != m.Key.KID || ref.Label != m.Key.KID || ref.Token != "keyroll" || ref.Backend != "pkcs11" {
			t.Fatalf("%s: reference %+v, %v", spec, ref, err)
		}
		signer, err := tok.Open(m.Key.KID, m.Key.Cert, stored)
		if err != nil {
			t.Fatalf("%s: open: %v", spec, err)
		}
		digest := sha256.Sum256([]byte("payload"))
		switch pub := m.Cert.PublicKey.(type) {
		case *rsa.PublicKey:
			opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
			sig, err := signer.Sign(nil, digest[:], opts)
			if err != nil || rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, opts) != nil {
				t.Errorf("%s: PSS signature: %v", spec, err)
			}
			sig, err = signer.Sign(nil, digest[:], crypto.SHA256)
			if err != nil || rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) != nil {
				t.Errorf("%s: PKCS #1 v1.5 signature: %v", spec, err)
			}
		case *ecdsa.PublicKey:
			sig, err := signer.Sign(nil, digest[:], crypto.SHA256)
			if err != nil || !ecdsa.VerifyASN1(pub, digest[:], sig) {
				t.Errorf("%s: ECDSA signature: %v", spec, err)
			}
		}
	}
}

func TestEdDSAIsRefused(t *testing.T) {
	h := softhsmtest.New(t)
	tok := open(t, newToken(h, "keyroll"))
	_, _, err := tok.Generate(keys.Spec{Alg: "EdDSA"}, "https://issuer.test", now, now.AddDate(1, 0, 0))
	if !errors.Is(err, pkcs11.ErrUnsupported) {
		t.Fatalf("EdDSA in the token: %v", err)
	}
}

func TestOpenFailsClearly(t *testing.T) {
	h := softhsmtest.New(t)
	good := newToken(h, "keyroll")
	for _, c := range []struct {
		name string
		cfg  pkcs11.Config
		want error
	}{
		{"wrong PIN", pkcs11.Config{Module: good.Module, Token: good.Token, PIN: "not-the-pin-4711"}, pkcs11.ErrLogin},
		{"missing token", pkcs11.Config{Module: good.Module, Token: "nope", PIN: "not-the-pin-4711"}, pkcs11.ErrNoToken},
		{"missing module", pkcs11.Config{Module: filepath.Join(h.Dir, "missing.so"), Token: good.Token, PIN: "not-the-pin-4711"}, pkcs11.ErrModule},
		{"not a module", pkcs11.Config{Module: h.Conf, Token: good.Token, PIN: "not-the-pin-4711"}, pkcs11.ErrModule},
		{"no PIN", pkcs11.Config{Module: good.Module, Token: good.Token}, pkcs11.ErrNoPIN},
	} {
		tok, err := pkcs11.Open(c.cfg)
		if err == nil {
			tok.Close()
			t.Errorf("%s: opened", c.name)
			continue
		}
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if strings.Contains(err.Error(), "not-the-pin") || strings.Contains(err.Error(), softhsmtest.PIN) {
			t.Errorf("%s: the error shows the PIN: %v", c.name, err)
		}
	}
	for _, shown := range []string{fmt.Sprint(good), fmt.Sprintf("%+v %#v", good, good)} {
		if strings.Contains(shown, softhsmtest.PIN) {
			t.Errorf("a printed Config shows the PIN: %s", shown)
		}
	}
	// The right PIN still works after a refused one.
	open(t, good).Close()
}

func TestDestroyAndReferences(t *testing.T) {
	h := softhsmtest.New(t)
	cfg := newToken(h, "keyroll")
	h.Token("other")
	tok := open(t, cfg)
	m, stored := generate(t, tok, "ES256")
	kid := m.Key.KID

	other := cfg
	other.Token = "other"
	otherTok := open(t, other)
	if _, err := otherTok.Open(kid, m.Key.Cert, stored); !errors.Is(err, pkcs11.ErrOtherToken) {
		t.Errorf("opened a key of another token: %v", err)
	}
	if _, err := tok.Open("other-kid", m.Key.Cert, stored); !errors.Is(err, keys.ErrBadReference) {
		t.Errorf("opened a reference under another kid: %v", err)
	}
	m2, _ := generate(t, tok, "ES256")
	if _, err := tok.Open(kid, m2.Key.Cert, stored); err == nil {
		t.Error("opened a key with another key's certificate")
	}

	if err := tok.Destroy(kid, stored); err != nil {
		t.Fatal(err)
	}
	if err := tok.Destroy(kid, stored); err != nil {
		t.Fatalf("destroying again: %v", err)
	}
	if _, err := tok.Open(kid, m.Key.Cert, stored); !errors.Is(err, pkcs11.ErrNoObject) {
		t.Fatalf("opened a destroyed key: %v", err)
	}
}

func TestSignerAfterClose(t *testing.T) {
	h := softhsmtest.New(t)
	tok, err := pkcs11.Open(newToken(h, "keyroll"))
	if err != nil {
		t.Fatal(err)
	}
	m, _ := generate(t, tok, "ES256")
	tok.Close()
	digest := sha256.Sum256(nil)
	if _, err := m.Signer.Sign(nil, digest[:], crypto.SHA256); !errors.Is(err, pkcs11.ErrClosed) {
		t.Fatalf("signed through a closed token: %v", err)
	}
}

// TestPkcs11ToolSeesSensitiveKeys lists the token with opensc's
// pkcs11-tool: an operator sees each key labelled with its kid, and the
// private half sensitive and never extractable.
func TestPkcs11ToolSeesSensitiveKeys(t *testing.T) {
	h := softhsmtest.New(t)
	cfg := newToken(h, "keyroll")
	tool, err := exec.LookPath("pkcs11-tool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pkcs11-tool (opensc) is required under CI=true")
		}
		t.Skip("SKIP: pkcs11-tool not on PATH (apt-get install opensc)")
	}
	tok := open(t, cfg)
	m, _ := generate(t, tok, "RS256")
	cmd := exec.Command(tool, "--module", cfg.Module, "--token-label", cfg.Token, "--login", "--pin", cfg.PIN, "--list-objects")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pkcs11-tool: %v\n%s", err, out)
	}
	text := string(out)
	objects := map[string]string{} // "Private Key Object" → its lines
	var current string
	for _, line := range strings.Split(text, "\n") {
		if line != "" && line[0] != ' ' {
			current, _, _ = strings.Cut(line, ";")
		}
		objects[current] += line + "\n"
	}
	priv, pub := objects["Private Key Object"], objects["Public Key Object"]
	for _, want := range []string{"label:      " + m.Key.KID, "Access:     sensitive, always sensitive, never extractable", "Usage:      sign\n"} {
		if !strings.Contains(priv, want) {
			t.Errorf("private key object lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(pub, "label:      "+m.Key.KID) || !strings.Contains(pub, "Usage:      verify\n") {
		t.Errorf("public key object not labelled %s or not for verifying only:\n%s", m.Key.KID, text)
	}
	if strings.Count(text, m.Key.KID) != 2 {
		t.Errorf("want the private and public object labelled %s:\n%s", m.Key.KID, text)
	}
}
