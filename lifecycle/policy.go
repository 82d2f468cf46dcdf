package lifecycle

import (
	"fmt"
	"time"
)

// Day is 24 hours; AD FS states its thresholds in days.
const Day = 24 * time.Hour

// Policy is the rollover policy, named after AD FS's Set-AdfsProperties
// parameters (as AD FS documents them), plus what keyroll needs to know to retire a key
// safely.
type Policy struct {
	// AutoRollover generates and promotes keys by the thresholds below
	// (AD FS AutoCertificateRollover). When false, only housekeeping runs:
	// keys past their end are unpublished and an empty store gets a first key.
	AutoRollover bool
	// CertificateDuration is how long a new certificate is valid (365 d).
	CertificateDuration time.Duration
	// GenerationThreshold is how long before the primary expires a next key
	// is generated (20 d).
	GenerationThreshold time.Duration
	// PromotionThreshold is how long after its generation a next key becomes
	// the primary (5 d): the time relying parties have to pick it up.
	PromotionThreshold time.Duration
	// CriticalThreshold is how long before the primary expires a key is
	// generated and promoted at once, published or not (2 d).
	CriticalThreshold time.Duration
	// RolloverInterval is how often the rollover check runs (720 min). The
	// check also runs whenever an action falls due.
	RolloverInterval time.Duration
	// MaxTokenLifetime is the longest lifetime of a token the issuer signs.
	MaxTokenLifetime time.Duration
	// RefreshInterval is how long relying parties may keep a key set before
	// they fetch it again (24 h, Microsoft's guidance).
	RefreshInterval time.Duration
	// ClockSkew is the clock difference relying parties tolerate.
	ClockSkew time.Duration
}

// DefaultPolicy returns AD FS's defaults: automatic rollover, 365-day
// certificates generated 20 days before expiry, promoted 5 days later, a
// 2-day critical threshold, a check every 720 minutes; one-hour tokens, a
// 24-hour relying-party refresh and 5 minutes of clock skew.
func DefaultPolicy() Policy {
	return Policy{
		AutoRollover:        true,
		CertificateDuration: 365 * Day,
		GenerationThreshold: 20 * Day,
		PromotionThreshold:  5 * Day,
		CriticalThreshold:   2 * Day,
		RolloverInterval:    720 * time.Minute,
		MaxTokenLifetime:    time.Hour,
		RefreshInterval:     24 * time.Hour,
		ClockSkew:           5 * time.Minute,
	}
}

// RetentionWindow is how long a retired key stays published: a token signed
// just before retirement lives MaxTokenLifetime, a relying party may hold the
// old key set for RefreshInterval, and clocks disagree by ClockSkew.
func (p Policy) RetentionWindow() time.Duration {
	return p.MaxTokenLifetime + p.RefreshInterval + p.ClockSkew
}

// UnpublishAt is when a retired key leaves the published set: the end of its
// retention window, never later than its certificate's NotAfter.
func (p Policy) UnpublishAt(k Key) time.Time {
	t := k.RetiredAt.Add(p.RetentionWindow())
	if k.NotAfter.Before(t) {
		return k.NotAfter
	}
	return t
}

// Validate reports the first contradiction in p, in words an operator can act on.
func (p Policy) Validate() error {
	positive := []struct {
		name string
		d    time.Duration
	}{
		{"CertificateDuration", p.CertificateDuration},
		{"CertificateGenerationThreshold", p.GenerationThreshold},
		{"CertificatePromotionThreshold", p.PromotionThreshold},
		{"CertificateCriticalThreshold", p.CriticalThreshold},
		{"CertificateRolloverInterval", p.RolloverInterval},
		{"MaxTokenLifetime", p.MaxTokenLifetime},
	}
	for _, f := range positive {
		if f.d <= 0 {
			return fmt.Errorf("policy: %s must be positive, got %s", f.name, fmtDur(f.d))
		}
	}
	if p.RefreshInterval < 0 || p.ClockSkew < 0 {
		return fmt.Errorf("policy: RefreshInterval and ClockSkew must not be negative")
	}
	if p.GenerationThreshold >= p.CertificateDuration {
		return fmt.Errorf("policy: CertificateGenerationThreshold (%s) must be shorter than CertificateDuration (%s): a new certificate would be due the moment it is made",
			fmtDur(p.GenerationThreshold), fmtDur(p.CertificateDuration))
	}
	if p.PromotionThreshold+p.CriticalThreshold >= p.GenerationThreshold {
		return fmt.Errorf("policy: promotion comes %s after generation, which is %s before expiry, so it would fall inside the %s critical threshold (or after expiry); shorten CertificatePromotionThreshold or lengthen CertificateGenerationThreshold",
			fmtDur(p.PromotionThreshold), fmtDur(p.GenerationThreshold), fmtDur(p.CriticalThreshold))
	}
	if w, left := p.RetentionWindow(), p.GenerationThreshold-p.PromotionThreshold; w > left {
		return fmt.Errorf("policy: a retired key must stay published %s (token lifetime + refresh interval + clock skew) but its certificate expires %s after promotion",
			fmtDur(w), fmtDur(left))
	}
	if p.RolloverInterval > p.CertificateDuration {
		return fmt.Errorf("policy: CertificateRolloverInterval (%s) is longer than CertificateDuration (%s)", fmtDur(p.RolloverInterval), fmtDur(p.CertificateDuration))
	}
	return nil
}

func fmtDur(d time.Duration) string {
	if d != 0 && d%Day == 0 {
		return fmt.Sprintf("%dd", d/Day)
	}
	return d.String()
}
