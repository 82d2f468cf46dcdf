package main

import (
	"context"
	"fmt"
	"strings"
)

func init() {
	register(&command{
		name:    "drill history",
		summary: "an application's past drills: verdicts, per-key results, evidence",
		usage: `Usage: keyroll drill history APP [--limit N] [--server URL] [--json]

Every rollover drill of APP (name or client id) is recorded by the issuer:
its verdict and reason, the result for each key it tested, and the full
report with the HTTP evidence. Newest first.

--json prints the records with their reports (keyroll drill --json's format).

Examples:
  keyroll drill history payroll-api
  keyroll drill history payroll-api --limit 1 --json | jq '.[0].report.results'
`,
		run: runDrillHistory,
	})
}

func runDrillHistory(ctx context.Context, e *env, args []string) int {
	c := commands["drill history"]
	fs := newFlags(c)
	var cf clientFlags
	cf.define(fs, e)
	asJSON := fs.Bool("json", false, "print JSON")
	limit := fs.Int("limit", 20, "show at most `N` drills (0: all)")
	pos, code := parseFlags(fs, c, e, args)
	if code >= 0 {
		return code
	}
	if len(pos) != 1 {
		return usageErr(e, c, "name exactly one application")
	}
	if *limit < 0 {
		return usageErr(e, c, "--limit must not be negative")
	}
	ds, err := cf.client(e).Drills(ctx, pos[0], *limit)
	if err != nil {
		return failErr(e, c, err)
	}
	if *asJSON {
		writeJSONOut(e.stdout, ds)
		return exitOK
	}
	if len(ds) == 0 {
		fmt.Fprintf(e.stdout, "%s was never drilled (keyroll drill --app %s ...)\n", pos[0], pos[0])
		return exitOK
	}
	t := newTable(e.stdout, "ID", "FINISHED", "MODE", "VERDICT", "KEYS", "REASON")
	for _, d := range ds {
		var keys []string
		for _, k := range d.Keys {
			keys = append(keys, fmt.Sprintf("%s %s %s", k.State, abbrevTP(k.Thumbprint), k.Outcome))
		}
		t.row(fmt.Sprint(d.ID), d.Finished.UTC().Format("2006-01-02 15:04Z"), d.Mode, strings.ToUpper(d.Verdict), strings.Join(keys, ", "), d.Reason)
	}
	t.flush()
	return exitOK
}
