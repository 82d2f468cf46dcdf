package main

import (
	"context"
	"fmt"
	"time"

	"github.com/keyroll/keyroll/adminapi"
)

func init() {
	register(&command{
		name:    "readiness",
		summary: "which applications are ready for the next key rollover, from the evidence",
		usage: `Usage: keyroll readiness [--within 7d] [--server URL] [--json]

One row per application: its protocol, its override (pinned to which key,
published until when), its last key fetch through its own URL (?appid=, see
keyroll apps show) and whether that fetch held the current next key, its
last drill and whether it tested the current keys, and a verdict:

  READY      a drill accepted the next key (the primary when there is none),
             or it fetched the next key and a drill found it ready
  AT RISK    it has not fetched the next key and the promotion is within
             --within; it is pinned to a key that is going away; it was
             never drilled, or no drill found it ready
  NOT READY  the latest drill of the primary or the next key refused it
  UNKNOWN    no evidence (no fetch through its URL, no drill), or not yet
             enough (the promotion is further away than --within)

--json prints an array of objects with app, client_id, protocol,
last_key_fetch, has_next_key, last_drill, verdict, reason and more.

Exit codes: 0 every application ready, 1 some at risk or unknown, 2 some
not ready, 3 could not check.

Examples:
  keyroll readiness
  keyroll readiness --within 14d --json | jq -r '.[] | select(.verdict!="READY") | .app'
`,
		run: runReadiness,
	})
}

// Exit codes of keyroll readiness.
const (
	readyExitRisk     = 1
	readyExitNotReady = 2
	readyExitNoCheck  = 3
)

func runReadiness(ctx context.Context, e *env, args []string) int {
	c := commands["readiness"]
	fs := newFlags(c)
	var cf clientFlags
	cf.define(fs, e)
	asJSON := fs.Bool("json", false, "print a JSON array")
	var within time.Duration
	durationFlag(fs, &within, "within", 7*24*time.Hour, "an application that has not fetched the next key is at risk once the promotion is this close")
	pos, code := parseFlags(fs, c, e, args)
	if code >= 0 {
		if code == exitUsage {
			return readyExitNoCheck
		}
		return code
	}
	if len(pos) > 0 {
		usageErr(e, c, fmt.Sprintf("unexpected argument %q", pos[0]))
		return readyExitNoCheck
	}
	if within <= 0 {
		usageErr(e, c, "--within must be positive")
		return readyExitNoCheck
	}
	info, err := cf.client(e).Readiness(ctx, within)
	if err != nil {
		fmt.Fprintf(e.stderr, "keyroll readiness: could not check: %v\n", err)
		return readyExitNoCheck
	}
	if *asJSON {
		writeJSONOut(e.stdout, info.Apps)
	} else {
		printReadiness(e, info)
	}
	return readinessExit(info.Apps)
}

// readinessExit is 0 when every application is ready, 2 when some is not
// ready, else 1.
func readinessExit(apps []adminapi.AppReadiness) int {
	code := exitOK
	for _, a := range apps {
		switch a.Verdict {
		case "READY":
		case "NOT READY":
			return readyExitNotReady
		default:
			code = readyExitRisk
		}
	}
	return code
}

func printReadiness(e *env, info *adminapi.ReadinessInfo) {
	w := e.stdout
	if k := info.NextKey; k != nil {
		fmt.Fprintf(w, "next key %s (kid %s), promoted %s\n\n", k.Thumbprint, k.KID, dayp(k.PromoteAt))
	} else {
		fmt.Fprintln(w, "no next key is published: judged against the primary")
		fmt.Fprintln(w)
	}
	if len(info.Apps) == 0 {
		fmt.Fprintln(w, "no applications")
		return
	}
	t := newTable(w, "APP", "PROTOCOL", "OVERRIDE", "LAST KEY FETCH", "HAS NEXT KEY", "LAST DRILL", "VERDICT", "REASON")
	for _, a := range info.Apps {
		override := "-"
		if a.Override != "" {
			override = abbrevTP(a.Override)
			if a.OverrideState != "" {
				override += " (" + a.OverrideState
				if a.OverrideUntil != nil {
					override += " until " + dayp(a.OverrideUntil)
				}
				override += ")"
			}
		}
		fetch := "never"
		if a.LastKeyFetch != nil {
			fetch = a.LastKeyFetch.UTC().Format("2006-01-02 15:04Z")
		}
		has := "-"
		if a.HasNextKey != nil {
			has = map[bool]string{true: "yes", false: "no"}[*a.HasNextKey]
		}
		drill := "never"
		if d := a.LastDrill; d != nil {
			drill = fmt.Sprintf("%s %s", day(d.Finished), d.Verdict)
			if !d.ForCurrentKeys {
				drill += " (older keys)"
			}
		}
		t.row(a.App, a.Protocol, override, fetch, has, drill, a.Verdict, a.Reason)
	}
	t.flush()
}

// abbrevTP shortens a thumbprint for tables: 3A38…049B.
func abbrevTP(tp string) string {
	if len(tp) <= 12 {
		return tp
	}
	return tp[:4] + "…" + tp[len(tp)-4:]
}
