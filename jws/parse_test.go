package jws_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/keyroll/keyroll/jws"
)

var sig = []byte("signature")

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name   string
		header string
		want   jws.Header
	}{
		{"minimal", `{"alg":"RS256"}`, jws.Header{Alg: "RS256"}},
		{"all members", `{"alg":"ES256","kid":"k1","typ":"JWT","cty":"json","x5t":"abc","x5t#S256":"def"}`,
			jws.Header{Alg: "ES256", Kid: "k1", Typ: "JWT", Cty: "json", X5t: "abc", X5tS256: "def"}},
		{"whitespace", " {\t\"alg\" :\n\"PS256\" ,\r\"kid\": \"a\" } ", jws.Header{Alg: "PS256", Kid: "a"}},
		{"escaped values", `{"alg":"RS\u0032\u0035\u0036","kid":"a\"b\\c\/d\n"}`, jws.Header{Alg: "RS256", Kid: "a\"b\\c/d\n"}},
		{"escaped name", `{"\u0061lg":"EdDSA"}`, jws.Header{Alg: "EdDSA"}},
		{"surrogate pair", `{"alg":"ES384","kid":"\ud83d\ude00 é"}`, jws.Header{Alg: "ES384", Kid: "😀 é"}},
		{"unknown members of every type", `{"n":-1.5e+3,"z":0,"o":{"a":[1,{"b":null}],"c":true},"f":false,"s":"x","alg":"ES512","nonce":"abc"}`,
			jws.Header{Alg: "ES512"}},
		{"upper-case ALG is just another member", `{"alg":"RS384","ALG":"none"}`, jws.Header{Alg: "RS384"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := compact(tt.header, `{"sub":"x"}`, sig)
			tok, err := jws.Parse(token)
			if err != nil {
				t.Fatal(err)
			}
			if tok.Header.Alg != tt.want.Alg || tok.Header.Kid != tt.want.Kid || tok.Header.Typ != tt.want.Typ ||
				tok.Header.Cty != tt.want.Cty || tok.Header.X5t != tt.want.X5t || tok.Header.X5tS256 != tt.want.X5tS256 {
				t.Errorf("header = %+v, want %+v", tok.Header, tt.want)
			}
			if string(tok.RawHeader) != tt.header || string(tok.Payload) != `{"sub":"x"}` || string(tok.Signature) != "signature" {
				t.Errorf("parts = %q %q %q", tok.RawHeader, tok.Payload, tok.Signature)
			}
			if want := token[:strings.LastIndexByte(token, '.')]; tok.SigningInput != want {
				t.Errorf("SigningInput = %q, want %q", tok.SigningInput, want)
			}
		})
	}
}

func TestParseEmptyPayload(t *testing.T) {
	tok, err := jws.Parse(compact(`{"alg":"RS256"}`, "", sig))
	if err != nil {
		t.Fatal(err)
	}
	if len(tok.Payload) != 0 {
		t.Errorf("payload = %q", tok.Payload)
	}
}

// Appending to one part must not overwrite the next: they share a buffer.
func TestParsePartsAreCapped(t *testing.T) {
	tok, err := jws.Parse(compact(`{"alg":"RS256"}`, "payload", sig))
	if err != nil {
		t.Fatal(err)
	}
	_ = append(tok.RawHeader, "XXXXXXXX"...)
	_ = append(tok.Payload, "XXXXXXXX"...)
	if string(tok.Payload) != "payload" || string(tok.Signature) != "signature" {
		t.Errorf("parts were overwritten: %q %q", tok.Payload, tok.Signature)
	}
}

func TestParseRejects(t *testing.T) {
	valid := compact(`{"alg":"RS256"}`, "{}", sig)
	hdr := func(h string) string { return compact(h, "{}", sig) }
	tests := []struct {
		name   string
		token  string
		reason error
	}{
		{"empty", "", jws.ErrMalformed},
		{"one segment", "abc", jws.ErrMalformed},
		{"two segments", "abc.def", jws.ErrMalformed},
		{"four segments", valid + ".abc", jws.ErrMalformed},
		{"four segments, last empty", valid + ".", jws.ErrMalformed},
		{"empty header", "." + strings.SplitN(valid, ".", 2)[1], jws.ErrMalformed},
		{"empty signature", valid[:strings.LastIndexByte(valid, '.')+1], jws.ErrEmptySignature},
		{"padding in header", strings.Replace(hdr(`{"alg":"RS256"}  `), ".", "==.", 1), jws.ErrEncoding},
		{"padding in signature", valid + "=", jws.ErrEncoding},
		{"space", " " + valid, jws.ErrEncoding},
		{"line break", strings.Replace(valid, ".", "\n.", 1), jws.ErrEncoding},
		{"standard alphabet", strings.Replace(valid, ".", "+.", 1), jws.ErrEncoding},
		{"non-ASCII", valid + "é", jws.ErrEncoding},
		{"impossible length", strings.Replace(valid, ".", "A.", 1), jws.ErrEncoding},
		{"non-zero trailing bits", b64.EncodeToString([]byte(`{"alg":"RS256"}`)) + ".AB." + b64.EncodeToString(sig), jws.ErrEncoding},
		{"too large", strings.Repeat("A", jws.MaxTokenSize+1), jws.ErrTooLarge},
		{"header is an array", hdr(`["alg","RS256"]`), jws.ErrHeaderJSON},
		{"header is a string", hdr(`"RS256"`), jws.ErrHeaderJSON},
		{"header is not JSON", hdr(`alg=RS256`), jws.ErrHeaderJSON},
		{"unterminated header", hdr(`{"alg":"RS256"`), jws.ErrHeaderJSON},
		{"trailing comma", hdr(`{"alg":"RS256",}`), jws.ErrHeaderJSON},
		{"data after object", hdr(`{"alg":"RS256"}{}`), jws.ErrHeaderJSON},
		{"missing colon", hdr(`{"alg" "RS256"}`), jws.ErrHeaderJSON},
		{"single quotes", hdr(`{'alg':'RS256'}`), jws.ErrHeaderJSON},
		{"alg is a number", hdr(`{"alg":256}`), jws.ErrHeaderJSON},
		{"alg is null", hdr(`{"alg":null}`), jws.ErrHeaderJSON},
		{"kid is an array", hdr(`{"alg":"RS256","kid":["a"]}`), jws.ErrHeaderJSON},
		{"typ is an object", hdr(`{"alg":"RS256","typ":{}}`), jws.ErrHeaderJSON},
		{"crit is a string", hdr(`{"alg":"RS256","crit":"exp"}`), jws.ErrHeaderJSON},
		{"crit holds a number", hdr(`{"alg":"RS256","crit":[1]}`), jws.ErrHeaderJSON},
		{"control character in string", hdr("{\"alg\":\"RS256\",\"kid\":\"a\tb\"}"), jws.ErrHeaderJSON},
		{"invalid UTF-8", hdr("{\"alg\":\"RS256\",\"kid\":\"\xff\"}"), jws.ErrHeaderJSON},
		{"lone high surrogate", hdr(`{"alg":"RS256","kid":"\ud800"}`), jws.ErrHeaderJSON},
		{"lone low surrogate", hdr(`{"alg":"RS256","kid":"\udc00x"}`), jws.ErrHeaderJSON},
		{"bad escape", hdr(`{"alg":"RS256","kid":"\x41"}`), jws.ErrHeaderJSON},
		{"bad number in unknown member", hdr(`{"alg":"RS256","n":01}`), jws.ErrHeaderJSON},
		{"bad literal in unknown member", hdr(`{"alg":"RS256","n":nul}`), jws.ErrHeaderJSON},
		{"nesting too deep", hdr(`{"alg":"RS256","n":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`), jws.ErrHeaderJSON},
		{"too many members", hdr(`{"alg":"RS256"` + manyMembers(64) + `}`), jws.ErrHeaderJSON},
		{"duplicate alg", hdr(`{"alg":"RS256","alg":"RS256"}`), jws.ErrDuplicateHeader},
		{"duplicate alg, escaped", hdr(`{"alg":"RS256","al\u0067":"RS256"}`), jws.ErrDuplicateHeader},
		{"duplicate alg, escaped first", hdr(`{"\u0061\u006c\u0067":"none","alg":"RS256"}`), jws.ErrDuplicateHeader},
		{"duplicate kid", hdr(`{"alg":"RS256","kid":"a","\u006bid":"b"}`), jws.ErrDuplicateHeader},
		{"duplicate unknown", hdr(`{"alg":"RS256","foo":1,"foo":2}`), jws.ErrDuplicateHeader},
		{"duplicate unknown, escaped", hdr(`{"alg":"RS256","f\u006fo":1,"foo":2}`), jws.ErrDuplicateHeader},
		{"duplicate of an early unknown after many", hdr(`{"alg":"RS256"` + manyMembers(12) + `,"mxx":1}`), jws.ErrDuplicateHeader},
		{"duplicate of a late unknown", hdr(`{"alg":"RS256"` + manyMembers(12) + `,"mxxxxxxxxxx":1}`), jws.ErrDuplicateHeader},
		{"escaped duplicate of a late unknown", hdr(`{"alg":"RS256"` + manyMembers(12) + `,"\u006dxxxxxxxxxx":1}`), jws.ErrDuplicateHeader},
		{"duplicate of an escaped unknown", hdr(`{"alg":"RS256","\u0066oo":1` + manyMembers(12) + `,"foo":1}`), jws.ErrDuplicateHeader},
		{"duplicate jwk", hdr(`{"alg":"RS256","jwk":{},"jwk":{}}`), jws.ErrDuplicateHeader},
		{"alg missing", hdr(`{"kid":"a"}`), jws.ErrMissingAlg},
		{"empty object", hdr(`{}`), jws.ErrMissingAlg},
		{"alg empty", hdr(`{"alg":""}`), jws.ErrMissingAlg},
		{"alg none", hdr(`{"alg":"none"}`), jws.ErrAlgNone},
		{"alg NONE", hdr(`{"alg":"NONE"}`), jws.ErrAlgNone},
		{"alg nOnE", hdr(`{"alg":"nOnE"}`), jws.ErrAlgNone},
		{"alg none, escaped", hdr(`{"alg":"n\u006fne"}`), jws.ErrAlgNone},
		{"alg HS256", hdr(`{"alg":"HS256"}`), jws.ErrUnsupportedAlg},
		{"alg HS384", hdr(`{"alg":"HS384"}`), jws.ErrUnsupportedAlg},
		{"alg HS512", hdr(`{"alg":"HS512"}`), jws.ErrUnsupportedAlg},
		{"alg lower case", hdr(`{"alg":"rs256"}`), jws.ErrUnsupportedAlg},
		{"alg ES256K", hdr(`{"alg":"ES256K"}`), jws.ErrUnsupportedAlg},
		{"alg ES521", hdr(`{"alg":"ES521"}`), jws.ErrUnsupportedAlg},
		{"alg RSA-OAEP", hdr(`{"alg":"RSA-OAEP"}`), jws.ErrUnsupportedAlg},
		{"jwk", hdr(`{"alg":"RS256","jwk":{"kty":"RSA","n":"AQAB","e":"AQAB"}}`), jws.ErrEmbeddedKey},
		{"jwk null", hdr(`{"alg":"RS256","jwk":null}`), jws.ErrEmbeddedKey},
		{"jku", hdr(`{"alg":"RS256","jku":"https://attacker.example/jwks"}`), jws.ErrEmbeddedKey},
		{"x5u", hdr(`{"alg":"RS256","x5u":"https://attacker.example/cert"}`), jws.ErrEmbeddedKey},
		{"x5c", hdr(`{"alg":"RS256","x5c":["MIIB"]}`), jws.ErrEmbeddedKey},
		{"x5c escaped", hdr(`{"alg":"RS256","x5\u0063":[]}`), jws.ErrEmbeddedKey},
		{"jwk with alg none", hdr(`{"alg":"none","jwk":{}}`), jws.ErrEmbeddedKey},
		{"crit", hdr(`{"alg":"RS256","crit":["exp"],"exp":1}`), jws.ErrUnsupportedCrit},
		{"crit empty", hdr(`{"alg":"RS256","crit":[]}`), jws.ErrUnsupportedCrit},
		{"b64 false", hdr(`{"alg":"RS256","b64":false,"crit":["b64"]}`), jws.ErrUnsupportedCrit},
		{"b64 false without crit", hdr(`{"alg":"RS256","b64":false}`), jws.ErrUnsupportedCrit},
		{"b64 true", hdr(`{"alg":"RS256","b64":true}`), jws.ErrUnsupportedCrit},
		{"JSON serialization", `{"payload":"e30","protected":"eyJhbGciOiJSUzI1NiJ9","signature":"c2ln"}`, jws.ErrMalformed},
		{"JSON serialization with dots", `{"payload":"e.30","protected":"eyJ.hbGciOiJSUzI1NiJ9"}`, jws.ErrEncoding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := jws.Parse(tt.token)
			if tok != nil {
				t.Errorf("token = %+v, want nil", tok.Header)
			}
			wantReason(t, err, tt.reason)
		})
	}
}

func manyMembers(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(`,"m`)
		b.WriteString(strings.Repeat("x", i))
		b.WriteString(`":1`)
	}
	return b.String()
}

func TestParseLimits(t *testing.T) {
	// 63 extra members plus alg is the most a header may have.
	if _, err := jws.Parse(compact(`{"alg":"RS256"`+manyMembers(63)+`}`, "", sig)); err != nil {
		t.Errorf("64 members: %v", err)
	}
	// A token of exactly MaxTokenSize bytes is accepted.
	head := b64.EncodeToString([]byte(`{"alg":"RS256"}`)) + "."
	for sigLen := 1; ; sigLen++ {
		tail := "." + b64.EncodeToString(make([]byte, sigLen))
		n := jws.MaxTokenSize - len(head) - len(tail)
		if n%4 == 1 {
			continue // no base64url string has this length
		}
		token := head + strings.Repeat("A", n) + tail
		if _, err := jws.Parse(token); err != nil {
			t.Errorf("token of MaxTokenSize bytes: %v", err)
		}
		if _, err := jws.Parse(head + strings.Repeat("A", n+4) + tail); !errors.Is(err, jws.ErrTooLarge) {
			t.Errorf("token of MaxTokenSize+4 bytes: %v", err)
		}
		break
	}
}

// The syntactic reasons also match ErrMalformed; policy reasons do not.
func TestErrorFamilies(t *testing.T) {
	_, err := jws.Parse(compact(`{"alg":1}`, "", sig))
	if !errors.Is(err, jws.ErrMalformed) || !errors.Is(err, jws.ErrHeaderJSON) {
		t.Errorf("header type error %v is not ErrMalformed and ErrHeaderJSON", err)
	}
	_, err = jws.Parse(compact(`{"alg":"none"}`, "", sig))
	if errors.Is(err, jws.ErrMalformed) {
		t.Errorf("alg none %v matches ErrMalformed", err)
	}
	if !strings.Contains(err.Error(), "none") {
		t.Errorf("message %q does not say what is wrong", err)
	}
}
