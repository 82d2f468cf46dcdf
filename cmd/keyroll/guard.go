package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/keyroll/keyroll/guard"
	"github.com/keyroll/keyroll/verify"
)

func init() {
	register(&command{
		name:    "guard",
		summary: "reverse proxy that forwards only requests with a valid bearer token",
		usage: `Usage: keyroll guard --issuer URL --audience A --upstream URL [--listen ADDR] [--admin-listen ADDR]
                     [--cache-file PATH] [--refresh-interval 1h] [--min-refresh-interval 10s]
                     [--metadata URL [--metadata-signer THUMBPRINT|CERTFILE]...]

Puts correct key-rollover handling in front of an application that cannot
do it itself. A request whose "Authorization: Bearer" token verifies against
the issuer's current keys (OpenID Connect discovery at
URL/.well-known/openid-configuration) is forwarded unchanged to the upstream,
with X-Keyroll-Subject set to the token's sub (a client's own
X-Keyroll-Subject is removed). Any other request gets 401 with
WWW-Authenticate: Bearer error="invalid_token", error_description="..."
and never reaches the upstream.

Keys are re-fetched every --refresh-interval (sooner when the issuer's
Cache-Control max-age says so, but never more often than
--min-refresh-interval), with If-None-Match/If-Modified-Since. A token
naming a key the guard does not have makes it fetch at once, so a key the
issuer starts signing with the moment it publishes it is accepted on first
sight and a rollover needs no restart. However many unknown keys arrive (a
flood of random kids), at most one such fetch runs per
--min-refresh-interval; the 401 then says "refresh throttled until T".
Microsoft's guidance (refresh daily, on an unknown key at most every 5
minutes) is --refresh-interval 24h --min-refresh-interval 5m. With
--cache-file the last good keys are kept on disk, and a restarted guard
serves while the issuer is down.

With --metadata the keys are the signing certificates of the issuer's
WS-Federation/SAML federation metadata instead. --metadata-signer pins who
must have signed it: metadata that is unsigned or signed by any other key is
refused and the last good keys keep serving. Without a pin a signature
present must verify under the document's own certificates, which shows it
intact but is no trust decision (trust rests on https).

The admin listener serves /metrics (Prometheus), /healthz and /readyz
(503 until the keys are loaded; both report the keys' age).

Every flag can also be set by its environment variable: KEYROLL_ and the flag
name in capitals, e.g. KEYROLL_UPSTREAM=http://127.0.0.1:3000.

Examples:
  keyroll guard --issuer https://login.example.com --audience api://orders --upstream http://127.0.0.1:3000
  keyroll guard --issuer https://login.microsoftonline.com/$TENANT/v2.0 --audience $APP_ID \
      --upstream http://127.0.0.1:3000 --listen :8443 --cache-file /var/lib/keyroll/guard-keys.json
  keyroll guard --issuer https://adfs.contoso.com/adfs --audience urn:app --upstream http://127.0.0.1:3000 \
      --metadata https://adfs.contoso.com/federationmetadata/2007-06/federationmetadata.xml \
      --metadata-signer 3A38FA984E8560F19AADC9F86FE9594BB6AD049B
`,
		run: runGuard,
	})
}

type guardFlags struct {
	issuer, upstream, listen, admin, cacheFile string
	metadata                                   string
	signers                                    opsStringList
	audiences                                  audienceList
	refresh, minRefresh                        time.Duration
	log                                        logFlags
	tls                                        tlsFlags
}

// audienceList is a repeatable --audience. Values from KEYROLL_AUDIENCE
// are replaced, not extended, by those on the command line, so the
// command line says exactly which audiences are accepted.
type audienceList struct {
	vals    []string
	fromEnv bool
}

func (l *audienceList) String() string { return strings.Join(l.vals, ",") }

func (l *audienceList) Set(v string) error {
	if l.fromEnv {
		l.vals, l.fromEnv = nil, false
	}
	l.vals = append(l.vals, v)
	return nil
}

func runGuard(ctx context.Context, e *env, args []string) int {
	c := commands["guard"]
	fs := newFlags(c)
	var f guardFlags
	fs.StringVar(&f.issuer, "issuer", "", "token issuer `URL` (tokens' iss; keys from its discovery document)")
	fs.Var(&f.audiences, "audience", "accepted aud value; repeatable, at least one")
	fs.StringVar(&f.upstream, "upstream", "", "`URL` of the application requests are forwarded to")
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8081", "address the proxy listens on")
	fs.StringVar(&f.admin, "admin-listen", "127.0.0.1:9090", "address of /metrics, /healthz and /readyz (\"off\" for none)")
	fs.StringVar(&f.cacheFile, "cache-file", "", "keep the last good keys in this file")
	fs.StringVar(&f.metadata, "metadata", "", "take the keys from this federation metadata `URL` instead of OpenID Connect discovery")
	fs.Var(&f.signers, "metadata-signer", metadataSignerUsage+" (with --metadata)")
	durationFlag(fs, &f.refresh, "refresh-interval", verify.DefaultRefreshInterval, "scheduled key refresh")
	durationFlag(fs, &f.minRefresh, "min-refresh-interval", verify.DefaultMinRefreshInterval, "unknown-key window: at most one fetch per window for unknown kids; floor under max-age")
	names := []string{"issuer", "audience", "upstream", "listen", "admin-listen", "cache-file", "metadata", "refresh-interval", "min-refresh-interval"}
	names = append(names, f.log.define(fs)...)
	names = append(names, f.tls.define(fs)...)
	if err := applyEnv(fs, e, names...); err != nil {
		return opsUsageError(e, c, err)
	}
	f.audiences.fromEnv = len(f.audiences.vals) > 0
	pos, code := parseFlags(fs, c, e, args)
	if code >= 0 {
		return code
	}
	if len(pos) > 0 {
		return opsUsageError(e, c, fmt.Errorf("unexpected argument %q", pos[0]))
	}
	cfg, err := f.config(e)
	if err != nil {
		return opsUsageError(e, c, err)
	}
	g, err := guard.New(cfg)
	if errors.Is(err, guard.ErrConfig) {
		return opsUsageError(e, c, err)
	} else if err != nil {
		return opsFail(e, c, err)
	}
	if err := f.serve(ctx, e, g, cfg); err != nil {
		return opsFail(e, c, err)
	}
	return exitOK
}

func (f *guardFlags) config(e *env) (guard.Config, error) {
	if f.upstream == "" {
		return guard.Config{}, errors.New("--upstream is required")
	}
	up, err := url.Parse(f.upstream)
	if err != nil {
		return guard.Config{}, fmt.Errorf("--upstream: %v", err)
	}
	pin, err := metadataPin(f.signers)
	if err != nil {
		return guard.Config{}, err
	}
	logger, err := f.log.logger(e.stderr)
	if err != nil {
		return guard.Config{}, err
	}
	return guard.Config{
		Issuer: f.issuer, Audience: f.audiences.vals, Upstream: up, CacheFile: f.cacheFile,
		Metadata: f.metadata, MetadataSigner: pin,
		RefreshInterval: f.refresh, MinRefreshInterval: f.minRefresh,
		Logger: logger,
	}, nil
}

// serve opens the listeners, says where everything is, and runs g until ctx ends.
func (f *guardFlags) serve(ctx context.Context, e *env, g *guard.Guard, cfg guard.Config) error {
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return err
	}
	ln, scheme, err := f.tls.wrap(ln, cfg.Logger)
	if err != nil {
		ln.Close()
		return err
	}
	var admin net.Listener
	if f.admin != "off" {
		if admin, err = net.Listen("tcp", f.admin); err != nil {
			ln.Close()
			return err
		}
	}
	w := e.stdout
	fmt.Fprintf(w, "keyroll guard %s://%s → %s\n", scheme, displayAddr(ln.Addr()), cfg.Upstream.Redacted())
	fmt.Fprintf(w, "  issuer:   %s\n  audience: %s\n", cfg.Issuer, f.audiences.String())
	if cfg.CacheFile != "" {
		keys := "none yet"
		if ks := g.Verifier().Cache().KeySet(); ks != nil {
			keys = fmt.Sprintf("%d keys loaded", ks.Usable())
		}
		fmt.Fprintf(w, "  cache:    %s (%s)\n", cfg.CacheFile, keys)
	}
	if admin != nil {
		fmt.Fprintf(w, "  admin:    http://%s (/metrics, /healthz, /readyz)\n", displayAddr(admin.Addr()))
	}
	return g.Serve(ctx, ln, admin)
}
