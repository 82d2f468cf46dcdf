package trust

import (
	"fmt"
	"strings"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/ops"
)

// Verdict is the outcome of a check; its value is the exit code of
// "keyroll trust check".
type Verdict int

// The verdicts.
const (
	OK      Verdict = 0 // every published key is trusted
	AtRisk  Verdict = 1 // a published key is not trusted (or not checked), but not one known to sign now
	Broken  Verdict = 2 // the key known to sign now is not trusted, or nothing trusted is published
	Unknown Verdict = 3 // the check could not be made
)

// String names the verdict as printed.
func (v Verdict) String() string {
	switch v {
	case OK:
		return "OK"
	case AtRisk:
		return "AT RISK"
	case Broken:
		return "BROKEN"
	}
	return "COULD NOT CHECK"
}

// KeyResult is the verdict on one published key.
type KeyResult struct {
	Key       ops.Key
	Trusted   bool
	MatchedBy string // origin of the anchor that trusts it
	Signing   bool   // the key estimated to sign now
	// SignsFrom is, for a key that is not trusted, the first day it may
	// sign; zero when it is not expected to (or cannot be known).
	SignsFrom time.Time
	// Retired: older than the signing key; it signs again only on a rollback.
	Retired bool
	// Expired: its certificate has expired; it will not sign.
	Expired bool
	Note    string
}

// Report is the outcome of Check.
type Report struct {
	Verdict Verdict
	Reason  string
	Signer  ops.SignerGuess
	Keys    []KeyResult
	// Stale are trusted keys the provider no longer publishes.
	Stale []Anchor
	// Skipped are published signing keys the parser left out (weak, alg
	// mismatch, kid shared by different keys, ...), with why: they were not
	// checked, so the verdict is at least AtRisk.
	Skipped []error
	Now     time.Time
}

// Options tune Check.
type Options struct {
	Policy lifecycle.Policy // thresholds for the signer estimate and the dates
	Now    time.Time
	// Signer names the key that signs now (kid or thumbprint), overriding
	// the estimate; see ops.Published.Signer.
	Signer string
}

// Check compares the published keys with the anchors:
//
//   - COULD NOT CHECK (Unknown) when opt.Signer names no published key;
//   - BROKEN when no published key is trusted, or when the key known to
//     sign now (named by opt.Signer, or the verified signer of the
//     metadata) is not trusted;
//   - AT RISK when the key only estimated to sign now (AD FS thresholds)
//     is not trusted, when another published, unexpired key is not
//     trusted (it may sign from the date given in its KeyResult), or when
//     a published signing key was skipped by the parser (not checked);
//   - OK otherwise.
func Check(p *ops.Published, anchors []Anchor, opt Options) Report {
	r := Report{Now: opt.Now, Signer: p.Signer(opt.Policy, opt.Now, opt.Signer)}
	for i, k := range p.Keys {
		kr := KeyResult{Key: k, Signing: i == r.Signer.Index}
		for _, a := range anchors {
			if a.Matches(k) {
				kr.Trusted, kr.MatchedBy = true, a.Origin
				break
			}
		}
		r.Keys = append(r.Keys, kr)
	}
	for i := range r.Keys {
		if !r.Keys[i].Trusted {
			explain(&r.Keys[i], &r, p, opt)
		}
	}
	r.Stale = stale(p, anchors)
	r.Skipped = p.SkippedSigning()
	r.Verdict, r.Reason = verdict(&r, p, opt)
	return r
}

func stale(p *ops.Published, anchors []Anchor) []Anchor {
	var out []Anchor
	for _, a := range anchors {
		found := false
		for _, k := range p.Keys {
			found = found || a.Matches(k)
		}
		if !found {
			out = append(out, a)
		}
	}
	return out
}

func verdict(r *Report, p *ops.Published, opt Options) (Verdict, string) {
	if err := p.CheckHint(opt.Signer); err != nil {
		return Unknown, err.Error()
	}
	v, reason := keysVerdict(r, p)
	if len(r.Skipped) == 0 {
		return v, reason
	}
	note := skippedNote(r.Skipped)
	if v == OK {
		return AtRisk, note
	}
	return v, reason + "; also, " + note
}

func keysVerdict(r *Report, p *ops.Published) (Verdict, string) {
	trusted, risky := 0, 0
	var first *KeyResult
	for i := range r.Keys {
		kr := &r.Keys[i]
		if kr.Trusted {
			trusted++
			continue
		}
		if kr.Expired {
			continue
		}
		risky++
		if first == nil || sooner(kr, first) {
			first = kr
		}
	}
	validNow, trustedValid := 0, 0
	for _, kr := range r.Keys {
		if !kr.Key.ExpiredAt(r.Now) {
			validNow++
			if kr.Trusted {
				trustedValid++
			}
		}
	}
	switch {
	case len(p.Keys) == 0:
		return Broken, "the provider publishes no signing key keyroll can read"
	case validNow == 0:
		return Broken, fmt.Sprintf("every one of the %d published signing certificates has expired: no token signed now can be validated by a relying party that checks certificate dates", len(p.Keys))
	case trusted > 0 && trustedValid == 0:
		return Broken, fmt.Sprintf("every trusted key's certificate has expired (%d trusted); the keys valid now are not trusted", trusted)
	case trusted == 0:
		return Broken, fmt.Sprintf("none of the %d published keys is trusted: no token can be validated", len(p.Keys))
	case r.Signer.Certain() && !r.Keys[r.Signer.Index].Trusted:
		k := r.Keys[r.Signer.Index].Key
		return Broken, fmt.Sprintf("the key that signs now (%s; %s) is not trusted", name(k), r.Signer.Method)
	case r.Signer.Known() && !r.Keys[r.Signer.Index].Trusted:
		k := r.Keys[r.Signer.Index].Key
		return AtRisk, fmt.Sprintf("the key estimated to sign now (%s; %s) is not trusted: this is only an estimate, "+
			"but if that key does sign now, sign-in is broken; name the signer with --signer KID (from a recent token's header) to know", name(k), r.Signer.Method)
	case risky > 0:
		return AtRisk, fmt.Sprintf("%d published key(s) not trusted; %s %s", risky, name(first.Key), when(first))
	}
	return OK, fmt.Sprintf("every published key that may sign is trusted (%d of %d published keys)", trusted, len(p.Keys))
}

// skippedNote names the published signing keys keyroll could not read.
func skippedNote(skipped []error) string {
	msgs := make([]string, len(skipped))
	for i, err := range skipped {
		msgs[i] = err.Error()
	}
	return fmt.Sprintf("%d published signing key(s) were skipped and not checked (the provider may sign with them; keyroll cannot tell whether they are trusted): %s",
		len(skipped), strings.Join(msgs, "; "))
}

// sooner orders the keys that are not trusted by how soon they may sign:
// dated keys first by date, then keys without dates, retired keys last.
func sooner(a, b *KeyResult) bool {
	if a.Retired != b.Retired {
		return !a.Retired
	}
	if a.SignsFrom.IsZero() != b.SignsFrom.IsZero() {
		return !a.SignsFrom.IsZero()
	}
	return a.SignsFrom.Before(b.SignsFrom)
}

func when(kr *KeyResult) string {
	switch {
	case kr.Retired:
		return "is retired but still published (it signs again only if the provider rolls back)"
	case kr.SignsFrom.IsZero():
		return "may sign at any time"
	}
	return "may sign from " + ops.Date(kr.SignsFrom)
}

const noDates = "no certificate dates: it may sign at any time"

// explain fills SignsFrom and Note for a key that is not trusted.
func explain(kr *KeyResult, r *Report, p *ops.Published, opt Options) {
	k, now, pol := kr.Key, opt.Now, opt.Policy
	switch {
	case kr.Signing && r.Signer.Estimate:
		kr.SignsFrom, kr.Note = now, "estimated to sign now (AD FS thresholds; not known)"
	case kr.Signing:
		kr.SignsFrom, kr.Note = now, "signs now"
	case !k.HasCert():
		kr.Note = noDates
	case k.ExpiredAt(now):
		kr.Expired, kr.Note = true, "expired "+ops.Date(k.NotAfter)+": will not sign"
	case !r.Signer.Known() || !p.Keys[r.Signer.Index].HasCert():
		kr.SignsFrom = later(now, k.NotBefore.Add(pol.PromotionThreshold))
		kr.Note = "estimate: published " + ops.Date(k.NotBefore) + " + promotion threshold"
	case k.NotBefore.After(p.Keys[r.Signer.Index].NotBefore):
		s := p.Keys[r.Signer.Index]
		from := k.NotBefore.Add(pol.PromotionThreshold)
		if crit := s.NotAfter.Add(-pol.CriticalThreshold); crit.Before(from) {
			from = crit
		}
		kr.SignsFrom = later(now, from)
		kr.Note = "newer than the signing key: promoted when it has been published for the promotion threshold, at the latest at the signing key's critical threshold"
	default:
		kr.Retired, kr.Note = true, "older than the signing key (retired): signs again only if the provider rolls back"
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func name(k ops.Key) string {
	if k.Thumbprint != "" {
		return "kid " + k.KID + " (" + k.Thumbprint + ")"
	}
	return "kid " + k.KID
}
