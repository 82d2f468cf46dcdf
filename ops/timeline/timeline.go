// Package timeline works out, from a token-signing certificate and an AD FS
// rollover policy, the dates that matter to the relying parties of its
// provider: when the next certificate is generated and promoted to primary,
// when the 30-day expiry alert starts, when the critical threshold forces a
// rollover, and when the certificate expires.
//
// With AD FS's documented defaults a certificate expiring 2014-07-25 gets its
// successor generated on 2014-07-05 (20 days before) and promoted on
// 2014-07-10 (5 days after that); relying parties that have not picked up
// the new certificate by then stop accepting tokens.
package timeline

import (
	"sort"
	"strconv"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
)

// DefaultAlertDays is when Microsoft's portal starts warning that a
// token-signing certificate expires: 30 days before.
const DefaultAlertDays = 30

// Milestone names.
const (
	Alert      = "expiry alert"
	Generated  = "next generated"
	Promoted   = "next promoted"
	Critical   = "critical threshold"
	Expires    = "expires"
	NextExpiry = "next expires"
)

// Milestone is one date on a certificate's timeline.
type Milestone struct {
	Name string    `json:"name"`
	Date time.Time `json:"date"`
	Note string    `json:"note"`
}

// Cert is the certificate a timeline is about.
type Cert struct {
	Subject    string    `json:"subject"`
	Thumbprint string    `json:"thumbprint"`
	NotBefore  time.Time `json:"not_before"`
	NotAfter   time.Time `json:"not_after"`
}

// Timeline is a certificate's milestones, in date order.
type Timeline struct {
	Cert       Cert        `json:"certificate"`
	Milestones []Milestone `json:"milestones"`
}

// Options are the policy and alert period a timeline is computed with.
type Options struct {
	Policy    lifecycle.Policy
	AlertDays int
	// NextPublished is the NotBefore of a successor certificate already
	// published, if any: the next-generated date is then observed, not
	// planned, and promotion follows it by the promotion threshold.
	NextPublished time.Time
}

// Compute returns the timeline of c under opt.
func Compute(c Cert, opt Options) Timeline {
	p := opt.Policy
	alert := opt.AlertDays
	if alert <= 0 {
		alert = DefaultAlertDays
	}
	gen := c.NotAfter.Add(-p.GenerationThreshold)
	genNote := "the primary expires in " + days(p.GenerationThreshold) + " (CertificateGenerationThreshold)"
	if !opt.NextPublished.IsZero() {
		gen, genNote = opt.NextPublished, "observed: a newer certificate is already published"
	}
	promo := gen.Add(p.PromotionThreshold)
	promoNote := days(p.PromotionThreshold) + " after generation (CertificatePromotionThreshold); relying parties must trust the new certificate by then"
	if crit := c.NotAfter.Add(-p.CriticalThreshold); promo.After(crit) {
		promo, promoNote = crit, "at the critical threshold, ahead of the promotion threshold"
	}
	ms := []Milestone{
		{Alert, c.NotAfter.Add(-time.Duration(alert) * lifecycle.Day), "the certificate expires within " + days(time.Duration(alert)*lifecycle.Day) + " (the portal alert)"},
		{Generated, gen, genNote},
		{Promoted, promo, promoNote},
		{Critical, c.NotAfter.Add(-p.CriticalThreshold), days(p.CriticalThreshold) + " before expiry: generated and promoted at once (CertificateCriticalThreshold)"},
		{Expires, c.NotAfter, "tokens signed by it are no longer valid"},
		{NextExpiry, gen.Add(p.CertificateDuration), "the next certificate lasts " + days(p.CertificateDuration) + " (CertificateDuration)"},
	}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].Date.Before(ms[j].Date) })
	return Timeline{Cert: c, Milestones: ms}
}

// Get returns the milestone named name.
func (t Timeline) Get(name string) (Milestone, bool) {
	for _, m := range t.Milestones {
		if m.Name == name {
			return m, true
		}
	}
	return Milestone{}, false
}

func days(d time.Duration) string {
	if d%lifecycle.Day != 0 {
		return d.String()
	}
	if n := int(d / lifecycle.Day); n != 1 {
		return strconv.Itoa(n) + " days"
	}
	return "1 day"
}
