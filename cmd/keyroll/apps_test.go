package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyroll/keyroll/adminapi"
)

// runIn runs keyroll in-process with stdin.
func runIn(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb,
		getenv: func(string) string { return "" }, after: fireNow}, args)
	return out.String(), errb.String(), code
}

// appServer runs keyroll serve with a next key published, so there are two
// keys to choose from.
func appServer(t *testing.T) *server {
	t.Helper()
	s := startServe(t, func(string) string { return "" }, "--store", "sqlite:"+filepath.Join(t.TempDir(), "keyroll.db"), "--key-alg", "ES256")
	if _, errs, code := runIn(t, "", "keys", "rotate", "--server", s.url); code != 0 {
		t.Fatalf("keys rotate: %s", errs)
	}
	return s
}

func keyStates(t *testing.T, url string) map[string]string {
	t.Helper()
	ks, err := (&adminapi.Client{BaseURL: url}).Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range ks {
		out[k.State] = k.Thumbprint
	}
	return out
}

func TestAppsCLI(t *testing.T) {
	s := appServer(t)
	out, errs, code := runIn(t, "", "apps", "create", "payroll", "--audience", "api://payroll", "--token-lifetime", "30m", "--server", s.url)
	if code != 0 || !strings.Contains(out, "client id:") || !strings.Contains(out, "client secret:") {
		t.Fatalf("apps create: %d %s %s", code, out, errs)
	}
	secret := fieldAfter(out, "client secret:")
	clientID := fieldAfter(out, "client id:")
	tok, err := (&adminapi.Client{BaseURL: s.url}).ClientCredentials(context.Background(), clientID, secret)
	if err != nil || tok.ExpiresIn != 1800 {
		t.Fatalf("the printed secret does not get a 30-minute token: %+v %v", tok, err)
	}
	out, _, code = runIn(t, "", "apps", "create", "spa", "--public", "--redirect-uri", "https://spa.example/cb", "--server", s.url, "--json")
	var created adminapi.CreatedApp
	if code != 0 || json.Unmarshal([]byte(out), &created) != nil || created.ClientSecret != "" || !created.App.Public {
		t.Fatalf("apps create --public --json: %d %s", code, out)
	}
	for _, args := range [][]string{{"apps", "list"}, {"apps", "list", "--json"}, {"apps", "show", "payroll"}, {"apps", "show", clientID, "--json"}} {
		out, errs, code := runIn(t, "", append(args, "--server", s.url)...)
		if code != 0 || !strings.Contains(out, "payroll") || strings.Contains(out, secret) {
			t.Errorf("%v: %d, shows the secret or not the app:\n%s%s", args, code, out, errs)
		}
	}
	if _, errs, code := runIn(t, "", "apps", "create", "PAYROLL", "--server", s.url); code != exitFail || !strings.Contains(errs, "exists") {
		t.Errorf("duplicate name: %d %s", code, errs)
	}
	if _, errs, code := runIn(t, "", "apps", "create", "--server", s.url); code != exitUsage || !strings.Contains(errs, "NAME") {
		t.Errorf("no name: %d %s", code, errs)
	}
	if out, errs, code := runIn(t, "", "apps", "delete", "spa", "--server", s.url); code != 0 || !strings.Contains(out, "deleted") {
		t.Errorf("apps delete: %d %s %s", code, out, errs)
	}
	if _, errs, code := runIn(t, "", "apps", "show", "spa", "--server", s.url); code != exitFail || !strings.Contains(errs, "no application") {
		t.Errorf("show deleted app: %d %s", code, errs)
	}
}

// TestAppsOverrideCLI: --next, --latest, --key with the output of keyroll
// thumbprints piped in, restore-default; refusals change nothing.
func TestAppsOverrideCLI(t *testing.T) {
	s := appServer(t)
	if _, errs, code := runIn(t, "", "apps", "create", "api", "--server", s.url); code != 0 {
		t.Fatal(errs)
	}
	keys := keyStates(t, s.url)
	override := func(stdin string, args ...string) (string, string, int) {
		return runIn(t, stdin, append(append([]string{"apps", "override", "api"}, args...), "--server", s.url)...)
	}
	out, errs, code := override("", "--next")
	if code != 0 || !strings.Contains(out, "tokens are signed with the override "+keys["next"]) || !strings.Contains(out, "override set to") {
		t.Fatalf("override --next: %d %s %s", code, out, errs)
	}
	if out, _, _ = override("", "--latest"); !strings.Contains(out, "nothing changed") {
		t.Errorf("--latest is the next key here, so nothing should change: %s", out)
	}
	runIn(t, "", "apps", "restore-default", "api", "--server", s.url)

	table, _, code := runIn(t, "", "thumbprints", s.url)
	if code != 0 {
		t.Fatalf("thumbprints: %s", table)
	}
	js, _, _ := runIn(t, "", "thumbprints", s.url, "--json")
	pick := map[string]string{ // stdin → the key it names
		table:                                "", // the first data row, whichever the issuer lists first
		js:                                   "",
		strings.ToLower(keys["next"]) + "\n": keys["next"],
		spaced(keys["primary"]):              keys["primary"],
	}
	for stdin, want := range pick {
		out, errs, code := override(stdin, "--key", "-")
		if code != 0 {
			t.Errorf("--key - with %q: %d %s", stdin, code, errs)
			continue
		}
		info, _ := (&adminapi.Client{BaseURL: s.url}).App(context.Background(), "api")
		if want != "" && info.KeyOverride != want || want == "" && info.KeyOverride != keys["primary"] && info.KeyOverride != keys["next"] {
			t.Errorf("--key - with %.40q set the override to %s, want %s\n%s", stdin, info.KeyOverride, want, out)
		}
		if (stdin == table || stdin == js) && !strings.Contains(errs, "2 keys on standard input; using the first") {
			t.Errorf("several keys piped: no note on stderr: %q", errs)
		}
	}
	if out, errs, code := runIn(t, "", "apps", "restore-default", "api", "--server", s.url); code != 0 || !strings.Contains(out, "tokens are signed with the primary") {
		t.Errorf("restore-default: %d %s %s", code, out, errs)
	}
	before, _ := (&adminapi.Client{BaseURL: s.url}).App(context.Background(), "api")
	refused := []struct {
		stdin string
		args  []string
		code  int
		says  string
	}{
		{"", []string{"--key", strings.Repeat("0", 40)}, exitFail, "matches no key"},
		{"", []string{"--next", "--latest"}, exitUsage, "exactly one"},
		{"", []string{}, exitUsage, "exactly one"},
		{"", []string{"--key", "-"}, exitUsage, "empty"},
		{"KID  THUMBPRINT\nno thumbprint here\n", []string{"--key", "-"}, exitUsage, "no 40-hex-digit"},
		{`[{"kid":"a","thumbprint":null}]`, []string{"--key", "-"}, exitUsage, `no "thumbprint"`},
	}
	for _, r := range refused {
		_, errs, code := override(r.stdin, r.args...)
		if code != r.code || !strings.Contains(errs, r.says) {
			t.Errorf("override %v with %q: %d %q, want %d saying %q", r.args, r.stdin, code, errs, r.code, r.says)
		}
	}
	if _, errs, code := runIn(t, "", "apps", "override", "nosuch", "--next", "--server", s.url); code != exitFail || !strings.Contains(errs, `no application is named "nosuch"`) {
		t.Errorf("unknown app: %d %s", code, errs)
	}
	after, _ := (&adminapi.Client{BaseURL: s.url}).App(context.Background(), "api")
	if after.KeyOverride != before.KeyOverride || !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Errorf("refused overrides changed the app: %+v → %+v", before, after)
	}
}

func TestThumbprintFrom(t *testing.T) {
	tp := "3A38FA984E8560F19AADC9F86FE9594BB6AD049B"
	header := "Source:    x (metadata)\nSignature: valid (signed by 8C2F75CE61C705F61A0D286445D1AFC5F7AE94C3)\n\n"
	cases := map[string]struct{ want, note string }{
		tp:                           {tp, ""},
		strings.ToLower(tp) + "\r\n": {tp, ""},
		"3a:38:fa:98:4e:85:60:f1:9a:ad:c9:f8:6f:e9:59:4b:b6:ad:04:9b": {tp, ""},
		"\ufeff" + spaced(tp): {tp, ""},
		header + "KID  THUMBPRINT (SHA-1)  SHA-256\nk1  " + tp + "  " + strings.Repeat("AB", 32) + "\n":    {tp, ""},
		header + "KID  THUMBPRINT (SHA-1)\nk1  " + tp + "\nk2  8C2F75CE61C705F61A0D286445D1AFC5F7AE94C3\n": {tp, "2 keys"},
		`[{"thumbprint":null},{"thumbprint":"` + strings.ToLower(tp) + `"}]`:                               {tp, "2 keys"},
		`{"thumbprint":"` + tp + `"}`: {tp, ""},
	}
	for in, c := range cases {
		got, note, err := thumbprintFrom(strings.NewReader(in))
		if err != nil || got != c.want || !strings.Contains(note, c.note) || (c.note == "" && note != "") {
			t.Errorf("thumbprintFrom(%.60q) = (%q, %q, %v), want %s with note %q", in, got, note, err, c.want, c.note)
		}
	}
	for _, in := range []string{"", "   \n", "abc", tp[:39], tp + "00", "[1,2]", `[{"thumbprint":"xyz"}]`, "{", strings.Repeat("A", maxThumbprintInput+1)} {
		if got, _, err := thumbprintFrom(strings.NewReader(in)); err == nil {
			t.Errorf("thumbprintFrom(%.40q) = %q, want an error", in, got)
		}
	}
}

// spaced writes a thumbprint in pairs, as certificate dialogs show it.
func spaced(tp string) string {
	var b strings.Builder
	for i := 0; i < len(tp); i += 2 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(tp[i : i+2])
	}
	return b.String()
}

// fieldAfter returns the word after label in out.
func fieldAfter(out, label string) string {
	_, rest, _ := strings.Cut(out, label)
	f := strings.Fields(rest)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}
