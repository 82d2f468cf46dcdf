package issuer

import (
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	h := hashPassword("correct horse battery")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(h, "correct") {
		t.Fatalf("hash %q", h)
	}
	if h2 := hashPassword("correct horse battery"); h2 == h {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	for pw, want := range map[string]bool{"correct horse battery": true, "correct horse batterY": false, "": false} {
		if ok, err := verifyPassword(pw, h); ok != want || err != nil {
			t.Errorf("verifyPassword(%q) = (%v, %v), want %v", pw, ok, err, want)
		}
	}
}

// TestPasswordHashHostile: stored hashes that are malformed or ask for
// absurd work are refused before any hashing.
func TestPasswordHashHostile(t *testing.T) {
	salt, key := "c2FsdHNhbHRzYWx0", "aGFzaGhhc2hoYXNoaGFzaA"
	for _, h := range []string{
		"", "plain", "$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=4194304,t=2,p=1$" + salt + "$" + key, // 4 GiB
		"$argon2id$v=19$m=19456,t=1000,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=255$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1,x=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1$!!$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + "aGk",
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key + "$",
	} {
		if ok, err := verifyPassword("x", h); ok || err == nil {
			t.Errorf("verifyPassword accepted the hash %q", h)
		}
	}
}

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

func TestClientSecret(t *testing.T) {
	s, h := newClientSecret()
	if len(s) != 43 || !secretMatches(s, h) || secretMatches(s+"x", h) || secretMatches(s, h[:16]) || secretMatches("", nil) {
		t.Errorf("client secret %q does not match its hash as it should", s)
	}
	if id := newClientID(); !clientIDRE.MatchString(id) {
		t.Errorf("client id %q", id)
	}
}

func TestRedirectURIs(t *testing.T) {
	good := []string{"https://app.example/cb", "https://app.example:8443/a/b?x=1", "http://localhost:3000/cb",
		"http://127.0.0.1:8400/cb", "http://[::1]/cb", "com.example.app:/oauth2redirect"}
	if err := checkRedirectURIs(good); err != nil {
		t.Errorf("good redirect URIs refused: %v", err)
	}
	for _, bad := range []string{"", "app.example/cb", "https:///cb", "http://app.example/cb", "http://10.0.0.1/cb",
		"https://u:p@app.example/cb", "https://app.example/cb#frag", "HTTPS://app.example/cb", "javascript:alert(1)",
		"https://app.example/ cb", "https://app.example/\ncb", "https://app.example/" + strings.Repeat("a", 2000)} {
		if err := checkRedirectURI(bad); err == nil {
			t.Errorf("redirect URI %q accepted", bad)
		}
	}
	many := make([]string, maxRedirectURIs+1)
	for i := range many {
		many[i] = "https://app.example/" + strings.Repeat("x", i+1)
	}
	if err := checkRedirectURIs(many); err == nil {
		t.Error("too many redirect URIs accepted")
	}
}

func TestNames(t *testing.T) {
	for _, n := range []string{"a", "Payroll API", "web-1.test_2"} {
		if err := checkAppName(n); err != nil {
			t.Errorf("app name %q refused: %v", n, err)
		}
	}
	for _, n := range []string{"", " a", "a ", "a/b", strings.Repeat("a", 65), "naïve", "0123456789abcdef0123456789abcdef"} {
		if err := checkAppName(n); err == nil {
			t.Errorf("app name %q accepted", n)
		}
	}
	for _, n := range []string{"", "-a", "a b", strings.Repeat("a", 65)} {
		if err := checkUserName(n); err == nil {
			t.Errorf("user name %q accepted", n)
		}
	}
}

func TestLoginFormParse(t *testing.T) {
	for _, page := range []string{"", "<html>hello</html>", `<form method="post" action="authorize"></form>`} {
		if _, err := ParseLoginForm([]byte(page)); err == nil {
			t.Errorf("ParseLoginForm(%q) succeeded", page)
		}
	}
}
