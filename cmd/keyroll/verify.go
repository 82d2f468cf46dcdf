package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/keyroll/keyroll/jws"
	"github.com/keyroll/keyroll/ops"
	"github.com/keyroll/keyroll/verify"
)

func init() {
	register(&command{
		name:    "verify",
		summary: "verify a token against an issuer's published keys and print its claims",
		usage: `Usage: keyroll verify --issuer URL | --jwks URL | --metadata URL [--audience A]... [--issuer-claim I] TOKEN|-
       keyroll verify --saml --metadata URL --audience A [--recipient URL] [--in-response-to ID] FILE|-

Verifies a JWS compact token (a JWT) with the keys its issuer publishes, as a
relying party would, and prints the verified header and claims as JSON.
Give "-" to read the token from standard input (surrounding whitespace and a
"Bearer " prefix are ignored).

Where the keys come from (exactly one):
  --issuer URL     OpenID Connect discovery at URL/.well-known/openid-configuration;
                   the token's iss must be URL (or --issuer-claim)
  --jwks URL       a JWKS; iss is checked only with --issuer-claim
  --metadata URL   WS-Federation/SAML metadata; iss must be its entityID (or --issuer-claim).
                   With --metadata-signer THUMBPRINT|CERTFILE (repeatable), metadata
                   that is unsigned or signed by any other key is refused; without it,
                   a signature present must verify under the document's own
                   certificates, which shows it intact but decides no trust (use https)

Checks: the algorithm (allow-list, see --alg), the signature, iss, exp, nbf
and iat (one minute of skew), and aud when --audience is given (without it,
aud is not checked, and a warning says so).

With --saml the input is a SAML 2.0 Response or a WS-Federation wresult
(RequestSecurityTokenResponse) carrying a SAML 2.0 assertion, as XML or
base64 (a file, or - for standard input), verified against the signing
certificates of --metadata: exactly one assertion, signed (or in a signed
Response) with RSA- or ECDSA-SHA256/384/512 by a published certificate of
that key type, Issuer the entityID (or --issuer-claim), an --audience in
every AudienceRestriction, the time conditions, and with --recipient /
--in-response-to those too.
It prints the assertion as JSON.

Exit status: 0 valid, 1 rejected (the reason is printed) or keys unavailable,
2 usage error.

Examples:
  keyroll verify --issuer https://login.example.com --audience api://orders "$TOKEN"
  pbpaste | keyroll verify --jwks https://login.example.com/.well-known/jwks.json -
  keyroll verify --metadata https://adfs.contoso.com/federationmetadata/2007-06/federationmetadata.xml \
      --metadata-signer 3A38FA984E8560F19AADC9F86FE9594BB6AD049B --audience urn:app "$TOKEN" | jq .claims.sub
  keyroll verify --saml --metadata https://adfs.contoso.com/federationmetadata/2007-06/federationmetadata.xml \
      --audience urn:app --recipient https://app.example.com/acs response.xml
  keyroll verify --issuer https://login.microsoftonline.com/common/v2.0 \
      --issuer-claim 'https://login.microsoftonline.com/{tenantid}/v2.0' --audience $APP_ID "$TOKEN"
`,
		run: runVerify,
	})
}

// maxStdinToken bounds what "keyroll verify -" reads: the largest token
// plus room for surrounding whitespace.
const maxStdinToken = jws.MaxTokenSize + 4<<10

type verifyFlags struct {
	issuer, jwks, metadata, issClaim, algs string
	audiences, signers                     opsStringList
	timeout                                time.Duration
	pin                                    ops.Pin
	saml                                   bool
	recipient, inResponseTo                string
}

func runVerify(ctx context.Context, e *env, args []string) int {
	c := commands["verify"]
	fs := newFlags(c)
	var f verifyFlags
	fs.StringVar(&f.issuer, "issuer", "", "issuer `URL`: keys from its OpenID Connect discovery document")
	fs.StringVar(&f.jwks, "jwks", "", "JWKS `URL`")
	fs.StringVar(&f.metadata, "metadata", "", "federation metadata `URL`")
	fs.Var(&f.signers, "metadata-signer", metadataSignerUsage+" (with --metadata)")
	fs.Var(&f.audiences, "audience", "accepted aud value; repeatable (without it aud is not checked)")
	fs.StringVar(&f.issClaim, "issuer-claim", "", "the iss the token must carry, if not the issuer URL or metadata entityID ({tenantid} allowed)")
	fs.StringVar(&f.algs, "alg", strings.Join(verify.DefaultAlgorithms(), ","), "comma-separated algorithm allow-list")
	durationFlag(fs, &f.timeout, "timeout", verify.DefaultFetchTimeout, "how long fetching the keys may take")
	fs.BoolVar(&f.saml, "saml", false, "verify a SAML 2.0 Response or WS-Federation wresult (XML or base64) instead of a JWT; needs --metadata and --audience")
	fs.StringVar(&f.recipient, "recipient", "", "with --saml: the assertion consumer `URL` the response must be addressed to")
	fs.StringVar(&f.inResponseTo, "in-response-to", "", "with --saml: the AuthnRequest `ID` the response must answer (default: unsolicited only)")
	pos, code := parseFlags(fs, c, e, args)
	if code >= 0 {
		return code
	}
	if err := f.check(pos); err != nil {
		return opsUsageError(e, c, err)
	}
	if f.saml {
		return f.runSAML(ctx, e, c, pos[0])
	}
	tok, err := readToken(e, pos[0])
	if errors.Is(err, errEmptyToken) {
		return opsUsageError(e, c, err)
	} else if err != nil {
		return opsFail(e, c, err)
	}
	v, err := f.verifier(ctx, e)
	if err != nil {
		return opsFail(e, c, err)
	}
	claims, err := v.Verify(ctx, tok)
	if err != nil {
		fmt.Fprintf(e.stderr, "keyroll verify: token rejected: %v\n", err)
		return exitFail
	}
	if err := printVerified(e.stdout, tok, claims, v.Cache().Source().Name()); err != nil {
		return opsFail(e, c, err)
	}
	return exitOK
}

func (f *verifyFlags) check(pos []string) error {
	n := 0
	for _, s := range []string{f.issuer, f.jwks, f.metadata} {
		if s != "" {
			n++
		}
	}
	switch {
	case n != 1:
		return errors.New("give exactly one of --issuer, --jwks and --metadata")
	case len(pos) != 1:
		return errors.New("give exactly one token, or - to read it from standard input")
	case f.timeout <= 0:
		return errors.New("--timeout must be positive")
	case len(f.signers) > 0 && f.metadata == "":
		return errors.New("--metadata-signer pins the signer of federation metadata: use it with --metadata")
	case f.saml && (f.metadata == "" || len(f.audiences) == 0):
		return errors.New("--saml needs --metadata and --audience (this service's entity ID)")
	case !f.saml && (f.recipient != "" || f.inResponseTo != ""):
		return errors.New("--recipient and --in-response-to apply to --saml")
	}
	pin, err := metadataPin(f.signers)
	f.pin = pin
	return err
}

var errEmptyToken = errors.New("the token is empty")

// readToken returns arg, or with "-" the token on standard input, without
// surrounding whitespace or a "Bearer " prefix.
func readToken(e *env, arg string) (string, error) {
	if arg == "-" {
		b, err := io.ReadAll(io.LimitReader(e.stdin, maxStdinToken+1))
		if err != nil {
			return "", fmt.Errorf("read standard input: %w", err)
		}
		if len(b) > maxStdinToken {
			return "", fmt.Errorf("standard input holds more than %d bytes, more than any token", maxStdinToken)
		}
		arg = string(b)
	}
	tok := strings.TrimSpace(arg)
	if scheme, rest, ok := strings.Cut(tok, " "); ok && strings.EqualFold(scheme, "Bearer") {
		tok = strings.TrimSpace(rest)
	}
	if tok == "" {
		return "", errEmptyToken
	}
	return tok, nil
}

// verifier fetches the keys the flags name and builds the verifier,
// warning on stderr about every check it cannot make and every key it skips.
func (f *verifyFlags) verifier(ctx context.Context, e *env) (*verify.Verifier, error) {
	opts := []verify.Option{verify.WithFetchTimeout(f.timeout), verify.WithAlgorithms(splitList(f.algs)...)}
	if len(f.audiences) > 0 {
		opts = append(opts, verify.WithAudience(f.audiences...))
	} else {
		fmt.Fprintln(e.stderr, "keyroll verify: warning: not checking aud (give --audience to check it)")
		opts = append(opts, verify.InsecureSkipAudienceCheck())
	}
	c, err := verify.NewCache(f.source(), opts...)
	if err != nil {
		return nil, err
	}
	if err := c.Refresh(ctx); err != nil {
		return nil, fmt.Errorf("cannot get the keys: %w", err)
	}
	for _, err := range c.KeySet().Skipped() {
		fmt.Fprintf(e.stderr, "keyroll verify: note: skipped %v\n", err)
	}
	iss := f.issClaim
	if iss == "" {
		iss = c.KeySet().Issuer() // the discovery issuer or metadata entityID; "" for a JWKS
	}
	if iss == "" {
		fmt.Fprintln(e.stderr, "keyroll verify: warning: not checking iss (give --issuer-claim to check it)")
		opts = append(opts, verify.InsecureSkipIssuerCheck())
	}
	return verify.NewWithCache(iss, c, opts...)
}

// source is where the flags say the keys are. With --issuer-claim, the
// discovery document must name that issuer (e.g. an Entra ID template).
func (f *verifyFlags) source() verify.Source {
	switch {
	case f.issuer != "" && f.issClaim != "":
		return verify.DiscoveryAt(strings.TrimSuffix(f.issuer, "/")+"/.well-known/openid-configuration", f.issClaim)
	case f.issuer != "":
		return verify.Discovery(f.issuer)
	case f.jwks != "":
		return verify.JWKSURL(f.jwks)
	}
	return verify.FederationMetadataSignedBy(f.metadata, f.pin)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// verifiedToken is what "keyroll verify" prints.
type verifiedToken struct {
	Header json.RawMessage `json:"header"`
	Claims json.RawMessage `json:"claims"`
	Key    string          `json:"key"`    // kid of the key that verified the signature
	Source string          `json:"source"` // where the keys came from
}

func printVerified(w io.Writer, tok string, c *verify.Claims, source string) error {
	t, err := jws.Parse(tok) // verified already; this only recovers the raw header
	if err != nil {
		return err
	}
	return writeJSONOut(w, verifiedToken{Header: t.RawHeader, Claims: json.RawMessage(c.Payload()), Key: c.KeyID, Source: source})
}
