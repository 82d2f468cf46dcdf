package verify

import (
	"encoding/base64"
	"testing"
)

// FuzzParseDiscovery: any discovery body is refused or yields an absolute
// http(s) jwks_uri, never a panic.
func FuzzParseDiscovery(f *testing.F) {
	for _, s := range []string{
		`{"issuer":"https://i.example","jwks_uri":"https://i.example/keys"}`,
		`{"issuer":"https://i.example","jwks_uri":"http://i.example/keys"}`,
		`{"issuer":"https://other","jwks_uri":"https://i.example/keys"}`,
		`{"issuer":"https://i.example","jwks_uri":"/keys"}`, `[]`, `{"issuer":1}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		uri, err := parseDiscovery(body, "https://i.example/.well-known/openid-configuration", "https://i.example")
		if err == nil && checkJWKSURI("https://i.example/", uri) != nil {
			t.Fatalf("accepted jwks_uri %q", uri)
		}
	})
}

// FuzzCacheFile: the relying party's persisted cache, whatever its bytes,
// is loaded or refused at construction, never a panic.
func FuzzCacheFile(f *testing.F) {
	jwks := `{"keys":[{"kty":"EC","crv":"P-256","kid":"a","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`
	f.Add([]byte(`{"format":"keyroll-keycache/1","source":"https://i.example/keys","fetched":"2026-01-01T00:00:00Z","body":"` + b64std(jwks) + `"}`))
	f.Add([]byte(`{"format":"keyroll-keycache/1","source":"other","fetched":"2026-01-01T00:00:00Z","body":""}`))
	f.Add([]byte(`{"format":"keyroll-keycache/1","source":"https://i.example/keys"}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := New("https://i.example", JWKSURL("https://i.example/keys"), WithCacheStore(&memStore{data: data}), WithAudience("a"))
		if err == nil && v == nil {
			t.Fatal("no verifier and no error")
		}
	})
}

func b64std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
