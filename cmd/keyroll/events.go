package main

import (
	"context"
	"fmt"
	"time"

	"github.com/keyroll/keyroll/adminapi"
)

func init() {
	register(&command{
		name:    "events",
		summary: "show the audit log of key transitions",
		usage: `Usage: keyroll events [--since RFC3339|DURATION] [--limit N] [--server URL] [--json]

Prints the audit log: every key state transition (time, actor, key,
from → to, reason) and every application change (override set or removed,
fallback to the primary), shown as "app NAME".

Examples:
  keyroll events
  keyroll events --since 720h --json
`,
		run: runEvents,
	})
}

func runEvents(ctx context.Context, e *env, args []string) int {
	c := commands["events"]
	fs := newFlags(c)
	var cf clientFlags
	cf.define(fs, e)
	since := fs.String("since", "", "only events after this time (RFC 3339) or this long ago (e.g. 30d)")
	limit := fs.Int("limit", 0, "at most this many events (0: all)")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, code := parseFlags(fs, c, e, args); code >= 0 {
		return code
	}
	var from time.Time
	if *since != "" {
		if t, err := time.Parse(time.RFC3339, *since); err == nil {
			from = t
		} else if d, err := parseDuration(*since); err == nil {
			from = time.Now().Add(-d)
		} else {
			fmt.Fprintf(e.stderr, "keyroll events: --since %q is neither an RFC 3339 time nor a duration\n", *since)
			return exitUsage
		}
	}
	ev, err := cf.client(e).Events(ctx, from, *limit)
	if err != nil {
		fmt.Fprintf(e.stderr, "keyroll events: %v\n", err)
		return exitFail
	}
	if *asJSON {
		writeJSONOut(e.stdout, ev)
		return exitOK
	}
	t := newTable(e.stdout, "TIME", "ACTOR", "THUMBPRINT", "KID", "CHANGE", "REASON")
	for _, x := range ev {
		t.row(x.Time.UTC().Format(time.RFC3339), x.Actor, x.Thumbprint, x.KID, change(x), x.Reason)
	}
	t.flush()
	return exitOK
}

// change describes an event's transition: "next→primary", "new→next", or
// "app NAME" for an application event, "-" for a notice (a console
// sign-in, an administrator made).
func change(x adminapi.EventInfo) string {
	if x.App != "" {
		return "app " + x.App
	}
	if x.To == "" {
		return "-"
	}
	from := x.From
	if from == "" {
		from = "new"
	}
	return from + "→" + x.To
}
