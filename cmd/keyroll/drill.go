package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/keyroll/keyroll/drill"
)

func init() {
	register(&command{
		name:    "drill",
		summary: "test whether an application survives a key rollover (pin it to each key, test, restore)",
		usage: `Usage: keyroll drill --app APP (--api URL | --web URL) [--fresh-key] [--refresh-wait D]
                    [--user NAME --password-stdin] [--expect TEXT] [--json] [--server URL]

The rollover readiness drill: what UpdateThumbprint-RollForward, a sign-in
in a fresh browser window and UpdateThumbprint-RestoreDefaultBehavior do by
hand, for every published key. For each key (next, primary, retired) it pins
the application APP (name or client id) to that key, tests the application,
and records whether it accepted or rejected the key, with the HTTP evidence.

--api URL: the application is a web API. The issuer mints the application a
  token (as client_credentials would) and the drill calls URL with it as
  "Authorization: Bearer". 2xx is accepted, 401 or 403 rejected; anything
  else, or a network error, leaves that key undecided. Then two control
  calls: URL without a token, and with the application's token re-signed by
  a throwaway key the issuer never published (random kid). Unless the API
  refuses both (401, 403), an acceptance proves nothing, so the verdict is
  at best inconclusive (exit 2): "the API accepts requests without a valid
  token". The controls are shown with the results.
--web URL: the application signs users in, over OIDC, SAML 2.0 or
  WS-Federation (as registered). A fresh browser session (its own cookies)
  opens URL, follows every redirect, signs in on keyroll's page (the
  password goes only to the issuer's sign-in endpoint of that protocol) and
  must end signed in on URL itself: 2xx there, containing --expect TEXT if
  given. Once the issuer has handed the application its code (OIDC), or its
  page has posted the signed answer to a registered ACS or reply URL (SAML,
  WS-Fed; the drill submits it as a browser would), an error page, the
  sign-in form again or any other page is a rejection. The test user is
  --user NAME with its password on standard input (--password-stdin), or by
  default a temporary user the drill creates and deletes.
--fresh-key: also publish a brand-new transient key, as an emergency
  rollover would, and test it: an application that does not refresh its keys
  when a token names an unknown one rejects it. The key is withdrawn after.
--refresh-wait D (default 5m10s): correct applications throttle the key
  fetches they make for unknown keys (keyroll guard and the verify library:
  one per 10 s; Microsoft's libraries: one per 5 minutes), so one that has
  just fetched refuses a key it has not seen yet. A key it refuses is tested
  once more after D, pinned again, when the throttle may explain it: the
  fresh key, a key published less than D before its test (keys rotate just
  before the drill), or any key tested less than D after another drill of
  the application ended (whose controls may have spent the window). Only a
  second rejection is NOT READY. 0 retries the fresh key at once and
  nothing else.

Whatever happens (success, failure, error, Ctrl-C) the drill then restores
the application's previous override exactly, withdraws its transient key and
deletes its temporary user, and says so on standard error; if that fails it
says what is left and the command that fixes it.

Progress goes to standard error; the result table and the verdict to
standard output (--json: one JSON object with the results, the evidence,
the verdict, the reason, the cleanup, and RFC 3339 times).

Exit codes: 0 ready (every key accepted), 1 not ready (some key rejected,
even if others were undecided), 2 the drill could not run or decide
(unknown application, undecided tests, an API that takes requests without
a valid token, interrupted), or left something behind.

Examples:
  keyroll drill --app payroll-api --api https://payroll.example.com/api/health
  keyroll drill --app portal --web https://portal.example.com/ --fresh-key
  keyroll drill --app intranet-sp --web https://intranet.example.com/ --expect "Signed in as"
  printf '%s\n' "$PW" | keyroll drill --app portal --web https://portal.example.com/ --user alice --password-stdin --expect "Welcome"
  keyroll drill --app payroll-api --api https://payroll.example.com/api --json | jq -r .verdict
`,
		run: runDrill,
	})
}

// drillFlags are keyroll drill's options.
type drillFlags struct {
	clientFlags
	app, api, web, user, expect string
	fresh, passwordStdin, json  bool
	refreshWait                 time.Duration
}

func runDrill(ctx context.Context, e *env, args []string) int {
	c := commands["drill"]
	var f drillFlags
	fs := newFlags(c)
	f.define(fs, e)
	fs.StringVar(&f.app, "app", "", "the application's `NAME` or client id")
	fs.StringVar(&f.api, "api", "", "`URL` of the web API to call with a bearer token")
	fs.StringVar(&f.web, "web", "", "`URL` the application signs users in to")
	fs.BoolVar(&f.fresh, "fresh-key", false, "also publish and test a brand-new transient key (refresh on unknown key)")
	durationFlag(fs, &f.refreshWait, "refresh-wait", drill.DefaultRefreshWait, "how long to wait for the application's refresh throttle before testing again a key it may have refused for it (0: the fresh key at once)")
	fs.StringVar(&f.user, "user", "", "test user `NAME` for --web (default: a temporary user)")
	fs.BoolVar(&f.passwordStdin, "password-stdin", false, "read --user's password from the first line of standard input")
	fs.StringVar(&f.expect, "expect", "", "`TEXT` the final page must contain (--web)")
	fs.BoolVar(&f.json, "json", false, "print one JSON object")
	pos, code := parseFlags(fs, c, e, args)
	if code >= 0 {
		return code
	}
	if msg := f.check(pos); msg != "" {
		return usageErr(e, c, msg)
	}
	cfg := drill.Config{Admin: f.client(e), App: f.app, API: f.api, Web: f.web, Expect: f.expect,
		FreshKey: f.fresh, RefreshWait: f.refreshWait, After: e.after, User: f.user, Progress: e.stderr}
	if f.refreshWait == 0 {
		cfg.RefreshWait = -1 // at once; 0 in a Config is the default
	}
	if f.passwordStdin {
		pw, err := readPassword(e.stdin)
		if err != nil {
			return usageErr(e, c, "--password-stdin: "+err.Error())
		}
		cfg.Password = pw
	}
	rep := drill.Run(ctx, cfg)
	if f.json {
		writeJSONOut(e.stdout, rep)
	} else {
		printDrill(e, rep)
	}
	printLeftovers(e, rep, f.server)
	return rep.ExitCode()
}

// check says what is wrong with the flags, or "".
func (f *drillFlags) check(pos []string) string {
	switch {
	case len(pos) > 0:
		return fmt.Sprintf("unexpected argument %q (name the application with --app)", pos[0])
	case f.app == "":
		return "name the application with --app"
	case (f.api == "") == (f.web == ""):
		return "give exactly one of --api URL and --web URL"
	case f.web == "" && (f.user != "" || f.expect != "" || f.passwordStdin):
		return "--user, --password-stdin and --expect apply to --web only"
	case f.refreshWait < 0:
		return "--refresh-wait must not be negative"
	case (f.user != "") != f.passwordStdin:
		return "--user NAME and --password-stdin go together (without them the drill makes a temporary user)"
	}
	return ""
}

// printDrill writes the result table and the verdict for people.
func printDrill(e *env, rep *drill.Report) {
	if len(rep.Results)+len(rep.Controls) > 0 {
		t := newTable(e.stdout, "KEY", "STATE", "THUMBPRINT", "RESULT", "EVIDENCE")
		for _, c := range rep.Controls {
			t.row("-", "control: "+c.Name, "-", string(c.Outcome), c.Evidence.Summary())
		}
		for _, r := range rep.Results {
			kid, tp := r.KID, r.Thumbprint
			if kid == "" {
				kid, tp = "-", "-"
			}
			t.row(kid, r.State, tp, string(r.Outcome), r.Evidence.Summary())
		}
		t.flush()
		fmt.Fprintln(e.stdout)
	}
	for i, reason := range rep.Reasons {
		if i == 0 {
			fmt.Fprintf(e.stdout, "%s: %s\n", strings.ToUpper(string(rep.Verdict)), reason)
		} else {
			fmt.Fprintf(e.stdout, "  and %s\n", reason)
		}
	}
	fmt.Fprintf(e.stdout, "(drill of %s at %s, %s to %s)\n", rep.App, rep.Target,
		rep.Started.Format("2006-01-02 15:04:05Z"), rep.Finished.Format("15:04:05Z"))
}

// printLeftovers says what the cleanup could not undo and how to fix it.
func printLeftovers(e *env, rep *drill.Report, server string) {
	if len(rep.Cleanup.Left) == 0 {
		return
	}
	suffix := ""
	if server != defaultServer {
		suffix = " --server " + server
	}
	fmt.Fprintln(e.stderr, "keyroll drill: the cleanup did not finish; left behind:")
	for _, l := range rep.Cleanup.Left {
		fmt.Fprintf(e.stderr, "  - %s\n    (%s)\n    fix: %s%s\n", l.What, l.Err, l.Fix, suffix)
	}
}
