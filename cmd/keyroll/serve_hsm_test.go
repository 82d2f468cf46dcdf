package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/jws"
	"github.com/keyroll/keyroll/keys/pkcs11"
	"github.com/keyroll/keyroll/keys/pkcs11/softhsmtest"
)

func envMap(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestServeHSMRefusesBadToken: a missing module, a missing token or a
// wrong PIN stops serve with an error that says which, shows no PIN, and
// creates no store.
func TestServeHSMRefusesBadToken(t *testing.T) {
	h := softhsmtest.New(t)
	label := h.Token("keyroll")
	dir := t.TempDir()
	pinFile := filepath.Join(dir, "pin")
	os.WriteFile(pinFile, []byte("wrong-pin-0815\n"), 0o600)
	for _, c := range []struct {
		name, module, token string
		env                 map[string]string
		want                string
	}{
		{"wrong PIN", h.Module, label, map[string]string{"KEYROLL_PKCS11_PIN": "wrong-pin-0815"}, "refused the PIN"},
		{"wrong PIN from a file", h.Module, label, map[string]string{"KEYROLL_PKCS11_PIN_FILE": pinFile}, "refused the PIN"},
		{"no PIN", h.Module, label, map[string]string{}, "KEYROLL_PKCS11_PIN"},
		{"missing token", h.Module, "nope", map[string]string{"KEYROLL_PKCS11_PIN": "wrong-pin-0815"}, `no token labelled "nope"`},
		{"missing module", filepath.Join(dir, "nope.so"), label, map[string]string{"KEYROLL_PKCS11_PIN": "wrong-pin-0815"}, "nope.so"},
	} {
		data := filepath.Join(dir, c.name)
		_, errs, code := runCmd(t, envMap(c.env), "serve", "--listen", "127.0.0.1:0", "--store", "sqlite:"+filepath.Join(data, "keyroll.db"),
			"--key-backend", "pkcs11", "--pkcs11-module", c.module, "--pkcs11-token", c.token)
		if code != exitFail || !strings.Contains(errs, c.want) {
			t.Errorf("%s: exit %d, want an error with %q:\n%s", c.name, code, c.want, errs)
		}
		if strings.Contains(errs, "wrong-pin-0815") || strings.Contains(errs, softhsmtest.PIN) {
			t.Errorf("%s: the error shows the PIN:\n%s", c.name, errs)
		}
		if _, err := os.Stat(data); !os.IsNotExist(err) {
			t.Errorf("%s: a refused start created %s", c.name, data)
		}
	}
	_, errs, code := runCmd(t, envMap(nil), "serve", "--key-backend", "pkcs11", "--key-alg", "EdDSA", "--pkcs11-module", h.Module, "--pkcs11-token", label)
	if code != exitFail || !strings.Contains(errs, "not EdDSA") {
		t.Errorf("EdDSA in the HSM: exit %d %s", code, errs)
	}
}

// TestServeHSMRollover: an issuer that starts on software keys moves to
// the HSM; every new key is made in the token, the old ones keep signing
// until they leave, and a restart publishes the same keys.
func TestServeHSMRollover(t *testing.T) {
	h := softhsmtest.New(t)
	label := h.Token("keyroll")
	dir := t.TempDir()
	storeArg := []string{"--store", "sqlite:" + filepath.Join(dir, "data", "keyroll.db")}
	hsmArgs := append(slices.Clone(storeArg), "--key-backend", "pkcs11", "--pkcs11-module", h.Module, "--pkcs11-token", label)
	getenv := envMap(map[string]string{"KEYROLL_PKCS11_PIN": softhsmtest.PIN})

	s := startServe(t, getenv, storeArg...) // software keys, and a KEK
	softPrimary := listKeys(t, getenv, s.url)[0]
	s.stop()

	s = startServe(t, getenv, hsmArgs...)
	if !strings.Contains(s.out.String(), `new keys generated in PKCS #11 token "keyroll"`) {
		t.Fatalf("serve does not say where keys are made:\n%s", s.out)
	}
	for _, args := range [][]string{{"keys", "rotate"}, {"keys", "rotate", "--urgent"}, {"keys", "revoke", softPrimary.Thumbprint}} {
		if out, errs, code := runCmd(t, getenv, append(args, "--server", s.url)...); code != 0 {
			t.Fatalf("%v: %d %s %s", args, code, out, errs)
		}
	}
	ks := listKeys(t, getenv, s.url)
	thumbs, primary := publishedThumbs(ks)
	if len(ks) != 3 || len(thumbs) != 2 || primary == softPrimary.Thumbprint {
		t.Fatalf("after rotate, urgent rotate and revoke: %+v", ks)
	}
	jw, md, metadata := published(t, s.url)
	if !slices.Equal(jw, thumbs) || !slices.Equal(md, thumbs) {
		t.Fatalf("published %v / %v, want %v", jw, md, thumbs)
	}
	for _, k := range ks {
		if k.Thumbprint == primary {
			xmlsecVerify(t, metadata, mustCert(t, s.url, k.KID)) // signed through the HSM
		}
	}
	jwks := get(t, s.url+issuer.JWKSPath)
	s.stop()
	tok, err := pkcs11.Open(pkcs11.Config{Module: h.Module, Token: label, PIN: softhsmtest.PIN})
	if err != nil {
		t.Fatal(err)
	}
	inToken, err := tok.Labels()
	tok.Close()
	var hsmKids []string
	for _, k := range ks[1:] {
		hsmKids = append(hsmKids, k.KID)
	}
	slices.Sort(hsmKids)
	if err != nil || !slices.Equal(inToken, hsmKids) {
		t.Fatalf("token holds %v (%v), want the two new keys %v", inToken, err, hsmKids)
	}

	s = startServe(t, getenv, hsmArgs...)
	if after := listKeys(t, getenv, s.url); !equalJSON(t, ks, after) {
		t.Fatalf("keys changed across a restart:\n%v\n%v", ks, after)
	}
	if !bytes.Equal(get(t, s.url+issuer.JWKSPath), jwks) {
		t.Fatal("JWKS changed across a restart")
	}
	get(t, s.url+issuer.HealthPath)
}

// TestServeHSMNeedsNoKEK: a new issuer on the HSM has no software key to
// seal, so it neither needs nor creates a KEK.
func TestServeHSMNeedsNoKEK(t *testing.T) {
	h := softhsmtest.New(t)
	dir := t.TempDir()
	s := startServe(t, envMap(map[string]string{"KEYROLL_PKCS11_PIN": softhsmtest.PIN}), "--store", "sqlite:"+filepath.Join(dir, "keyroll.db"),
		"--key-backend", "pkcs11", "--pkcs11-module", h.Module, "--pkcs11-token", h.Token("keyroll"), "--key-alg", "RS256:3072")
	if strings.Contains(s.out.String(), "key-encryption key") {
		t.Errorf("serve talks of a KEK:\n%s", s.out)
	}
	if _, err := os.Stat(filepath.Join(dir, "keyroll.kek")); !os.IsNotExist(err) {
		t.Errorf("a KEK file was created: %v", err)
	}
	if ks := listKeys(t, envMap(nil), s.url); len(ks) != 1 || ks[0].Alg != "RS256" {
		t.Errorf("keys: %+v", ks)
	}
}

// TestServeHSMAutomaticRollover: with thresholds in seconds, the policy
// makes the next key in the token and promotes it; tokens signed through
// the HSM before and after verify with keyroll verify.
func TestServeHSMAutomaticRollover(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for about 15 s")
	}
	h := softhsmtest.New(t)
	label := h.Token("keyroll")
	getenv := envMap(map[string]string{"KEYROLL_PKCS11_PIN": softhsmtest.PIN})
	s := startServe(t, getenv, "--store", "sqlite:"+filepath.Join(t.TempDir(), "keyroll.db"), "--key-alg", "ES256",
		"--key-backend", "pkcs11", "--pkcs11-module", h.Module, "--pkcs11-token", label,
		"--certificate-duration", "100s", "--generation-threshold", "90s", "--promotion-threshold", "3s", "--critical-threshold", "20s",
		"--rollover-interval", "1s", "--max-token-lifetime", "1s", "--refresh-interval", "1s", "--clock-skew", "0s", "--poll-interval", "1s")
	admin := &adminapi.Client{BaseURL: s.url}
	if _, errs, code := runCmd(t, getenv, "apps", "create", "orders", "--audience", "api://orders", "--server", s.url); code != 0 {
		t.Fatal(errs)
	}
	verifyToken := func() string {
		t.Helper()
		tok, err := admin.AppToken(t.Context(), "orders")
		if err != nil {
			t.Fatal(err)
		}
		out, errs, code := runCmd(t, getenv, "verify", "--issuer", s.url, "--audience", "api://orders", tok.AccessToken)
		if code != 0 {
			t.Fatalf("keyroll verify refused a token signed through the HSM: %s %s", out, errs)
		}
		return kidOfToken(t, tok.AccessToken)
	}
	first := verifyToken()
	deadline := time.Now().Add(60 * time.Second)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		ks := listKeys(t, getenv, s.url)
		if p := primaryOf(ks); p != nil && p.KID != first {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the policy promoted no new key within 60 s: %+v", ks)
		}
		<-tick.C
	}
	second := verifyToken()
	if second == first {
		t.Fatal("tokens are still signed by the first key")
	}
	tok, err := pkcs11.Open(pkcs11.Config{Module: h.Module, Token: label, PIN: softhsmtest.PIN})
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	labels, _ := tok.Labels()
	if !slices.Contains(labels, second) {
		t.Errorf("the policy's key %s is not in the token (%v)", second, labels)
	}
}

func primaryOf(ks []adminapi.KeyInfo) *adminapi.KeyInfo {
	for i := range ks {
		if ks[i].State == "primary" {
			return &ks[i]
		}
	}
	return nil
}

// kidOfToken reads a compact JWS's kid without checking it.
func kidOfToken(t *testing.T, token string) string {
	t.Helper()
	tok, err := jws.Parse(token)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Header.Kid
}
