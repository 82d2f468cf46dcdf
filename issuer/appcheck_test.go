package issuer

import (
	"strings"
	"testing"
)

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
	for _, n := range []string{"a", "Payroll-API", "web-1.test_2"} {
		if err := checkAppName(n); err != nil {
			t.Errorf("app name %q refused: %v", n, err)
		}
	}
	for _, n := range []string{"", " a", "a ", "a b", "Payroll API", "a/b", strings.Repeat("a", 65), "naïve", "0123456789abcdef0123456789abcdef"} {
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
