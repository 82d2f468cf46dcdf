package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/keyroll/keyroll/ops/keysync"
)

func init() {
	register(&command{
		name:    "sync",
		summary: "write a provider's published keys into a PEM bundle, JWKS file or Web.config",
		usage: `Usage: keyroll sync SOURCE | --tenant NAME | --adfs HOST --to FILE [--format F] [--exec CMD] [flags]

For applications that cannot fetch keys themselves: makes FILE hold exactly
the signing keys the provider publishes now, as a PEM bundle (.pem, .crt), a
JWKS (.json, .jwks), or the thumbprints of a Web.config's issuerNameRegistry
(.config; only the thumbprint values change, every other byte stays).

FILE is written only when the set of keys changed ("unchanged" otherwise, exit
0), atomically (temporary file, fsync, rename), with the previous version
kept as FILE.bak. An empty set, an unparseable document or metadata whose
signature does not verify is refused and nothing is written.

Trust: the keys written are trusted only as far as their source is. With
--metadata-signer (a thumbprint or certificate file of the provider's
metadata signing certificate, e.g. from "keyroll thumbprints"), metadata
that is unsigned or signed by any other key is refused and nothing is
written. Without a pin, trust rests on https: from a source that is neither
https nor pinned (a local file, plain http) sync refuses to change FILE
unless --allow-unpinned. A signature by a certificate the document itself
publishes proves nothing about who wrote it. There is no trust-on-first-use:
pin explicitly. After a change,
--exec runs CMD with sh -c (KEYROLL_SYNC_FILE is set), e.g. to reload the
application; if it fails, FILE.exec-pending records it and the next run
executes CMD again even though nothing changed. Safe to run from cron every
few minutes.

Examples:
  keyroll sync --tenant contoso.onmicrosoft.com --to /etc/myapp/entra.pem --exec 'systemctl reload myapp'
  keyroll sync --adfs adfs.contoso.com --to C:/inetpub/app/Web.config \
      --metadata-signer 5A:3F:...:9C   # the AD FS token-signing thumbprint
  keyroll sync https://idp.example.com/keys --to keys.json
  keyroll sync --tenant contoso.com --to Web.config --issuer-name https://sts.windows.net/<tenant-id>/
`,
		run: runSync,
	})
}

func runSync(ctx context.Context, e *env, args []string) int {
	c := commands["sync"]
	fs := newFlags(c)
	var sf opsSourceFlags
	sf.define(fs)
	to := fs.String("to", "", "`FILE` to write (required)")
	format := fs.String("format", "auto", "pem, jwks, webconfig, or auto (from FILE's extension)")
	issuer := fs.String("issuer-name", "", "Web.config: the issuer (authority or trustedIssuers name) whose thumbprints to replace, when it trusts several")
	noBackup := fs.Bool("no-backup", false, "do not keep FILE.bak")
	allowBad := fs.Bool("allow-invalid-signature", false, "sync from metadata whose signature does not verify")
	allowUnpinned := fs.Bool("allow-unpinned", false, "change FILE from a source that is neither https nor signed by a pinned --metadata-signer (a local file, plain http)")
	execCmd := fs.String("exec", "", "run `CMD` (sh -c) after FILE changed")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, code := parseFlags(fs, c, e, args)
	if code >= 0 {
		return code
	}
	src, rest, err := sf.one(pos)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("unexpected argument %q", rest[0])
	}
	if err == nil && *to == "" {
		err = errors.New("--to FILE is required")
	}
	f, ferr := keysync.FormatFor(*to, *format)
	if err = errors.Join(err, ferr); err != nil {
		return opsUsageError(e, c, err)
	}
	p, err := sf.load(ctx, src)
	if err != nil {
		return opsFail(e, c, err)
	}
	opt := keysync.Options{Format: f, Issuer: *issuer, NoBackup: *noBackup, AllowInvalidSignature: *allowBad}
	if pin, _ := metadataPin(sf.signers); !*allowUnpinned {
		opt.Untrusted = untrustedSource(src, pin)
	}
	res, err := keysync.Sync(p, *to, opt)
	for _, s := range res.Skipped {
		fmt.Fprintf(e.stderr, "keyroll sync: skipped %s\n", s)
	}
	if err != nil {
		return opsFail(e, c, err)
	}
	if *asJSON {
		// --exec's own output goes to stderr, so stdout stays one JSON document.
		ran, err := runSyncHook(ctx, *execCmd, *to, res.Changed, e.stderr, e.stderr)
		if err != nil {
			return opsFail(e, c, err)
		}
		writeJSONOut(e.stdout, syncResult{Path: res.Path, Format: string(res.Format), Changed: res.Changed, Backup: res.Backup,
			Keys: res.Keys, Added: nonNil(res.Added), Removed: nonNil(res.Removed), Skipped: nonNil(res.Skipped), ExecRan: ran})
		return exitOK
	}
	if res.Changed {
		fmt.Fprintf(e.stdout, "updated %s: %d key(s); added %s; removed %s\n", *to, res.Keys, opsList(res.Added), opsList(res.Removed))
		if res.Backup != "" {
			fmt.Fprintf(e.stdout, "previous version kept as %s\n", res.Backup)
		}
	} else {
		fmt.Fprintf(e.stdout, "unchanged: %s already holds the %d published key(s)\n", *to, res.Keys)
	}
	ran, err := runSyncHook(ctx, *execCmd, *to, res.Changed, e.stdout, e.stderr)
	if err != nil {
		return opsFail(e, c, err)
	}
	if ran && !res.Changed {
		fmt.Fprintln(e.stdout, "ran --exec again: it had failed after the last change")
	}
	return exitOK
}

// runSyncHook runs --exec when one is given.
func runSyncHook(ctx context.Context, cmd, path string, changed bool, stdout, stderr io.Writer) (bool, error) {
	if cmd == "" {
		return false, nil
	}
	return keysync.Hook(ctx, cmd, path, changed, stdout, stderr)
}

func opsList(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// syncResult is what keyroll sync --json prints.
type syncResult struct {
	Path    string   `json:"path"`
	Format  string   `json:"format"`
	Changed bool     `json:"changed"`
	Backup  string   `json:"backup,omitempty"`
	Keys    int      `json:"keys"`
	Added   []string `json:"added"`
	Removed []string `json:"removed"`
	Skipped []string `json:"skipped"`
	ExecRan bool     `json:"exec_ran"`
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
