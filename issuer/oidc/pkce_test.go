package oidc

import (
	"strings"
	"testing"
)

func TestPKCE(t *testing.T) {
	// RFC 7636 Appendix B.
	v, c := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	if pkceS256(v) != c || !pkceMatches(v, c) || pkceMatches(v+"x", c) || !validChallenge(c) || !validVerifier(v) {
		t.Error("RFC 7636 Appendix B vector fails")
	}
	for _, bad := range []string{"", strings.Repeat("a", 42), strings.Repeat("a", 129), strings.Repeat("a", 42) + "!"} {
		if validVerifier(bad) {
			t.Errorf("validVerifier(%q)", bad)
		}
	}
	if validChallenge("abc") || validChallenge(c+"A") {
		t.Error("validChallenge accepts a challenge that is not 32 bytes")
	}
}
