package jwk_test

import (
	"crypto/rsa"
	"crypto/sha1"
	"testing"
	"time"

	"github.com/keyroll/keyroll/jwk"
)

// Values from testdata/fixtures/real-world/SOURCES.md.

func TestRealGoogleJWKS(t *testing.T) {
	keys, skipped, err := jwk.ParseSet(readFixture(t, "real-world", "jwks", "google-oauth2-v3-certs.json"))
	if err != nil || len(skipped) != 0 {
		t.Fatalf("err %v skipped %v", err, skipped)
	}
	want := []string{"943a3a5d7d919625a454e489b75c29adab57acba", "f10f87405a979c1df36df26606734f33cd85c271"}
	if len(keys) != len(want) {
		t.Fatalf("%d keys", len(keys))
	}
	for i, k := range keys {
		pub, ok := k.Public.(*rsa.PublicKey)
		if k.KID != want[i] || !ok || pub.N.BitLen() != 2048 || k.Alg != "RS256" || k.Use != "sig" || k.Certs != nil || k.X5T != "" {
			t.Errorf("key %d = %+v", i, k)
		}
	}
}

func TestRealEntraJWKS(t *testing.T) {
	keys, skipped, err := jwk.ParseSet(readFixture(t, "real-world", "jwks", "entra-common-discovery-keys-2020.json"))
	if err != nil || len(skipped) != 0 {
		t.Fatalf("err %v skipped %v", err, skipped)
	}
	want := []struct {
		kid, sha1, cn       string
		notBefore, notAfter string
	}{
		{"SsZsBNhZcF3Q9S4trpQBTByNRRI", "4AC66C04D859705DD0F52E2DAE94014C1C8D4512", "accounts.accesscontrol.windows.net", "2020-04-27", "2025-04-27"},
		{"huN95IvPfehq34GzBDZ1GXGirnM", "86E37DE48BCF7DE86ADF81B30436751971A2AE73", "accounts.accesscontrol.windows.net", "2020-06-07", "2025-06-07"},
		{"M6pX7RHoraLsprfJeRCjSxuURhc", "33AA57ED11E8ADA2ECA6B7C97910A34B1B944617", "login.microsoftonline.us", "2018-10-14", "2020-10-14"},
	}
	if len(keys) != len(want) {
		t.Fatalf("%d keys", len(keys))
	}
	for i, w := range want {
		k := keys[i]
		if k.KID != w.kid || k.Kty != "RSA" || k.Use != "sig" || k.Alg != "" || k.Issuer != "" || len(k.Certs) != 1 {
			t.Fatalf("key %d = %+v", i, k)
		}
		leaf := k.Certs[0]
		sum := sha1.Sum(leaf.Raw)
		if k.X5T != b64.EncodeToString(sum[:]) || k.X5T != k.KID {
			t.Errorf("%s: x5t %q is not the leaf SHA-1", w.kid, k.X5T)
		}
		if got := jwk.SHA1Thumbprint(leaf.Raw); got != w.sha1 {
			t.Errorf("%s: thumbprint %s, want %s", w.kid, got, w.sha1)
		}
		if leaf.Subject.CommonName != w.cn || day(leaf.NotBefore) != w.notBefore || day(leaf.NotAfter) != w.notAfter {
			t.Errorf("%s: cert %s %s..%s", w.kid, leaf.Subject.CommonName, leaf.NotBefore, leaf.NotAfter)
		}
		if !leaf.PublicKey.(*rsa.PublicKey).Equal(k.Public) || jwk.DefaultAlg(k) != "RS256" {
			t.Errorf("%s: n/e differ from the certificate", w.kid)
		}
	}
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }
