package main

import (
	"context"
	"fmt"
)

func init() {
	register(&command{
		name:    "keys repair",
		summary: "show (and with --apply make) the smallest change that lets a stuck key set roll again",
		usage: `Usage: keyroll keys repair [--apply] [--server URL] [--json]

A key set the issuer cannot keep rolling (several primaries, keys but no
primary, a next key that can never be promoted, several next keys) makes
every replica unhealthy (/healthz answers 503, keyroll_key_state_problems > 0).
This shows the problems and the smallest change that fixes them: of several
primaries the one promoted last stays and the others retire (still
published, so their tokens stay valid); an unpromotable or extra next key
expires; with no primary left, the next key is promoted, or a fresh key is
made and promoted. Nothing is written without --apply; with it, the change
is one audited transition by "admin". Exit 0 when the key set is (now)
consistent, 1 when a dry run found problems or the repair failed.

Examples:
  keyroll keys repair
  keyroll keys repair --apply
`,
		run: runKeysRepair,
	})
}

func runKeysRepair(ctx context.Context, e *env, args []string) int {
	c := commands["keys repair"]
	fs := newFlags(c)
	var cf clientFlags
	cf.define(fs, e)
	apply := fs.Bool("apply", false, "apply the change (default: dry run)")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, code := parseFlags(fs, c, e, args); code >= 0 {
		return code
	} else if len(pos) > 0 {
		fmt.Fprintf(e.stderr, "keyroll keys repair: unexpected argument %q\n", pos[0])
		return exitUsage
	}
	res, err := cf.client(e).Repair(ctx, *apply)
	if err != nil {
		fmt.Fprintf(e.stderr, "keyroll keys repair: %v\n", err)
		return exitFail
	}
	if *asJSON {
		writeJSONOut(e.stdout, res)
	} else {
		if len(res.Problems) == 0 {
			fmt.Fprintln(e.stdout, "the key set is consistent: nothing to repair")
			return exitOK
		}
		fmt.Fprintln(e.stdout, "problems:")
		for _, p := range res.Problems {
			fmt.Fprintf(e.stdout, "  %s\n", p.Text)
		}
		if res.Applied {
			fmt.Fprintln(e.stdout, "applied:")
		} else {
			fmt.Fprintln(e.stdout, "the repair would make these transitions (run again with --apply):")
		}
		for _, x := range res.Events {
			from := x.From
			if from == "" {
				from = "new"
			}
			fmt.Fprintf(e.stdout, "  %s  %s  %s → %s  (%s)\n", x.Thumbprint, x.KID, from, x.To, x.Reason)
		}
	}
	if len(res.Problems) > 0 && !res.Applied {
		return exitFail
	}
	return exitOK
}
