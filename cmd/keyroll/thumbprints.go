package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/keyroll/keyroll/ops"
)

func init() {
	register(&command{
		name:    "thumbprints",
		summary: "list a provider's signing keys with their thumbprints and dates",
		usage: `Usage: keyroll thumbprints SOURCE | --tenant NAME | --adfs HOST [--latest] [--download DIR] [--json]

Lists every signing key a provider publishes: kid, the certificate's SHA-1
thumbprint as Microsoft tools print it (upper-case hex) and SHA-256, the
algorithm, the certificate subject, NotBefore/NotAfter, and where it is
listed (JWKS, RoleDescriptor/..., IDPSSODescriptor). Keys published without a
certificate have no thumbprint: their RFC 7638 JWK thumbprint is shown.

SOURCE is an issuer URL (OIDC discovery is followed to its jwks_uri), a JWKS
URL, a federation metadata URL, or a local file of any of these.

` + metadataTrustHelp + `
Examples:
  keyroll thumbprints --tenant contoso.onmicrosoft.com
  keyroll thumbprints --adfs adfs.contoso.com --latest
  keyroll thumbprints https://accounts.google.com
  keyroll thumbprints --tenant contoso.onmicrosoft.com --latest --download ./keys
  keyroll thumbprints FederationMetadata.xml --json
  keyroll thumbprints --adfs adfs.contoso.com --metadata-signer adfs-token-signing.cer
`,
		run: runThumbprints,
	})
}

func runThumbprints(ctx context.Context, e *env, args []string) int {
	c := commands["thumbprints"]
	fs := newFlags(c)
	var sf opsSourceFlags
	sf.define(fs)
	latest := fs.Bool("latest", false, "only the newest key (by certificate NotBefore)")
	download := fs.String("download", "", "write each certificate to `DIR` as THUMBPRINT.cer, plus a PEM bundle")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, code := parseFlags(fs, c, e, args)
	if code >= 0 {
		return code
	}
	src, rest, err := sf.one(pos)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("unexpected argument %q", rest[0])
	}
	if err != nil {
		return opsUsageError(e, c, err)
	}
	p, err := sf.load(ctx, src)
	if err != nil {
		return opsFail(e, c, err)
	}
	keys := p.Keys
	now := time.Now().UTC()
	if *latest {
		k, ok := ops.Latest(keys)
		if !ok {
			return opsFail(e, c, errors.New("--latest: no published key has a certificate to date it"))
		}
		keys = []ops.Key{k}
	}
	if *download != "" {
		files, err := ops.Download(*download, keys)
		if err != nil {
			return opsFail(e, c, err)
		}
		fmt.Fprintf(e.stderr, "wrote %s\n", strings.Join(files, ", "))
	}
	if *asJSON {
		out := make([]ops.KeyJSON, len(keys))
		for i, k := range keys {
			out[i] = k.JSON(p.Location)
			out[i].Expired = k.ExpiredAt(now)
		}
		writeJSONOut(e.stdout, out)
		return exitOK
	}
	ops.WriteHeader(e.stdout, p)
	fmt.Fprintln(e.stdout)
	ops.WriteKeysTable(e.stdout, keys, now)
	return exitOK
}

// opsSourceFlags are the flags that say where a provider publishes its keys
// and how to fetch them; every operator command has them.
type opsSourceFlags struct {
	tenant, adfs opsStringList
	authority    string
	caFile       string
	allowHTTP    bool
	timeout      time.Duration
	signers      opsStringList // --metadata-signer
}

func (s *opsSourceFlags) define(fs *flag.FlagSet) {
	fs.Var(&s.tenant, "tenant", "Entra ID tenant `NAME` (ID or domain): its v2.0 OIDC discovery document")
	fs.Var(&s.adfs, "adfs", "AD FS `HOST`: its federation metadata")
	fs.StringVar(&s.authority, "authority", ops.DefaultEntraAuthority, "Entra ID authority for --tenant (sovereign clouds: https://login.microsoftonline.us, ...)")
	fs.StringVar(&s.caFile, "ca-file", "", "PEM `FILE` of extra CA certificates to trust for https")
	fs.BoolVar(&s.allowHTTP, "allow-http", false, "allow plain http to hosts other than localhost (anyone on the path could swap the keys)")
	fs.Var(&s.signers, "metadata-signer", metadataSignerUsage)
	durationFlag(fs, &s.timeout, "timeout", ops.DefaultTimeout, "time limit for each document fetched")
}

// sources returns every source named: --tenant and --adfs flags, then locations.
func (s *opsSourceFlags) sources(locations []string) []ops.Source {
	var out []ops.Source
	for _, t := range s.tenant {
		out = append(out, ops.Source{Tenant: t})
	}
	for _, h := range s.adfs {
		out = append(out, ops.Source{ADFS: h})
	}
	for _, l := range locations {
		out = append(out, ops.Source{Location: l})
	}
	return out
}

// one returns the single source of a command: --tenant, --adfs, or the
// first positional argument; rest are the other positional arguments.
func (s *opsSourceFlags) one(pos []string) (ops.Source, []string, error) {
	var src []ops.Source
	rest := pos
	if len(s.tenant)+len(s.adfs) == 0 && len(pos) > 0 {
		src, rest = s.sources(pos[:1]), pos[1:]
	} else {
		src = s.sources(nil)
	}
	if len(src) != 1 {
		return ops.Source{}, nil, ops.ErrNoSource
	}
	return src[0], rest, src[0].Validate()
}

// loader returns the loader the flags describe.
func (s *opsSourceFlags) loader() (*ops.Loader, error) {
	l := &ops.Loader{Timeout: s.timeout, EntraAuthority: s.authority, AllowHTTP: s.allowHTTP}
	pin, err := metadataPin(s.signers)
	if err != nil {
		return nil, err
	}
	l.Pin = pin
	if s.caFile != "" {
		data, err := ops.ReadFile(s.caFile)
		if err != nil {
			return nil, err
		}
		if err := l.TrustRoots(data); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func (s *opsSourceFlags) load(ctx context.Context, src ops.Source) (*ops.Published, error) {
	l, err := s.loader()
	if err != nil {
		return nil, err
	}
	return l.Load(ctx, src)
}

// opsStringList is a repeatable string flag.
type opsStringList []string

func (l *opsStringList) String() string     { return strings.Join(*l, ",") }
func (l *opsStringList) Set(v string) error { *l = append(*l, v); return nil }

func opsUsageError(e *env, c *command, err error) int {
	fmt.Fprintf(e.stderr, "keyroll %s: %v\nRun \"keyroll %s -h\" for help.\n", c.name, err, c.name)
	return exitUsage
}

func opsFail(e *env, c *command, err error) int {
	fmt.Fprintf(e.stderr, "keyroll %s: %v\n", c.name, err)
	return exitFail
}
