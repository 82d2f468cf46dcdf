package jws_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/keyroll/keyroll/jws"
)

// FuzzParse checks that Parse never panics and that whatever it accepts is
// consistent: a supported alg, parts that re-encode to the token, and a
// header encoding/json also reads, with the same member values and no
// forbidden members.
func FuzzParse(f *testing.F) {
	seeds := []string{
		`{"alg":"RS256","kid":"k","typ":"JWT"}`,
		`{"alg":"ES256","x5t":"abc","x5t#S256":"def","cty":"JWT"}`,
		`{"al\u0067":"RS256","kid":"\ud83d\ude00"}`,
		`{"alg":"RS256","alg":"RS256"}`,
		`{"alg":"none"}`,
		`{"alg":"HS256"}`,
		`{"alg":"RS256","jwk":{"kty":"RSA"}}`,
		`{"alg":"RS256","crit":["b64"],"b64":false}`,
		`{"alg":"EdDSA","n":[1,2.5e3,{"a":null}],"t":true}`,
		` { "alg" : "PS512" } `,
		`{"alg":"RS256","kid":"\u0000"}`,
	}
	for _, h := range seeds {
		f.Add(compact(h, `{"sub":"x"}`, []byte("sig")))
	}
	f.Add("")
	f.Add("..")
	f.Add("eyJhbGciOiJSUzI1NiJ9.e30.")
	f.Add("eyJhbGciOiJSUzI1NiJ9.e30.c2ln.x")
	f.Fuzz(func(t *testing.T, token string) {
		tok, err := jws.Parse(token)
		if err != nil {
			var je *jws.Error
			if !errors.As(err, &je) || je.Reason == nil {
				t.Fatalf("error %v is not a *jws.Error with a reason", err)
			}
			return
		}
		checkAccepted(t, token, tok)
	})
}

func checkAccepted(t *testing.T, token string, tok *jws.Token) {
	if !jws.Supported(tok.Header.Alg) || len(tok.Signature) == 0 || len(token) > jws.MaxTokenSize {
		t.Fatalf("accepted alg %q, %d-byte signature, %d-byte token", tok.Header.Alg, len(tok.Signature), len(token))
	}
	rebuilt := b64.EncodeToString(tok.RawHeader) + "." + b64.EncodeToString(tok.Payload)
	if rebuilt != tok.SigningInput || token != rebuilt+"."+b64.EncodeToString(tok.Signature) {
		t.Fatalf("parts do not re-encode to the token")
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(tok.RawHeader))
	if err := dec.Decode(&m); err != nil || dec.More() {
		t.Fatalf("encoding/json rejects an accepted header %q: %v", tok.RawHeader, err)
	}
	for _, name := range []string{"jwk", "jku", "x5u", "x5c", "crit", "b64"} {
		if _, ok := m[name]; ok {
			t.Fatalf("accepted header with %q", name)
		}
	}
	h := tok.Header
	for name, got := range map[string]string{"alg": h.Alg, "kid": h.Kid, "typ": h.Typ, "cty": h.Cty, "x5t": h.X5t, "x5t#S256": h.X5tS256} {
		want, _ := m[name].(string)
		if got != want && !strings.ContainsRune(want, '\uFFFD') {
			t.Fatalf("%s = %q, encoding/json says %q", name, got, want)
		}
	}
}
