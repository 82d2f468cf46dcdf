package ops_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/jwk"
	"github.com/keyroll/keyroll/ops"
	"github.com/keyroll/keyroll/ops/opstest"
)

const pinEntity = "https://sts.example.com/"

// pinDocs are the legitimate metadata and its attacks: re-signed by an
// attacker who lists their own certificate, re-signed while still listing
// the legitimate one, and stripped of its signature.
func pinDocs(t *testing.T) (legit, attacker opstest.Signing, docs map[string][]byte) {
	now := time.Now()
	legit = opstest.NewCert(t, "Legit STS", now.Add(-time.Hour), now.Add(365*24*time.Hour))
	attacker = opstest.NewCert(t, "ATTACKER", now.Add(-time.Hour), now.Add(365*24*time.Hour))
	docs = map[string][]byte{
		"legit":              opstest.Metadata(t, pinEntity, legit, legit),
		"re-signed":          opstest.Metadata(t, pinEntity, attacker, attacker),
		"re-signed, listing": opstest.Metadata(t, pinEntity, attacker, legit, attacker),
		"stripped":           opstest.Unsigned(t, pinEntity, legit),
	}
	return legit, attacker, docs
}

func TestPinnedMetadataRefusesAnyOtherSigner(t *testing.T) {
	legit, _, docs := pinDocs(t)
	sum := sha256.Sum256(legit.Cert.Raw)
	certFile := filepath.Join(t.TempDir(), "legit.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: legit.Cert.Raw}), 0o600)
	for _, spec := range []string{certFile, jwk.SHA1Thumbprint(legit.Cert.Raw), strings.ToLower(hex.EncodeToString(sum[:]))} {
		var pin ops.Pin
		if err := ops.AddPinSpec(&pin, spec, os.ReadFile); err != nil {
			t.Fatal(err)
		}
		for name, doc := range docs {
			p, err := ops.ParsePinned(doc, "test", pin)
			if name == "legit" {
				if err != nil || !p.Signature.Pinned || !strings.HasPrefix(p.Signature.String(), "valid, signed by the pinned certificate") {
					t.Fatalf("pin %s: legit metadata: %v %+v", spec, err, p)
				}
				continue
			}
			if !errors.Is(err, ops.ErrPinnedSignerMismatch) || p != nil {
				t.Errorf("pin %s: %s metadata: err = %v, want ErrPinnedSignerMismatch", spec, name, err)
			}
			if name == "stripped" && !strings.Contains(err.Error(), "unsigned") {
				t.Errorf("stripped: %v does not say unsigned", err)
			}
		}
	}
}

func TestUnpinnedMetadataIsNeverCalledValid(t *testing.T) {
	_, attacker, docs := pinDocs(t)
	p, err := ops.Parse(docs["re-signed"], "test")
	if err != nil {
		t.Fatal(err)
	}
	s := p.Signature.String()
	if strings.Contains(s, "valid") || p.Signature.Pinned {
		t.Fatalf("self-signed metadata described as %q", s)
	}
	for _, want := range []string{jwk.SHA1Thumbprint(attacker.Cert.Raw), "CN=ATTACKER", "the document itself publishes", "no trust decision"} {
		if !strings.Contains(s, want) {
			t.Errorf("signature %q does not say %q", s, want)
		}
	}
}

func TestPinNeedsMetadata(t *testing.T) {
	legit, _, _ := pinDocs(t)
	pin := ops.Pin{Thumbprints: []string{jwk.SHA1Thumbprint(legit.Cert.Raw)}}
	if _, err := ops.ParsePinned(opstest.JWKS(t, legit), "keys.json", pin); !errors.Is(err, ops.ErrPinNeedsMetadata) {
		t.Fatalf("JWKS with a pin: %v", err)
	}
	srv := opstest.NewServer(t, false)
	srv.Set("/.well-known/openid-configuration", []byte(`{"issuer":"x","jwks_uri":"`+srv.URL+`/keys"}`))
	srv.Set("/keys", opstest.JWKS(t, legit))
	l := &ops.Loader{Pin: pin}
	if _, err := l.Load(context.Background(), ops.Source{Location: srv.URL + "/.well-known/openid-configuration"}); !errors.Is(err, ops.ErrPinNeedsMetadata) {
		t.Fatalf("discovery with a pin: %v", err)
	}
}

func TestPinSpecErrors(t *testing.T) {
	var pin ops.Pin
	if err := ops.AddPinSpec(&pin, "no-such-file.pem", os.ReadFile); err == nil || !strings.Contains(err.Error(), "neither a SHA-1/SHA-256 thumbprint") {
		t.Fatalf("missing file: %v", err)
	}
	if err := ops.AddPinSpec(&pin, "x", func(string) ([]byte, error) { return []byte("not a cert"), nil }); err == nil {
		t.Fatal("a file without certificates was accepted")
	}
	if !pin.IsZero() {
		t.Fatal("failed specs pinned something")
	}
}

func FuzzAddPinSpec(f *testing.F) {
	f.Add("FD482A5C6FED30B76E489D53F1C687C54EDC3AD7", []byte(nil))
	f.Add("fd:48:2a", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Add("cert.cer", []byte("MIIB"))
	f.Fuzz(func(t *testing.T, spec string, file []byte) {
		var pin ops.Pin
		err := ops.AddPinSpec(&pin, spec, func(string) ([]byte, error) { return file, nil })
		if err == nil && pin.IsZero() {
			t.Fatalf("AddPinSpec(%q) succeeded and pinned nothing", spec)
		}
		if err == nil {
			ops.ParsePinned([]byte(`<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>`), "fuzz", pin)
		}
	})
}
