package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/keyroll/keyroll/adminapi"
)

func init() {
	register(&command{
		name:    "keys list",
		summary: "list the issuer's signing keys and their schedule",
		usage: `Usage: keyroll keys list [--server URL] [--json]

Lists every signing key of a running issuer: SHA-1 thumbprint as Microsoft
tools show it, kid, algorithm, state, certificate validity, and when it was or
will be promoted and retired.

Examples:
  keyroll keys list
  keyroll keys list --json | jq -r '.[] | select(.state=="next") | .thumbprint'
`,
		run: runKeysList,
	})
	register(&command{
		name:    "keys rotate",
		summary: "publish a next key now, or with --urgent make a fresh key primary at once",
		usage: `Usage: keyroll keys rotate [--urgent] [--server URL] [--json]

Without --urgent, generates and publishes a next key; the policy promotes it
after the promotion threshold. With --urgent (like Update-AdfsCertificate
-Urgent), a fresh key becomes primary at once; the old primary is retired and
stays published until its tokens have expired.

Examples:
  keyroll keys rotate
  keyroll keys rotate --urgent
`,
		run: runKeysRotate,
	})
	register(&command{
		name:    "keys revoke",
		summary: "withdraw a key at once (compromise)",
		usage: `Usage: keyroll keys revoke THUMBPRINT|KID [--server URL] [--json]

Unpublishes the key now and for good. If it is the primary, a replacement is
promoted first: the next key if there is one, else a fresh key. A kid that
starts with '-' goes after "--", so it is not read as a flag.

Examples:
  keyroll keys revoke 3A38D2B1C5E0F7A9B8C6D4E2F0A1B3C5D7E9F049
  keyroll keys revoke -- -Xk3...kid
`,
		run: runKeysRevoke,
	})
}

func runKeysList(ctx context.Context, e *env, args []string) int {
	c := commands["keys list"]
	fs := newFlags(c)
	var cf clientFlags
	cf.define(fs, e)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, code := parseFlags(fs, c, e, args); code >= 0 {
		return code
	}
	ks, err := cf.client(e).Keys(ctx)
	if err != nil {
		fmt.Fprintf(e.stderr, "keyroll keys list: %v\n", err)
		return exitFail
	}
	if *asJSON {
		writeJSONOut(e.stdout, ks)
		return exitOK
	}
	damaged := 0
	t := newTable(e.stdout, "THUMBPRINT", "KID", "ALG", "STATE", "NOT BEFORE", "NOT AFTER", "PROMOTED", "RETIRED", "UNPUBLISHED")
	for _, k := range ks {
		promoted := whenp(k.PromotedAt)
		if k.PromoteAt != nil {
			promoted = "≥" + whenp(k.PromoteAt)
		}
		retired, unpub := whenp(k.RetiredAt), whenp(k.EndedAt)
		if k.UnpublishAt != nil {
			unpub = "≥" + whenp(k.UnpublishAt)
		}
		state := k.State
		switch {
		case k.Transient && k.State == "expired":
			state = "withdrawn (drill key)"
		case k.Transient:
			state += " (drill key)"
		}
		if k.Damaged != "" {
			state += " DAMAGED"
			damaged++
		}
		t.row(k.Thumbprint, k.KID, k.Alg, state, when(k.NotBefore), when(k.NotAfter), promoted, retired, unpub)
	}
	t.flush()
	printWaits(e, ks)
	if damaged > 0 {
		fmt.Fprintf(e.stdout, "DAMAGED: %d stored private key(s) do not open; those keys will never sign again, so the issuer keeps running (see keyroll events; restore from a backup to keep them)\n", damaged)
	}
	return exitOK
}

// printWaits says which applications a next key's promotion waits for,
// and until when at most.
func printWaits(e *env, ks []adminapi.KeyInfo) {
	for _, k := range ks {
		if len(k.PromotionWaitsFor) > 0 {
			by := "the critical threshold"
			if k.PromoteBy != nil {
				by = k.PromoteBy.UTC().Format(time.RFC3339) + " (critical threshold)"
			}
			fmt.Fprintf(e.stdout, "promotion of %s waits for %s; at the latest %s\n", k.KID, strings.Join(k.PromotionWaitsFor, ", "), by)
		}
	}
}

func runKeysRotate(ctx context.Context, e *env, args []string) int {
	c := commands["keys rotate"]
	fs := newFlags(c)
	var cf clientFlags
	cf.define(fs, e)
	urgent := fs.Bool("urgent", false, "promote a fresh key immediately")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, code := parseFlags(fs, c, e, args); code >= 0 {
		return code
	} else if len(pos) > 0 {
		fmt.Fprintf(e.stderr, "keyroll keys rotate: unexpected argument %q\n", pos[0])
		return exitUsage
	}
	ev, err := cf.client(e).Rotate(ctx, *urgent)
	return printEvents(e, "keys rotate", ev, err, *asJSON)
}

func runKeysRevoke(ctx context.Context, e *env, args []string) int {
	c := commands["keys revoke"]
	fs := newFlags(c)
	var cf clientFlags
	cf.define(fs, e)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, code := parseFlags(fs, c, e, args)
	if code >= 0 {
		return code
	}
	if len(pos) != 1 {
		fmt.Fprintln(e.stderr, "keyroll keys revoke: give exactly one thumbprint or kid")
		return exitUsage
	}
	ev, err := cf.client(e).Revoke(ctx, pos[0])
	return printEvents(e, "keys revoke", ev, err, *asJSON)
}

// printEvents reports the transitions a command caused.
func printEvents(e *env, name string, ev []adminapi.EventInfo, err error, asJSON bool) int {
	if err != nil {
		fmt.Fprintf(e.stderr, "keyroll %s: %v\n", name, err)
		return exitFail
	}
	if asJSON {
		writeJSONOut(e.stdout, ev)
		return exitOK
	}
	if len(ev) == 0 {
		fmt.Fprintln(e.stdout, "nothing changed")
	}
	for _, x := range ev {
		from := x.From
		if from == "" {
			from = "new"
		}
		fmt.Fprintf(e.stdout, "%s  %s  %s → %s  (%s)\n", x.Thumbprint, x.KID, from, x.To, x.Reason)
	}
	return exitOK
}
