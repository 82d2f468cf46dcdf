package trust

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/keyroll/keyroll/ops"
)

// JSON is the --json form of a Report.
type JSON struct {
	Verdict  string       `json:"verdict"`
	ExitCode int          `json:"exit_code"`
	Reason   string       `json:"reason"`
	Checked  time.Time    `json:"checked_at"`
	Source   string       `json:"source"`
	Signer   *SignerJSON  `json:"signer"`
	Keys     []KeyJSON    `json:"keys"`
	Stale    []AnchorJSON `json:"trusted_not_published"`
	// Skipped are published signing keys keyroll could not read, with why: not checked.
	Skipped []string `json:"skipped_keys"`
}

// SignerJSON is the key estimated to sign now.
type SignerJSON struct {
	KID        string `json:"kid"`
	Thumbprint string `json:"thumbprint,omitempty"`
	Method     string `json:"method"`
	// Estimate is true when the signer is guessed from AD FS's thresholds, not known.
	Estimate bool `json:"estimate"`
}

// KeyJSON is one published key with its verdict.
type KeyJSON struct {
	ops.KeyJSON
	Trusted   bool       `json:"trusted"`
	MatchedBy string     `json:"matched_by,omitempty"`
	Signing   bool       `json:"signing"`
	SignsFrom *time.Time `json:"signs_from"`
	Note      string     `json:"note,omitempty"`
}

// AnchorJSON is a trusted key.
type AnchorJSON struct {
	ID     string `json:"id"`
	Label  string `json:"label,omitempty"`
	Origin string `json:"origin"`
}

// JSON returns r's --json form; p is the published set it was made from.
func (r Report) JSON(p *ops.Published) JSON {
	j := JSON{Verdict: r.Verdict.String(), ExitCode: int(r.Verdict), Reason: r.Reason, Checked: r.Now.UTC(), Source: p.Location, Keys: []KeyJSON{}, Stale: []AnchorJSON{}, Skipped: []string{}}
	if r.Signer.Known() {
		k := p.Keys[r.Signer.Index]
		j.Signer = &SignerJSON{KID: k.KID, Thumbprint: k.Thumbprint, Method: r.Signer.Method, Estimate: r.Signer.Estimate}
	}
	for _, err := range r.Skipped {
		j.Skipped = append(j.Skipped, err.Error())
	}
	for _, kr := range r.Keys {
		kj := KeyJSON{KeyJSON: kr.Key.JSON(p.Location), Trusted: kr.Trusted, MatchedBy: kr.MatchedBy, Signing: kr.Signing, Note: kr.Note}
		if !kr.SignsFrom.IsZero() {
			t := kr.SignsFrom.UTC()
			kj.SignsFrom = &t
		}
		j.Keys = append(j.Keys, kj)
	}
	for _, a := range r.Stale {
		j.Stale = append(j.Stale, AnchorJSON{ID: a.Name(), Label: a.Label, Origin: a.Origin})
	}
	return j
}

// WriteTable prints r for people.
func (r Report) WriteTable(w io.Writer, p *ops.Published) error {
	ops.WriteHeader(w, p)
	if r.Signer.Known() {
		k := p.Keys[r.Signer.Index]
		fmt.Fprintf(w, "Signs now: %s (%s)\n", name(k), r.Signer.Method)
	} else {
		fmt.Fprintf(w, "Signs now: %s\n", r.Signer.Method)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tTHUMBPRINT (SHA-1)\tNOT BEFORE\tNOT AFTER\tTRUSTED\tSIGNS NOW\tMAY SIGN FROM\tNOTE")
	for _, kr := range r.Keys {
		k := kr.Key
		tp := k.Thumbprint
		if tp == "" {
			tp = "jwk:" + k.JWKThumbprint
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.KID, tp, ops.Date(k.NotBefore), ops.Date(k.NotAfter),
			yesNo(kr.Trusted), signsNow(kr, r.Signer), ops.Date(kr.SignsFrom), kr.Note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Stale) > 0 {
		fmt.Fprintln(w, "\nTrusted but no longer published (safe to remove once no token signed by them is in flight):")
		for _, a := range r.Stale {
			fmt.Fprintf(w, "  %s  %s  (%s)\n", a.Name(), a.Label, a.Origin)
		}
	}
	_, err := fmt.Fprintf(w, "\nVerdict: %s: %s\n", r.Verdict, r.Reason)
	return err
}

// signsNow fills the SIGNS NOW column: "estimate" for a guessed signer.
func signsNow(kr KeyResult, g ops.SignerGuess) string {
	if kr.Signing && g.Estimate {
		return "estimate"
	}
	return yesNo(kr.Signing)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
