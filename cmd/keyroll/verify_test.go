package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/issuer"
)

// runWithStdin runs keyroll in-process with stdin.
func runWithStdin(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb syncBuffer
	code := run(t.Context(), &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}, args)
	return out.String(), errb.String(), code
}

// TestVerifyCommand checks keyroll verify against keyroll serve's three
// documents (discovery, JWKS, metadata), with tokens signed by its keys.
func TestVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, func(string) string { return "" }, "--store", "sqlite:"+filepath.Join(dir, "keyroll.db"))
	primary, _ := primaryAndNext(t, s.url)
	k := serveKeys(t, dir)[primary]
	tok := k.mint(t, s.url, nil)

	t.Run("issuer", func(t *testing.T) {
		out, errs, code := runWithStdin(t, "", "verify", "--issuer", s.url, "--audience", guardAudience, tok)
		if code != 0 || errs != "" {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var v struct {
			Header map[string]any
			Claims map[string]any
			Key    string
			Source string
		}
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, out)
		}
		if v.Header["kid"] != primary || v.Header["alg"] != k.alg || v.Claims["sub"] != "alice@example.com" ||
			v.Claims["aud"] != guardAudience || v.Key != primary || v.Source != s.url+issuer.DiscoveryPath {
			t.Fatalf("output: %+v", v)
		}
	})
	t.Run("jwks without iss or aud checks warns", func(t *testing.T) {
		_, errs, code := runWithStdin(t, "", "verify", "--jwks", s.url+issuer.JWKSPath, tok)
		if code != 0 || !strings.Contains(errs, "not checking iss") || !strings.Contains(errs, "not checking aud") {
			t.Fatalf("exit %d, stderr %q", code, errs)
		}
	})
	t.Run("jwks with issuer claim", func(t *testing.T) {
		_, errs, code := runWithStdin(t, "", "verify", "--jwks", s.url+issuer.JWKSPath, "--issuer-claim", "https://other.example", "--audience", guardAudience, tok)
		if code != 1 || !strings.Contains(errs, "token rejected") || !strings.Contains(errs, "https://other.example") {
			t.Fatalf("exit %d, stderr %q", code, errs)
		}
	})
	t.Run("metadata names the issuer", func(t *testing.T) {
		out, errs, code := runWithStdin(t, "", "verify", "--metadata", s.url+issuer.MetadataPath, "--audience", guardAudience, tok)
		if code != 0 || strings.Contains(errs, "not checking iss") || !strings.Contains(out, `"sub": "alice@example.com"`) {
			t.Fatalf("exit %d, stderr %q\n%s", code, errs, out)
		}
		forged := k.mint(t, "https://evil.example", nil)
		if _, errs, code := runWithStdin(t, "", "verify", "--metadata", s.url+issuer.MetadataPath, "--audience", guardAudience, forged); code != 1 || !strings.Contains(errs, "issuer") {
			t.Fatalf("token of another issuer: exit %d, %q", code, errs)
		}
	})
	t.Run("stdin", func(t *testing.T) {
		_, errs, code := runWithStdin(t, "\n  Bearer "+tok+"\r\n", "verify", "--issuer", s.url, "--audience", guardAudience, "-")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		_, errs, code = runWithStdin(t, strings.Repeat("a", 64<<10), "verify", "--issuer", s.url, "--audience", guardAudience, "-")
		if code != 1 || !strings.Contains(errs, "more than") {
			t.Fatalf("oversized stdin: exit %d, %q", code, errs)
		}
	})
	rejected := map[string]struct{ tok, reason string }{
		"wrong audience": {k.mint(t, s.url, func(c map[string]any) { c["aud"] = "api://other" }), "aud"},
		"expired":        {k.mint(t, s.url, func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }), "expired"},
		"tampered":       {tok[:len(tok)-4] + "AAAA", "signature"},
		"garbage":        {"hello", "malformed"},
	}
	for name, c := range rejected {
		t.Run(name, func(t *testing.T) {
			out, errs, code := runWithStdin(t, "", "verify", "--issuer", s.url, "--audience", guardAudience, c.tok)
			if code != 1 || out != "" || !strings.Contains(errs, "token rejected") || !strings.Contains(errs, c.reason) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 1 and a reason saying %q", code, out, errs, c.reason)
			}
		})
	}
	t.Run("discovery names another issuer", func(t *testing.T) {
		_, errs, code := runWithStdin(t, "", "verify", "--issuer", s.url, "--issuer-claim", "https://other.example", tok)
		if code != 1 || !strings.Contains(errs, "cannot get the keys") {
			t.Fatalf("exit %d, %q", code, errs)
		}
	})
}

func TestVerifyCommandUsage(t *testing.T) {
	for name, args := range map[string][]string{
		"no source":   {"verify", "tok"},
		"two sources": {"verify", "--issuer", "https://a.example", "--jwks", "https://a.example/k", "tok"},
		"no token":    {"verify", "--issuer", "https://a.example"},
		"two tokens":  {"verify", "--issuer", "https://a.example", "a", "b"},
		"empty token": {"verify", "--issuer", "https://a.example", "  "},
		"bad flag":    {"verify", "--nope"},
	} {
		if _, errs, code := runWithStdin(t, "", args...); code != 2 || errs == "" {
			t.Errorf("%s: exit %d, %q; want 2 and a reason", name, code, errs)
		}
	}
	out, _, code := runWithStdin(t, "", "verify", "-h")
	if code != 0 || !strings.Contains(out, "Examples:") || !strings.Contains(out, "--metadata") {
		t.Fatalf("help: %d\n%s", code, out)
	}
	_, errs, code := runWithStdin(t, "", "verify", "--jwks", "http://127.0.0.1:1/keys", "tok.en.x")
	if code != 1 || !strings.Contains(errs, "cannot get the keys") {
		t.Fatalf("unreachable JWKS: exit %d, %q", code, errs)
	}
}
