package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/keyroll/keyroll/ops"
	"github.com/keyroll/keyroll/ops/trust"
)

func init() {
	register(&command{
		name:    "trust check",
		summary: "compare what a relying party trusts with what its provider publishes",
		usage: `Usage: keyroll trust check SOURCE | --tenant NAME | --adfs HOST [--trusted FILE]... [THUMBPRINT]... [flags]

Compares the keys a relying party trusts with the signing keys its provider
publishes, key by key, and gives a verdict:

  OK       (exit 0) every published key that may sign is trusted
  AT RISK  (exit 1) a published key is not trusted; it may sign from the date shown
  BROKEN   (exit 2) the key known to sign now is not trusted, or no trusted key is published
  (exit 3) the check could not be made

What the relying party trusts: thumbprints given as arguments or --thumbprint,
and --trusted files, each a thumbprint list (any format: spaced, lower-case,
colon-separated, one or more per line, # comments), a PEM bundle or .cer, a
Web.config (ValidatingIssuerNameRegistry or
ConfigurationBasedIssuerNameRegistry), or a JWKS or metadata snapshot.

Which key signs now is known only when --signer KID names it (e.g. from a
recent token's header; a KID that is not published is an error, exit 3) or
when it signed the provider's metadata (signature verified). Otherwise it is
estimated by AD FS's thresholds (the newest certificate published at least
the promotion threshold ago), and an untrusted estimated signer gives AT RISK,
not BROKEN. Keys without certificates (a bare JWKS) give no estimate. A
published signing key keyroll skipped (weak, alg mismatch, shared kid) cannot
be checked and gives at least AT RISK.

Metadata trust: the signature of federation metadata is checked against
the certificates the document itself publishes unless --metadata-signer
pins the signer (a SHA-1/SHA-256 thumbprint, or a certificate file). Such a
self-check shows the document intact, not who wrote it: anyone can sign
metadata that lists their own certificate, so keyroll never calls it valid
and names the certificate that signed it. With a pin, metadata that is
unsigned or signed by any other key is refused (exit 3) and nothing of it
is used.

Examples:
  keyroll trust check --adfs adfs.contoso.com --trusted Web.config
  keyroll trust check --tenant contoso.onmicrosoft.com 3A38FA984E8560F19AADC9F86FE9594BB6AD049B
  keyroll trust check https://idp.example.com --trusted app-trust.pem --json
  keyroll trust check --adfs adfs.contoso.com --metadata-signer pinned-signer.pem --trusted Web.config
`,
		run: runTrustCheck,
	})
}

// exitCouldNotCheck is "trust check"'s exit code when it cannot decide.
const exitCouldNotCheck = int(trust.Unknown)

func runTrustCheck(ctx context.Context, e *env, args []string) int {
	c := commands["trust check"]
	fs := newFlags(c)
	var sf opsSourceFlags
	sf.define(fs)
	var pf opsPolicyFlags
	pf.define(fs)
	var files, thumbs opsStringList
	fs.Var(&files, "trusted", "`FILE` of trusted keys (thumbprint list, PEM/.cer, Web.config, JWKS or metadata); repeatable")
	fs.Var(&thumbs, "thumbprint", "a trusted thumbprint; repeatable")
	signer := fs.String("signer", "", "kid or thumbprint of the key that signs now, instead of the estimate")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, code := parseFlags(fs, c, e, args)
	if code >= 0 {
		return couldNotCheck(code)
	}
	src, rest, err := sf.one(pos)
	if err != nil {
		return couldNotCheck(opsUsageError(e, c, err))
	}
	at, err := pf.at()
	if err != nil {
		return couldNotCheck(opsUsageError(e, c, err))
	}
	anchors, err := readAnchors(files, append(thumbs, rest...))
	if err != nil {
		return opsCouldNot(e, c, err)
	}
	p, err := sf.load(ctx, src)
	if err != nil {
		return opsCouldNot(e, c, err)
	}
	if err := p.CheckHint(*signer); err != nil {
		return opsCouldNot(e, c, err)
	}
	r := trust.Check(p, anchors, trust.Options{Policy: pf.policy, Now: at, Signer: *signer})
	if *asJSON {
		writeJSONOut(e.stdout, r.JSON(p))
	} else {
		r.WriteTable(e.stdout, p)
	}
	return int(r.Verdict)
}

// readAnchors reads every --trusted file and the thumbprints given.
func readAnchors(files, thumbs []string) ([]trust.Anchor, error) {
	if len(files)+len(thumbs) == 0 {
		return nil, errors.New("say what the relying party trusts: --trusted FILE or thumbprints")
	}
	var out []trust.Anchor
	for _, f := range files {
		data, err := ops.ReadFile(f)
		if err != nil {
			return nil, err
		}
		a, err := trust.Read(data, f)
		if err != nil {
			return nil, err
		}
		out = append(out, a...)
	}
	if len(thumbs) > 0 {
		a, err := trust.ParseThumbprints(strings.Join(thumbs, "\n"), "argument")
		if err != nil {
			return nil, err
		}
		out = append(out, a...)
	}
	return out, nil
}

// couldNotCheck maps a usage error's exit code to "could not check": 2 is BROKEN here.
func couldNotCheck(code int) int {
	if code == exitUsage {
		return exitCouldNotCheck
	}
	return code
}

func opsCouldNot(e *env, c *command, err error) int {
	fmt.Fprintf(e.stderr, "keyroll %s: could not check: %v\n", c.name, err)
	return exitCouldNotCheck
}
