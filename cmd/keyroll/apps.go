package main

import (
	"context"
	"fmt"
	"time"

	"github.com/keyroll/keyroll/adminapi"
)

func init() {
	register(&command{
		name:    "apps create",
		summary: "register an application (OIDC client, SAML service provider or WS-Fed relying party)",
		usage: `Usage: keyroll apps create NAME [--audience AUD] [--redirect-uri URI]... [--public] [--token-lifetime 1h] [--server URL] [--json]
       keyroll apps create NAME --saml (--entity-id URI --acs URL... | --sp-metadata FILE) [--sp-cert PEMFILE]...
                               [--requests-signed] [--sign both|response|assertion] [--nameid-format persistent|emailAddress|unspecified|transient]
       keyroll apps create NAME --wsfed --realm URI --reply URL... [--token-type saml2|saml11]

Registers an application with the issuer. NAME is 1 to 64 letters, digits,
'.', '_' or '-', starting with a letter or digit (no spaces, so it never
needs quoting in a shell). A confidential application (the
default) gets a client secret, printed this once: keyroll keeps only its
SHA-256. A --public application (a native or single-page app) has no secret
and must use PKCE. Redirect URIs match exactly; they are https, http to a
loopback address, or a reversed-domain scheme (com.example.app:/cb).

--audience is the aud of the application's access tokens (default: its client
id). --token-lifetime is capped by the issuer's --max-token-lifetime.

--saml registers a SAML 2.0 service provider: its entity ID, the assertion
consumer services answers may be posted to, and the certificates its signed
AuthnRequests are checked against (--sp-metadata reads all of these from the
SP's metadata: a file, or a URL the issuer reads and refreshes, so an SP that
rolls its own signing key stays trusted). --wsfed registers a WS-Federation relying party (a WIF
or OWIN application): its realm (wtrealm) and reply URLs (wreply); its
tokens are SAML 2.0 assertions, or SAML 1.1 with --token-type saml11 (WIF
3.5). Their answers are signed with the application's effective key, like
OIDC tokens, so keyroll apps override applies to every protocol alike.

Examples:
  keyroll apps create payroll-api --audience api://payroll
  keyroll apps create portal --redirect-uri https://portal.example.com/signin-oidc
  keyroll apps create cli --public --redirect-uri http://127.0.0.1:8400/callback
  keyroll apps create wiki --saml --entity-id https://wiki.example.com/saml --acs https://wiki.example.com/saml/acs
  keyroll apps create crm --saml --sp-metadata crm-sp-metadata.xml
  keyroll apps create hr --saml --sp-metadata https://hr.example.com/saml/metadata
  keyroll apps create intranet --wsfed --realm urn:intranet --reply https://intranet.example.com/ --token-type saml11
`,
		run: runAppsCreate,
	})
	register(&command{
		name:    "apps list",
		summary: "list the applications and the key that signs each one's tokens",
		usage: `Usage: keyroll apps list [--server URL] [--json]

Lists the applications: name, client id, type, audience, the key that signs
their tokens now, and the per-application override if one is set. A "!"
marks an application whose override cannot sign (see keyroll apps show).

Examples:
  keyroll apps list
  keyroll apps list --json | jq -r '.[] | select(.key_override != null) | .name'
`,
		run: runAppsList,
	})
	register(&command{
		name:    "apps show",
		summary: "show an application, its signing key and any override warning",
		usage: `Usage: keyroll apps show APP [--server URL] [--json]

Shows an application (by name or client id): its settings, the key that signs
its tokens now, and a warning when its override key cannot sign (revoked,
expired) so the primary signs instead. The client secret is never shown.

It also prints the application's own URLs of the published documents (JWKS,
federation metadata, discovery, each with ?appid=CLIENT_ID). They serve the
same bytes; configured in the application, each fetch is recorded as
evidence of which keys it holds (keyroll readiness). Discovery names no key:
an OIDC application that follows discovery fetches the plain JWKS URL, so
give it the JWKS URL where it can take one.

Examples:
  keyroll apps show payroll-api
`,
		run: runAppsShow,
	})
	register(&command{
		name:    "apps delete",
		summary: "remove an application",
		usage: `Usage: keyroll apps delete APP [--server URL]

Removes an application (by name or client id) and its pending authorization
codes. Tokens it already has stay valid until they expire.

Examples:
  keyroll apps delete payroll-api
`,
		run: runAppsDelete,
	})
}

func runAppsCreate(ctx context.Context, e *env, args []string) int {
	c := commands["apps create"]
	fs := newFlags(c)
	var cf clientFlags
	cf.define(fs, e)
	var req adminapi.CreateAppRequest
	var uris opsStringList
	var lifetime time.Duration
	fs.StringVar(&req.Audience, "audience", "", "aud of the application's access tokens (default: its client id)")
	fs.Var(&uris, "redirect-uri", "a redirect `URI` for sign-in (repeat for several)")
	fs.BoolVar(&req.Public, "public", false, "a public client: no secret, PKCE required")
	durationFlag(fs, &lifetime, "token-lifetime", 0, "lifetime of its tokens (default 1h, at most the issuer's --max-token-lifetime)")
	fed := defineFedFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON (it holds the client secret)")
	pos, code := parseFlags(fs, c, e, args)
	if code >= 0 {
		return code
	}
	if len(pos) != 1 {
		return usageErr(e, c, "give exactly one application NAME")
	}
	req.Name, req.RedirectURIs, req.TokenLifetimeSeconds = pos[0], uris, int64(lifetime/time.Second)
	if err := fed.apply(&req); err != nil {
		return usageErr(e, c, err.Error())
	}
	out, err := cf.client(e).CreateApp(ctx, req)
	if err != nil {
		return failErr(e, c, err)
	}
	if *asJSON {
		writeJSONOut(e.stdout, out)
		return exitOK
	}
	fmt.Fprintf(e.stdout, "created application %s\n", out.App.Name)
	fmt.Fprintf(e.stdout, "  client id:     %s\n", out.App.ClientID)
	if out.App.Protocol != "" && out.App.Protocol != "oidc" {
		fmt.Fprintf(e.stdout, "  protocol:      %s (%s)\n", out.App.Protocol, out.App.Audience)
		return exitOK
	}
	if out.ClientSecret != "" {
		fmt.Fprintf(e.stdout, "  client secret: %s\n", out.ClientSecret)
		fmt.Fprintln(e.stdout, "  (shown once: store it now; keyroll keeps only its hash)")
	} else {
		fmt.Fprintln(e.stdout, "  public client: no secret; use PKCE (S256)")
	}
	return exitOK
}

func runAppsList(ctx context.Context, e *env, args []string) int {
	c := commands["apps list"]
	call, code := parseClientCall(c, e, args, 0, "")
	if code >= 0 {
		return code
	}
	apps, err := call.client.Apps(ctx)
	if err != nil {
		return failErr(e, c, err)
	}
	if call.json {
		writeJSONOut(e.stdout, apps)
		return exitOK
	}
	t := newTable(e.stdout, "NAME", "CLIENT ID", "TYPE", "AUDIENCE", "SIGNING KEY", "STATE", "OVERRIDE")
	for _, a := range apps {
		key, state, override := "-", "-", "-"
		if a.SigningKey != nil {
			key, state = a.SigningKey.Thumbprint, a.SigningKey.State
		}
		if a.KeyOverride != "" {
			override = a.KeyOverride
		}
		name := a.Name
		if a.Warning != "" {
			name = "!" + name
		}
		t.row(name, a.ClientID, appType(a), a.Audience, key, state, override)
	}
	t.flush()
	return exitOK
}

func runAppsShow(ctx context.Context, e *env, args []string) int {
	c := commands["apps show"]
	call, code := parseClientCall(c, e, args, 1, appArg)
	if code >= 0 {
		return code
	}
	a, err := call.client.App(ctx, call.args[0])
	if err != nil {
		return failErr(e, c, err)
	}
	if call.json {
		writeJSONOut(e.stdout, a)
		return exitOK
	}
	printApp(e, a)
	return exitOK
}

func runAppsDelete(ctx context.Context, e *env, args []string) int {
	return runDelete(ctx, e, commands["apps delete"], args, appArg, "application", func(ctx context.Context, call clientCall) error {
		return call.client.DeleteApp(ctx, call.args[0])
	})
}

// appArg describes the APP argument in usage errors.
const appArg = "application name or client id"

func appType(a adminapi.AppInfo) string {
	switch a.Protocol {
	case "saml":
		return "saml"
	case "wsfed":
		return "ws-fed"
	}
	if a.Public {
		return "public"
	}
	return "confidential"
}

func printApp(e *env, a *adminapi.AppInfo) {
	w := e.stdout
	fmt.Fprintf(w, "name:            %s\nclient id:       %s\n", a.Name, a.ClientID)
	audience, uris := "audience:       ", "redirect URIs:  "
	switch {
	case a.Protocol == "saml":
		fmt.Fprintln(w, "type:            SAML 2.0 service provider")
		audience, uris = "entity ID:      ", "ACS URLs:       "
	case a.Protocol == "wsfed":
		fmt.Fprintln(w, "type:            WS-Federation relying party")
		audience, uris = "realm:          ", "reply URLs:     "
	case a.Public:
		fmt.Fprintln(w, "type:            public (no secret; PKCE)")
	default:
		fmt.Fprintln(w, "type:            confidential (client secret)")
	}
	fmt.Fprintf(w, "%s %s\n", audience, a.Audience)
	for i, u := range a.RedirectURIs {
		label := uris
		if i > 0 {
			label = "                "
		}
		fmt.Fprintf(w, "%s %s\n", label, u)
	}
	if f := a.Fed; f != nil {
		fmt.Fprintf(w, "signed:          %s\n", f.Sign)
		if a.Protocol == "saml" {
			fmt.Fprintf(w, "requests signed: %v (%d SP certificates)\n", f.RequestsSigned, len(f.SPCerts))
		}
		if f.TokenType != "" {
			fmt.Fprintf(w, "token type:      %s\n", f.TokenType)
		}
	}
	fmt.Fprintf(w, "token lifetime:  %s\n", time.Duration(a.TokenLifetimeSeconds)*time.Second)
	override := "none (the primary signs)"
	if a.KeyOverride != "" {
		override = a.KeyOverride
	}
	fmt.Fprintf(w, "key override:    %s\n", override)
	if k := a.SigningKey; k != nil {
		fmt.Fprintf(w, "signing key:     %s (%s, kid %s, %s, until %s)\n", k.Thumbprint, k.State, k.KID, k.Alg, day(k.NotAfter))
	}
	if u := a.URLs; u != nil {
		key, other := u.JWKS, u.Discovery
		if a.Protocol != "oidc" {
			key = u.Metadata
		}
		fmt.Fprintf(w, "keys URL:        %s\n", key)
		fmt.Fprintf(w, "                 (configure the application with this URL: its fetches are the evidence that it holds the next key)\n")
		if a.Protocol == "oidc" {
			fmt.Fprintf(w, "discovery URL:   %s\nmetadata URL:    %s\n", other, u.Metadata)
		} else {
			fmt.Fprintf(w, "JWKS URL:        %s\n", u.JWKS)
		}
	}
	fmt.Fprintf(w, "created:         %s\n", a.CreatedAt.UTC().Format(time.RFC3339))
	if a.Warning != "" {
		fmt.Fprintf(w, "warning:         %s\n", a.Warning)
	}
}

// usageErr reports a usage error and returns exitUsage.
func usageErr(e *env, c *command, msg string) int {
	fmt.Fprintf(e.stderr, "keyroll %s: %s\nRun \"keyroll %s -h\" for help.\n", c.name, msg, c.name)
	return exitUsage
}

// failErr reports a failure and returns exitFail.
func failErr(e *env, c *command, err error) int {
	fmt.Fprintf(e.stderr, "keyroll %s: %v\n", c.name, err)
	return exitFail
}
