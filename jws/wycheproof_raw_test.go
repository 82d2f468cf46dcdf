package jws_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/hex"
	"math/big"
	"path/filepath"
	"testing"

	"github.com/keyroll/keyroll/jws"
)

// wycheproofFile is the part of the Wycheproof signature-verification
// schemas (ecdsa_p1363_verify, eddsa_verify, rsassa_pkcs1_verify,
// rsassa_pss_verify) these tests use.
type wycheproofFile struct {
	Algorithm     string `json:"algorithm"`
	NumberOfTests int    `json:"numberOfTests"`
	TestGroups    []struct {
		PublicKey struct {
			Curve        string `json:"curve"`
			Uncompressed string `json:"uncompressed"`
			PK           string `json:"pk"`
			Modulus      string `json:"modulus"`
			Exponent     string `json:"publicExponent"`
		} `json:"publicKey"`
		SHA    string `json:"sha"`
		MGFSHA string `json:"mgfSha"`
		SLen   int    `json:"sLen"`
		Tests  []struct {
			TcID    int      `json:"tcId"`
			Comment string   `json:"comment"`
			Msg     string   `json:"msg"`
			Sig     string   `json:"sig"`
			Result  string   `json:"result"`
			Flags   []string `json:"flags"`
		} `json:"tests"`
	} `json:"testGroups"`
}

// acceptableRejected lists "acceptable" Wycheproof cases, which a library
// may accept or reject; keyroll rejects them all.
var acceptableRejected = map[string]bool{
	// PKCS#1 v1.5 DigestInfo without the NULL parameters: the encoding is
	// not the one RFC 8017 mandates, so strict verification refuses it.
	"MissingNull": true,
}

// Raw signature vectors, run through VerifySignature with the signing input
// set to the vector's message.
func TestWycheproofRawSignatures(t *testing.T) {
	files := []struct {
		file, alg string
		key       func(t *testing.T, g int, f *wycheproofFile) crypto.PublicKey
	}{
		{"ecdsa_secp256r1_sha256_p1363_test.json", "ES256", ecKeyOf(elliptic.P256())},
		{"ecdsa_secp384r1_sha384_p1363_test.json", "ES384", ecKeyOf(elliptic.P384())},
		{"ed25519_test.json", "EdDSA", edKeyOf},
		{"rsa_signature_2048_sha256_test.json", "RS256", rsaKeyOf},
		{"rsa_pss_2048_sha256_mgf1_32_test.json", "PS256", rsaKeyOf},
	}
	for _, tf := range files {
		t.Run(tf.file, func(t *testing.T) {
			var f wycheproofFile
			readJSON(t, filepath.Join(fixtures(t), "wycheproof", tf.file), &f)
			run, pass := 0, 0
			for g, group := range f.TestGroups {
				checkGroupParams(t, tf.alg, group.SHA, group.MGFSHA, group.SLen)
				pub := tf.key(t, g, &f)
				for _, tc := range group.Tests {
					msg, sig := unhex(t, tc.Msg), unhex(t, tc.Sig)
					err := jws.VerifySignature(tf.alg, pub, string(msg), sig)
					run++
					if ok := wycheproofAgrees(tc.Result, tc.Flags, err); ok {
						pass++
					} else {
						t.Errorf("tcId %d (%s %v): expected %s, got %v", tc.TcID, tc.Comment, tc.Flags, tc.Result, err)
					}
				}
			}
			if run != f.NumberOfTests {
				t.Errorf("ran %d cases, file has %d", run, f.NumberOfTests)
			}
			t.Logf("%s: %d/%d cases run, %d pass", tf.file, run, f.NumberOfTests, pass)
		})
	}
}

// wycheproofAgrees reports whether a verification result matches the
// expected one.
func wycheproofAgrees(result string, flags []string, err error) bool {
	switch result {
	case "valid":
		return err == nil
	case "invalid":
		return err != nil
	}
	for _, f := range flags { // "acceptable"
		if acceptableRejected[f] {
			return err != nil
		}
	}
	return false // an acceptable case without a decision: decide and document it
}

// checkGroupParams makes sure a group uses the hash and PSS parameters the
// JWS algorithm implies, so a vector is never run under the wrong algorithm.
func checkGroupParams(t *testing.T, alg, sha, mgfSHA string, sLen int) {
	t.Helper()
	want := map[string]string{"ES256": "SHA-256", "ES384": "SHA-384", "RS256": "SHA-256", "PS256": "SHA-256", "EdDSA": ""}[alg]
	if sha != want || (alg == "PS256" && (mgfSHA != "SHA-256" || sLen != 32)) {
		t.Fatalf("%s group uses sha %q mgf %q sLen %d", alg, sha, mgfSHA, sLen)
	}
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ecKeyOf(curve elliptic.Curve) func(*testing.T, int, *wycheproofFile) crypto.PublicKey {
	return func(t *testing.T, g int, f *wycheproofFile) crypto.PublicKey {
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, unhex(t, f.TestGroups[g].PublicKey.Uncompressed))
		if err != nil {
			t.Fatalf("group %d key: %v", g, err)
		}
		return pub
	}
}

func edKeyOf(t *testing.T, g int, f *wycheproofFile) crypto.PublicKey {
	return ed25519.PublicKey(unhex(t, f.TestGroups[g].PublicKey.PK))
}

func rsaKeyOf(t *testing.T, g int, f *wycheproofFile) crypto.PublicKey {
	k := f.TestGroups[g].PublicKey
	e := new(big.Int).SetBytes(unhex(t, k.Exponent))
	return &rsa.PublicKey{N: new(big.Int).SetBytes(unhex(t, k.Modulus)), E: int(e.Int64())}
}
