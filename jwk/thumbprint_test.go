package jwk_test

import (
	"testing"

	"github.com/keyroll/keyroll/jwk"
)

// TestThumbprintRFC7638 checks the worked example of RFC 7638 section 3.1.
func TestThumbprintRFC7638(t *testing.T) {
	k, err := jwk.ParseKey([]byte(`{"kty":"RSA","e":"AQAB","alg":"RS256","kid":"2011-04-29",
	 "n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := jwk.Thumbprint(k.Public)
	if err != nil || got != "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" {
		t.Fatalf("thumbprint %q, %v", got, err)
	}
	if _, err := jwk.Thumbprint("not a key"); err == nil {
		t.Fatal("a non-key has a thumbprint")
	}
}
