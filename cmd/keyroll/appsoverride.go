package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/lifecycle"
)

func init() {
	register(&command{
		name:    "apps override",
		summary: "sign an application's tokens with a chosen published key (rollover test)",
		usage: `Usage: keyroll apps override APP (--key THUMBPRINT | --key - | --next | --latest) [--server URL] [--json]

Points an application's tokens at another published signing key, as
UpdateThumbprint-RollForward and Update-MsIdApplicationSigningKeyThumbprint
-KeyThumbprint do for Microsoft Entra ID. Sign in to the application with a
fresh browser session: if it still works, it handles the rollover to that key.
Then run keyroll apps restore-default. Only a published key (next, primary or
retired) can be chosen; a revoked, expired or unknown key is refused and
nothing changes. Each change is recorded in the audit log (keyroll events).

--key takes a SHA-1 thumbprint in any case, with or without spaces or colons,
or a kid. --key - reads it from standard input: a plain thumbprint, the table
of keyroll thumbprints or keyroll keys list (the first data row is used when
there are several; a note says so), or their --json output (the first key
that has a thumbprint). --next is the next key; --latest the newest published
key by certificate NotBefore.

Examples:
  keyroll apps override payroll-api --next
  keyroll apps override payroll-api --key 3A38FA984E8560F19AADC9F86FE9594BB6AD049B
  keyroll thumbprints https://login.example.com --latest | keyroll apps override payroll-api --key -
  keyroll apps restore-default payroll-api
`,
		run: runAppsOverride,
	})
	register(&command{
		name:    "apps restore-default",
		summary: "remove an application's key override: the primary signs its tokens again",
		usage: `Usage: keyroll apps restore-default APP [--server URL] [--json]

Removes the application's signing-key override, as
UpdateThumbprint-RestoreDefaultBehavior and
Update-MsIdApplicationSigningKeyThumbprint -Default do: its tokens are signed
by the primary key again. The change is recorded in the audit log.

Examples:
  keyroll apps restore-default payroll-api
`,
		run: runAppsRestore,
	})
}

func runAppsOverride(ctx context.Context, e *env, args []string) int {
	c := commands["apps override"]
	fs := newFlags(c)
	var cf clientFlags
	cf.define(fs, e)
	var req adminapi.OverrideRequest
	fs.StringVar(&req.Key, "key", "", "the key's SHA-1 `THUMBPRINT` or kid; - reads it from standard input")
	fs.BoolVar(&req.Next, "next", false, "the next key")
	fs.BoolVar(&req.Latest, "latest", false, "the newest published key (by certificate NotBefore)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, code := parseFlags(fs, c, e, args)
	if code >= 0 {
		return code
	}
	if len(pos) != 1 {
		return usageErr(e, c, "give exactly one application name or client id")
	}
	if n := countTrue(req.Key != "", req.Next, req.Latest); n != 1 {
		return usageErr(e, c, "choose the key with exactly one of --key, --next or --latest")
	}
	if req.Key == "-" {
		tp, note, err := thumbprintFrom(e.stdin)
		if err != nil {
			return usageErr(e, c, "--key -: "+err.Error())
		}
		if note != "" {
			fmt.Fprintf(e.stderr, "keyroll %s: note: %s\n", c.name, note)
		}
		req.Key = tp
	}
	res, err := cf.client(e).Override(ctx, pos[0], req)
	return printOverride(e, c, res, err, *asJSON)
}

func runAppsRestore(ctx context.Context, e *env, args []string) int {
	c := commands["apps restore-default"]
	call, code := parseClientCall(c, e, args, 1, appArg)
	if code >= 0 {
		return code
	}
	res, err := call.client.RestoreDefault(ctx, call.args[0])
	return printOverride(e, c, res, err, call.json)
}

func printOverride(e *env, c *command, res *adminapi.OverrideResult, err error, asJSON bool) int {
	if err != nil {
		return failErr(e, c, err)
	}
	if asJSON {
		writeJSONOut(e.stdout, res)
		return exitOK
	}
	a := res.App
	if !res.Changed {
		fmt.Fprintf(e.stdout, "%s: nothing changed\n", a.Name)
	}
	for _, ev := range res.Events {
		fmt.Fprintf(e.stdout, "%s: %s\n", a.Name, ev.Reason)
	}
	if k := a.SigningKey; k != nil {
		who := "the primary"
		if k.Override {
			who = "the override"
		}
		fmt.Fprintf(e.stdout, "%s: tokens are signed with %s %s (%s, kid %s)\n", a.Name, who, k.Thumbprint, k.State, k.KID)
	}
	if a.Warning != "" {
		fmt.Fprintf(e.stdout, "%s: warning: %s\n", a.Name, a.Warning)
	}
	return exitOK
}

func countTrue(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// maxThumbprintInput bounds what --key - reads.
const maxThumbprintInput = 1 << 20

// thumbprintFrom reads the thumbprint --key - names: a plain thumbprint
// (any case, spaces or colons), a table whose rows hold a 40-hex-digit
// thumbprint (keyroll thumbprints, keyroll keys list: the first data row
// after the header is used), or a JSON array or object with "thumbprint"
// members (the first that is set). note says when a choice was made.
func thumbprintFrom(r io.Reader) (tp, note string, err error) {
	data, err := io.ReadAll(io.LimitReader(r, maxThumbprintInput+1))
	if err != nil {
		return "", "", err
	}
	if len(data) > maxThumbprintInput {
		return "", "", fmt.Errorf("standard input is larger than %d bytes", maxThumbprintInput)
	}
	text := strings.TrimSpace(strings.TrimPrefix(string(data), "\ufeff"))
	if text == "" {
		return "", "", errors.New("standard input is empty; pipe in a thumbprint or the output of keyroll thumbprints")
	}
	if text[0] == '[' || text[0] == '{' {
		return thumbprintFromJSON(text)
	}
	return thumbprintFromText(text)
}

func thumbprintFromJSON(text string) (string, string, error) {
	var list []struct {
		Thumbprint *string `json:"thumbprint"`
	}
	if text[0] == '{' {
		text = "[" + text + "]"
	}
	if err := json.Unmarshal([]byte(text), &list); err != nil {
		return "", "", fmt.Errorf("standard input is not the JSON of keyroll thumbprints --json: %v", err)
	}
	for i, k := range list {
		if k.Thumbprint == nil {
			continue
		}
		tp := normalThumbprint(*k.Thumbprint)
		if tp == "" {
			return "", "", fmt.Errorf("key %d's thumbprint %q is not 40 hex digits", i+1, *k.Thumbprint)
		}
		return tp, several(len(list), tp), nil
	}
	return "", "", errors.New(`the JSON on standard input has no "thumbprint" (keys without a certificate have none)`)
}

func thumbprintFromText(text string) (string, string, error) {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	if len(lines) == 1 {
		if tp := normalThumbprint(lines[0]); tp != "" {
			return tp, "", nil
		}
	}
	rows := lines
	for i, l := range lines {
		if strings.Contains(strings.ToUpper(l), "THUMBPRINT") {
			rows = lines[i+1:] // the header: what comes before it describes the source
			break
		}
	}
	var found []string
	for _, l := range rows {
		if tp := rowThumbprint(l); tp != "" {
			found = append(found, tp)
		}
	}
	if len(found) == 0 {
		return "", "", errors.New("no 40-hex-digit SHA-1 thumbprint on standard input")
	}
	return found[0], several(len(found), found[0]), nil
}

// rowThumbprint is the thumbprint a line holds: the whole line, or its
// first field of exactly 40 hex digits.
func rowThumbprint(line string) string {
	if tp := normalThumbprint(line); tp != "" {
		return tp
	}
	for _, f := range strings.Fields(line) {
		if len(f) == 40 {
			if tp := normalThumbprint(f); tp != "" {
				return tp
			}
		}
	}
	return ""
}

func normalThumbprint(s string) string {
	tp := lifecycle.NormalizeThumbprint(strings.TrimSpace(s))
	if len(tp) != 40 {
		return ""
	}
	return tp
}

func several(n int, chosen string) string {
	if n <= 1 {
		return ""
	}
	return fmt.Sprintf("%d keys on standard input; using the first, %s (pipe keyroll thumbprints --latest for the newest)", n, chosen)
}
