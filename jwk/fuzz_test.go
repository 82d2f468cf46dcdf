package jwk_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/keyroll/keyroll/jwk"
)

// FuzzParseSet checks that ParseSet never panics, that every key is either
// kept or reported, and that every kept key survives MarshalJSON and
// ParseKey unchanged.
func FuzzParseSet(f *testing.F) {
	f.Add(readFixture(f, "real-world", "jwks", "google-oauth2-v3-certs.json"))
	f.Add(readFixture(f, "real-world", "jwks", "entra-common-discovery-keys-2020.json"))
	var vectors jwkVectors
	if err := json.Unmarshal(readFixture(f, "wycheproof", "json_web_key_test.json"), &vectors); err != nil {
		f.Fatal(err)
	}
	for _, g := range vectors.TestGroups {
		if g.Public != nil {
			f.Add([]byte(g.Public))
		}
		f.Add([]byte(g.Private))
	}
	f.Add([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","kty":"EC"},{"k\u0074y":"oct"},null,1,"x",[]]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, skipped, err := jwk.ParseSet(data)
		if err != nil {
			if keys != nil || skipped != nil || !(errors.Is(err, jwk.ErrNotJWKS) || errors.Is(err, jwk.ErrTooLarge)) {
				t.Fatalf("error %v with keys %v skipped %v", err, keys, skipped)
			}
			return
		}
		var doc struct{ Keys []json.RawMessage }
		if json.Unmarshal(data, &doc) == nil && len(doc.Keys) != len(keys)+len(skipped) {
			t.Fatalf("%d elements, %d kept, %d skipped", len(doc.Keys), len(keys), len(skipped))
		}
		for _, s := range skipped {
			var ke *jwk.KeyError
			if !errors.As(s, &ke) || ke.Reason == nil || ke.Index < 0 {
				t.Fatalf("skipped entry %v is not an indexed *KeyError", s)
			}
		}
		for _, k := range keys {
			roundTrip(t, k)
		}
	})
}

func roundTrip(t *testing.T, k jwk.Key) {
	if k.Public == nil || jwk.DefaultAlg(k) == "" {
		t.Fatalf("kept key without a usable public key: %+v", k)
	}
	data, err := k.MarshalJSON()
	if err != nil {
		t.Fatalf("kept key does not marshal: %v", err)
	}
	again, err := jwk.ParseKey(data)
	if err != nil {
		t.Fatalf("marshalled key %s does not parse: %v", data, err)
	}
	if k.Use == "" {
		k.Use = "sig"
	}
	assertSameKey(t, again, k)
}
