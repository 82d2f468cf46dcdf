package jws_test

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"

	"github.com/keyroll/keyroll/jwk"
	"github.com/keyroll/keyroll/jws"
)

type jwsVectors struct {
	NumberOfTests int `json:"numberOfTests"`
	TestGroups    []struct {
		Comment string          `json:"comment"`
		Public  json.RawMessage `json:"public"`
		Tests   []struct {
			TcID    int      `json:"tcId"`
			Comment string   `json:"comment"`
			JWS     string   `json:"jws"`
			Result  string   `json:"result"`
			Flags   []string `json:"flags"`
		} `json:"tests"`
	} `json:"testGroups"`
}

// jwsDeviations are Wycheproof cases keyroll decides differently, with the
// alg the key should have carried. Wycheproof added an "alg" to the RFC 7520
// keys that contradicts the RFC's tokens: Figure 20 is signed with PS384 but
// the key says PS256, and Figure 27 is signed with ES512 but the key says
// "ES521", which is no registered algorithm. keyroll binds a key to the alg
// it names (the same file's ps512 "UsingRS256".."UsingPS384" cases require
// that), so these four are rejected; the test checks they verify once the
// key's alg is the one the RFC used.
var jwsDeviations = map[int]string{346: "PS384", 350: "PS384", 347: "ES512", 351: "ES512"}

// verifyWithKey is what a relying party does with one trusted key: parse,
// match kid, bind the key's alg, verify.
func verifyWithKey(key jwk.Key, token string) error {
	tok, err := jws.Parse(token)
	if err != nil {
		return err
	}
	if tok.Header.Kid != "" && key.KID != "" && tok.Header.Kid != key.KID {
		return errors.New("no key with the token's kid")
	}
	return key.Verify(tok)
}

func TestWycheproofJWS(t *testing.T) {
	var f jwsVectors
	readJSON(t, filepath.Join(fixtures(t), "wycheproof", "json_web_signature_test.json"), &f)
	var run, pass, hmac, deviations, total int
	for _, g := range f.TestGroups {
		for _, tc := range g.Tests {
			total++
			if g.Public == nil { // HMAC groups: no public key; keyroll has no HMAC
				hmac++
				if _, err := jws.Parse(tc.JWS); err == nil {
					t.Errorf("tcId %d (%s/%s): HMAC or malformed token parsed", tc.TcID, g.Comment, tc.Comment)
				}
				continue
			}
			run++
			key, keyErr := jwk.ParseKey(g.Public)
			err := keyErr
			if err == nil {
				err = verifyWithKey(key, tc.JWS)
			}
			if alg, ok := jwsDeviations[tc.TcID]; ok {
				deviations++
				checkDeviation(t, tc.TcID, g.Public, alg, tc.JWS, err)
				continue
			}
			if (tc.Result == "valid") == (err == nil) && tc.Result != "acceptable" {
				pass++
			} else {
				t.Errorf("tcId %d (%s/%s %v): expected %s, got %v", tc.TcID, g.Comment, tc.Comment, tc.Flags, tc.Result, err)
			}
		}
	}
	if total != f.NumberOfTests {
		t.Errorf("saw %d cases, file has %d", total, f.NumberOfTests)
	}
	t.Logf("json_web_signature_test.json: %d cases; %d with a public key run, %d pass, %d documented deviations; %d HMAC cases (not applicable) all rejected",
		total, run, pass, deviations, hmac)
}

// checkDeviation requires the documented rejection, then verification with
// the key's alg corrected.
func checkDeviation(t *testing.T, id int, public json.RawMessage, alg, token string, err error) {
	t.Helper()
	if err == nil {
		t.Errorf("tcId %d: accepted; the deviation table is stale", id)
		return
	}
	if !errors.Is(err, jwk.ErrAlgMismatch) && !errors.Is(err, jwk.ErrUnsupportedAlg) {
		t.Errorf("tcId %d: rejected for the wrong reason: %v", id, err)
	}
	var m map[string]any
	if err := json.Unmarshal(public, &m); err != nil {
		t.Fatal(err)
	}
	m["alg"] = alg
	fixed, _ := json.Marshal(m)
	key, err := jwk.ParseKey(fixed)
	if err != nil {
		t.Fatalf("tcId %d: corrected key: %v", id, err)
	}
	if err := verifyWithKey(key, token); err != nil {
		t.Errorf("tcId %d: does not verify with alg %s: %v", id, alg, err)
	}
}

// The same groups hold the attacks keyroll must refuse for a specific reason.
func TestWycheproofJWSReasons(t *testing.T) {
	var f jwsVectors
	readJSON(t, filepath.Join(fixtures(t), "wycheproof", "json_web_signature_test.json"), &f)
	want := map[string]error{
		"rejectsAttackerProvidedEmbeddedJwk":                               jws.ErrEmbeddedKey,
		"rejectsSymmetryConfusionAttacks_aesKeyFromEcVerificationKeyBytes": jws.ErrUnsupportedAlg,
		"rejectsNoneAlgorithmAndMissingSignature":                          jws.ErrAlgNone,
		"rejectsValidJsonSerialization":                                    jws.ErrMalformed,
		"rejectsMissingSignature":                                          jws.ErrEmptySignature,
		"rejectsExtraComponent":                                            jws.ErrMalformed,
	}
	seen := map[string]bool{}
	for _, g := range f.TestGroups {
		for _, tc := range g.Tests {
			reason, ok := want[tc.Comment]
			if !ok || (tc.Comment == "rejectsMissingSignature" && g.Public == nil) {
				continue
			}
			seen[tc.Comment] = true
			_, err := jws.Parse(tc.JWS)
			if !errors.Is(err, reason) {
				t.Errorf("tcId %d %s: %v, want %v", tc.TcID, tc.Comment, err, reason)
			}
		}
	}
	for c := range want {
		if !seen[c] {
			t.Errorf("no case %s in the file", c)
		}
	}
}
