package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/adminapi"
)

// TestCLITree: the command tree lists groups' subcommands, suggests a
// mistyped command, prints flags as --name, and generates completion
// scripts and man pages.
func TestCLITree(t *testing.T) {
	out, _, code := runIn(t, "", "--help")
	for _, want := range []string{"apps", "keys", "serve", "completion", "version"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("--help lacks %q (exit %d):\n%s", want, code, out)
		}
	}
	out, _, code = runIn(t, "", "keys")
	for _, want := range []string{"list", "rotate", "revoke", "timeline"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("keys lacks %q (exit %d):\n%s", want, code, out)
		}
	}
	_, errs, code := runIn(t, "", "kyes", "list")
	if code != exitUsage || !strings.Contains(errs, "Did you mean this?") || !strings.Contains(errs, "keys") {
		t.Errorf("mistyped command: exit %d\n%s", code, errs)
	}
	out, _, code = runIn(t, "", "apps", "create", "-h")
	if code != 0 || !strings.Contains(out, "\n  --redirect-uri URI\n") || strings.Contains(out, "\n  -redirect-uri") || !strings.Contains(out, "Examples:") {
		t.Errorf("apps create -h:\n%s", out)
	}
	for _, shell := range []string{"bash", "zsh", "fish"} {
		out, _, code = runIn(t, "", "completion", shell)
		if code != 0 || !strings.Contains(out, "keyroll") || len(out) < 1000 {
			t.Errorf("completion %s: exit %d, %d bytes", shell, code, len(out))
		}
	}
	dir := filepath.Join(t.TempDir(), "man1")
	if _, errs, code := runIn(t, "", "man", dir); code != 0 {
		t.Fatalf("man: %s", errs)
	}
	page, err := os.ReadFile(filepath.Join(dir, "keyroll-apps-create.1"))
	if err != nil || !strings.Contains(string(page), "redirect") {
		t.Errorf("man page keyroll-apps-create.1: %v", err)
	}
}

// TestCompletionFromServer: application names and thumbprints complete
// from the running issuer; flags complete from the command's help.
func TestCompletionFromServer(t *testing.T) {
	s := appServer(t)
	if _, errs, code := runIn(t, "", "apps", "create", "payroll", "--server", s.url); code != 0 {
		t.Fatal(errs)
	}
	complete := func(args ...string) string {
		t.Helper()
		var out strings.Builder
		code := run(t.Context(), &env{stdin: strings.NewReader(""), stdout: &out, stderr: &out,
			getenv: func(k string) string {
				if k == "KEYROLL_SERVER" {
					return s.url
				}
				return ""
			}}, append([]string{"__complete"}, args...))
		if code != 0 {
			t.Fatalf("__complete %v: exit %d %s", args, code, out.String())
		}
		return out.String()
	}
	if out := complete("apps", "show", ""); !strings.Contains(out, "payroll") {
		t.Errorf("apps show completion:\n%s", out)
	}
	primary := keyStates(t, s.url)["primary"]
	if out := complete("keys", "revoke", ""); !strings.Contains(out, primary) {
		t.Errorf("keys revoke completion lacks the primary %s:\n%s", primary, out)
	}
	if out := complete("apps", "create", "x", "--re"); !strings.Contains(out, "--redirect-uri") {
		t.Errorf("flag completion:\n%s", out)
	}
}

// TestNotKeyrollServer: a --server that is not keyroll is named as such,
// not dumped as a page.
func TestNotKeyrollServer(t *testing.T) {
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(404)
		w.Write([]byte("<html><body>" + strings.Repeat("noise ", 500) + "</body></html>"))
	}))
	defer web.Close()
	_, errs, code := runIn(t, "", "keys", "list", "--server", web.URL)
	if code != exitFail || !strings.Contains(errs, "is not a keyroll server: HTTP 404 text/html") || strings.Contains(errs, "noise") {
		t.Errorf("keys list against a web server: exit %d %s", code, errs)
	}
}

// TestErrorsInPlainWords: admin API errors carry no internal prefixes.
func TestErrorsInPlainWords(t *testing.T) {
	s := appServer(t)
	runIn(t, "", "apps", "create", "payroll", "--server", s.url)
	_, errs, code := runIn(t, "", "apps", "create", "payroll", "--server", s.url)
	if code != exitFail || strings.Contains(errs, "store:") || !strings.Contains(errs, "payroll") {
		t.Errorf("duplicate app: exit %d %s", code, errs)
	}
}

// TestJSONResults: commands that only report what they did say it as JSON
// with --json too.
func TestJSONResults(t *testing.T) {
	s := appServer(t)
	runIn(t, "", "users", "create", "alice", "--server", s.url)
	out, errs, code := runIn(t, "", "users", "delete", "alice", "--server", s.url, "--json")
	if code != 0 || !strings.Contains(out, `"deleted": "alice"`) || !strings.Contains(out, `"kind": "user"`) {
		t.Errorf("users delete --json: %d %s %s", code, out, errs)
	}
	to := filepath.Join(t.TempDir(), "keys.pem")
	out, errs, code = runIn(t, "", "sync", s.url, "--to", to, "--allow-unpinned", "--json")
	if code != 0 || !strings.Contains(out, `"changed": true`) || !strings.Contains(out, `"keys": 2`) {
		t.Errorf("sync --json: %d %s %s", code, out, errs)
	}
}

// TestKeysListTimesAndDrillKeys: keys list shows the time of day when a
// date alone would hide it, and names a withdrawn drill key as such.
func TestKeysListTimesAndDrillKeys(t *testing.T) {
	if got := when(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)); got != "2026-03-01" {
		t.Errorf("midnight: %s", got)
	}
	if got := when(time.Date(2026, 3, 1, 14, 5, 9, 0, time.UTC)); got != "2026-03-01 14:05:09Z" {
		t.Errorf("afternoon: %s", got)
	}
	s := appServer(t)
	c := &adminapi.Client{BaseURL: s.url}
	k, err := c.PublishTransient(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WithdrawTransient(t.Context(), k.KID); err != nil {
		t.Fatal(err)
	}
	out, _, _ := runIn(t, "", "keys", "list", "--server", s.url)
	var line string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, k.Thumbprint) {
			line = l
		}
	}
	if !strings.Contains(line, "withdrawn (drill key)") || !strings.Contains(line, "Z") {
		t.Errorf("withdrawn drill key row: %q", line)
	}
}
