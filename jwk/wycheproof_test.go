package jwk_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/keyroll/keyroll/jwk"
	"github.com/keyroll/keyroll/jws"
)

type jwkVectors struct {
	NumberOfTests int `json:"numberOfTests"`
	TestGroups    []struct {
		Comment string          `json:"comment"`
		Private json.RawMessage `json:"private"`
		Public  json.RawMessage `json:"public"`
		Tests   []struct {
			TcID    int    `json:"tcId"`
			Comment string `json:"comment"`
			JWS     string `json:"jws"`
			Result  string `json:"result"`
		} `json:"tests"`
	} `json:"testGroups"`
}

// Why ParseSet skips the key of each invalid case with a public key set.
var jwkSkipReasons = map[int]error{
	6:  jwk.ErrNotForSigning,  // use enc
	7:  jwk.ErrWeakKey,        // ROCA fingerprint
	8:  jwk.ErrWeakKey,        // 1024-bit modulus
	9:  jwk.ErrWeakKey,        // exponent 1
	19: jwk.ErrUnsupportedAlg, // "ES521" on P-256
	20: jwk.ErrUnsupportedAlg, // "ES224"
	21: jwk.ErrNotForSigning,  // use enc
	22: jwk.ErrMalformed,      // point not on the curve
	23: jwk.ErrMalformed,      // P-256 coordinates labelled P-384
	24: jwk.ErrMalformed,      // EC members under kty RSA
}

// verifyWithSet is what a relying party does: parse, pick the one key with
// the token's kid, check the alg against it, verify.
func verifyWithSet(keys []jwk.Key, token string) error {
	tok, err := jws.Parse(token)
	if err != nil {
		return err
	}
	var found []jwk.Key
	for _, k := range keys {
		if k.KID == tok.Header.Kid {
			found = append(found, k)
		}
	}
	if len(found) != 1 {
		return errors.New("no single key for the token's kid")
	}
	return found[0].Verify(tok)
}

func TestWycheproofJWK(t *testing.T) {
	var f jwkVectors
	if err := json.Unmarshal(readFixture(t, "wycheproof", "json_web_key_test.json"), &f); err != nil {
		t.Fatal(err)
	}
	var total, run, pass, symmetric int
	for _, g := range f.TestGroups {
		for _, tc := range g.Tests {
			total++
			if g.Public == nil { // HMAC and AES keys only: not applicable
				symmetric++
				checkSymmetricGroup(t, tc.TcID, g.Private, tc.JWS)
				continue
			}
			run++
			keys, skipped, err := jwk.ParseSet(g.Public)
			if err != nil {
				t.Fatalf("tcId %d: %v", tc.TcID, err)
			}
			if reason, ok := jwkSkipReasons[tc.TcID]; ok && (len(skipped) != 1 || !errors.Is(skipped[0], reason)) {
				t.Errorf("tcId %d (%s): skipped %v, want one key skipped for %v", tc.TcID, g.Comment, skipped, reason)
			}
			err = verifyWithSet(keys, tc.JWS)
			if (tc.Result == "valid") == (err == nil) {
				pass++
			} else {
				t.Errorf("tcId %d (%s/%s): expected %s, got %v", tc.TcID, g.Comment, tc.Comment, tc.Result, err)
			}
		}
	}
	if total != f.NumberOfTests {
		t.Errorf("saw %d cases, file has %d", total, f.NumberOfTests)
	}
	t.Logf("json_web_key_test.json: %d cases; %d with a public key set run, %d pass; %d symmetric-key cases (not applicable): keys skipped, tokens rejected",
		total, run, pass, symmetric)
}

// checkSymmetricGroup: keyroll skips every symmetric key of the group
// (jws_mixedSymmetryKeyset also holds a public EC key, which is kept) and
// refuses the token whatever Wycheproof expects of an HMAC library.
func checkSymmetricGroup(t *testing.T, id int, private json.RawMessage, token string) {
	t.Helper()
	keys, skipped, err := jwk.ParseSet(private)
	if err != nil || len(skipped) == 0 {
		t.Errorf("tcId %d: private set gave skipped %v err %v", id, skipped, err)
	}
	for _, s := range skipped {
		if !errors.Is(s, jwk.ErrSymmetric) {
			t.Errorf("tcId %d: skipped for %v", id, s)
		}
	}
	if err := verifyWithSet(keys, token); !errors.Is(err, jws.ErrUnsupportedAlg) {
		t.Errorf("tcId %d: token: %v, want ErrUnsupportedAlg", id, err)
	}
}
