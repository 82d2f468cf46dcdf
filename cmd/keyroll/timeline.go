package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/ops"
	"github.com/keyroll/keyroll/ops/timeline"
)

func init() {
	register(&command{
		name:    "timeline",
		summary: "the dates a provider's certificate rollover will follow (AD FS thresholds)",
		usage: `Usage: keyroll timeline SOURCE | --tenant NAME | --adfs HOST | --cert FILE [flags]

From the certificate a provider signs with now (or from --cert FILE, PEM, DER
or .cer) and AD FS's rollover thresholds, prints the dates that matter: the
30-day expiry alert, when the next certificate is generated and promoted to
primary (relying parties must trust it by then), the critical threshold, and
expiry. Every threshold is a flag; the defaults are AD FS's.

With the defaults a certificate expiring 2014-07-25 gets its successor
generated on 2014-07-05 and promoted on 2014-07-10.

The signing certificate is the one that signed the metadata, or the newest
one published at least the promotion threshold ago (--signer names it).

` + metadataTrustHelp + `
Examples:
  keyroll timeline --adfs adfs.contoso.com
  keyroll timeline --cert token-signing.cer
  keyroll timeline --cert old.pem --generation-threshold 30d --promotion-threshold 10d
  keyroll timeline FederationMetadata.xml --at 2014-07-01 --json
  keyroll timeline --adfs adfs.contoso.com --metadata-signer 3A38FA984E8560F19AADC9F86FE9594BB6AD049B
`,
		run: runTimeline,
	})
}

// timelineJSON is the --json output of "keyroll timeline".
type timelineJSON struct {
	Source    string              `json:"source"`
	Signer    string              `json:"signer_method,omitempty"`
	At        time.Time           `json:"at"`
	Policy    map[string]float64  `json:"policy_days"`
	Timelines []timeline.Timeline `json:"timelines"`
}

func runTimeline(ctx context.Context, e *env, args []string) int {
	c := commands["timeline"]
	fs := newFlags(c)
	var sf opsSourceFlags
	sf.define(fs)
	var pf opsPolicyFlags
	pf.define(fs)
	cert := fs.String("cert", "", "certificate `FILE` (PEM, DER or .cer) instead of a provider")
	signer := fs.String("signer", "", "kid or thumbprint of the key that signs now, instead of the estimate")
	width := fs.Int("width", 60, "width of the chart in columns")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, code := parseFlags(fs, c, e, args)
	if code >= 0 {
		return code
	}
	at, err := pf.at()
	if err != nil {
		return opsUsageError(e, c, err)
	}
	out := timelineJSON{At: at, Policy: pf.days()}
	if *cert != "" {
		if len(pos) > 0 || len(sf.tenant)+len(sf.adfs) > 0 {
			return opsUsageError(e, c, fmt.Errorf("give either --cert or a provider, not both"))
		}
		out.Source = *cert
		out.Timelines, err = certTimelines(*cert, pf.options())
	} else {
		out.Timelines, out.Source, out.Signer, err = providerTimeline(ctx, &sf, pos, pf.options(), at, *signer)
	}
	if err != nil {
		return opsFail(e, c, err)
	}
	if *asJSON {
		writeJSONOut(e.stdout, out)
		return exitOK
	}
	printTimelines(e, out, at, *width)
	return exitOK
}

func certTimelines(file string, opt timeline.Options) ([]timeline.Timeline, error) {
	data, err := ops.ReadFile(file)
	if err != nil {
		return nil, err
	}
	certs, err := ops.ReadCertificates(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var out []timeline.Timeline
	for _, c := range certs {
		out = append(out, timeline.Compute(timeline.CertOf(c), opt))
	}
	return out, nil
}

func providerTimeline(ctx context.Context, sf *opsSourceFlags, pos []string, opt timeline.Options, at time.Time, signer string) ([]timeline.Timeline, string, string, error) {
	src, rest, err := sf.one(pos)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("unexpected argument %q", rest[0])
	}
	if err != nil {
		return nil, "", "", err
	}
	p, err := sf.load(ctx, src)
	if err != nil {
		return nil, "", "", err
	}
	tl, method, err := timeline.ForProvider(p, opt, at, signer)
	if err != nil {
		return nil, p.Location, method, err
	}
	return []timeline.Timeline{tl}, p.Location, method, nil
}

func printTimelines(e *env, out timelineJSON, at time.Time, width int) {
	fmt.Fprintf(e.stdout, "Source:      %s\n", out.Source)
	if out.Signer != "" {
		fmt.Fprintf(e.stdout, "Signing now: %s\n", out.Signer)
	}
	var pol []string
	for _, n := range []string{"generation", "promotion", "critical", "duration", "alert"} {
		pol = append(pol, fmt.Sprintf("%s %gd", n, out.Policy[n]))
	}
	fmt.Fprintf(e.stdout, "Policy:      %s\n", strings.Join(pol, ", "))
	for _, tl := range out.Timelines {
		fmt.Fprintln(e.stdout)
		timeline.WriteTable(e.stdout, tl, at)
		fmt.Fprintln(e.stdout)
		timeline.WriteChart(e.stdout, tl, at, width)
	}
}

// opsPolicyFlags are AD FS's rollover thresholds, the alert period and the
// date to evaluate at.
type opsPolicyFlags struct {
	policy    lifecycle.Policy
	alertDays int
	atFlag    string
}

func (f *opsPolicyFlags) define(fs *flag.FlagSet) {
	p := lifecycle.DefaultPolicy()
	durationFlag(fs, &f.policy.GenerationThreshold, "generation-threshold", p.GenerationThreshold, "next certificate generated this long before the primary expires (CertificateGenerationThreshold)")
	durationFlag(fs, &f.policy.PromotionThreshold, "promotion-threshold", p.PromotionThreshold, "next certificate promoted this long after generation (CertificatePromotionThreshold)")
	durationFlag(fs, &f.policy.CriticalThreshold, "critical-threshold", p.CriticalThreshold, "generated and promoted at once this long before expiry (CertificateCriticalThreshold)")
	durationFlag(fs, &f.policy.CertificateDuration, "certificate-duration", p.CertificateDuration, "validity of a new certificate (CertificateDuration)")
	fs.IntVar(&f.alertDays, "alert-days", timeline.DefaultAlertDays, "expiry alert this many days before expiry")
	fs.StringVar(&f.atFlag, "at", "", "evaluate as of `DATE` (YYYY-MM-DD or RFC 3339) instead of now")
}

func (f *opsPolicyFlags) options() timeline.Options {
	return timeline.Options{Policy: f.policy, AlertDays: f.alertDays}
}

// days returns the thresholds in days, for JSON.
func (f *opsPolicyFlags) days() map[string]float64 {
	d := func(x time.Duration) float64 { return float64(x) / float64(lifecycle.Day) }
	return map[string]float64{"generation": d(f.policy.GenerationThreshold), "promotion": d(f.policy.PromotionThreshold),
		"critical": d(f.policy.CriticalThreshold), "duration": d(f.policy.CertificateDuration), "alert": float64(f.alertDays)}
}

// at checks the thresholds and returns --at, or now.
func (f *opsPolicyFlags) at() (time.Time, error) {
	p := f.policy
	if p.GenerationThreshold <= 0 || p.PromotionThreshold <= 0 || p.CriticalThreshold <= 0 || p.CertificateDuration <= 0 || f.alertDays <= 0 {
		return time.Time{}, fmt.Errorf("thresholds, --certificate-duration and --alert-days must be positive")
	}
	if f.atFlag == "" {
		return time.Now().UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, f.atFlag); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, f.atFlag)
	if err != nil {
		return time.Time{}, fmt.Errorf("--at %q: use YYYY-MM-DD or RFC 3339", f.atFlag)
	}
	return t.UTC(), nil
}
