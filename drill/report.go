package drill

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/keyroll/keyroll/adminapi"
)

// Outcome is what one test found.
type Outcome string

// The outcomes of a test.
const (
	Accepted  Outcome = "accepted"  // the application took the token or sign-in
	Rejected  Outcome = "rejected"  // it refused it
	Undecided Outcome = "undecided" // the drill could not tell
)

// Verdict is the drill's conclusion.
type Verdict string

// The verdicts and their exit codes.
const (
	Ready        Verdict = "ready"        // every test accepted: 0
	NotReady     Verdict = "not ready"    // some test rejected: 1
	Inconclusive Verdict = "inconclusive" // none rejected, some undecided: 2
	Interrupted  Verdict = "interrupted"  // the context was cancelled: 2
	Failed       Verdict = "failed"       // the drill could not run: 2
)

// Result is one key tested.
type Result struct {
	KID        string `json:"kid,omitempty"`
	Thumbprint string `json:"thumbprint,omitempty"`
	Alg        string `json:"alg,omitempty"`
	// State is the key's state when tested: next, primary, retired, or
	// fresh for the transient key the drill published.
	State       string     `json:"state"`
	PromoteAt   *time.Time `json:"promote_at,omitempty"`   // next keys: when it becomes primary
	RetiredAt   *time.Time `json:"retired_at,omitempty"`   // retired keys
	UnpublishAt *time.Time `json:"unpublish_at,omitempty"` // retired keys: end of publication
	Outcome     Outcome    `json:"result"`
	Accepted    *bool      `json:"accepted"` // null when undecided
	Evidence    Evidence   `json:"evidence"`
	// Earlier is the evidence of earlier attempts: a rejection the
	// application's refresh throttle may explain (a fresh key, a key
	// published recently, a test soon after another drill) is tested
	// again after the throttle window; Retried says why.
	Earlier []Evidence `json:"earlier_attempts,omitempty"`
	Retried string     `json:"retried,omitempty"`
}

func newResult(k adminapi.KeyInfo, role string) Result {
	return Result{KID: k.KID, Thumbprint: k.Thumbprint, Alg: k.Alg, State: role,
		PromoteAt: k.PromoteAt, RetiredAt: k.RetiredAt, UnpublishAt: k.UnpublishAt}
}

func (r *Result) record(o Outcome, ev Evidence) {
	r.Outcome, r.Evidence = o, ev
	if o != Undecided {
		ok := o == Accepted
		r.Accepted = &ok
	}
}

// Line says the outcome in a few words: "accepted (200)".
func (r Result) Line() string {
	if r.Evidence.Status != 0 {
		return fmt.Sprintf("%s (%d)", r.Outcome, r.Evidence.Status)
	}
	return fmt.Sprintf("%s: %s", r.Outcome, r.Evidence.Summary())
}

// Report is everything a drill did and found. Times are UTC.
type Report struct {
	App      string `json:"app"`
	ClientID string `json:"client_id,omitempty"`
	Mode     string `json:"mode"` // api or web
	// Protocol is how the application signs users in: oidc, saml or wsfed
	// (empty when the drill could not read the application).
	Protocol string `json:"protocol,omitempty"`
	Target   string `json:"target"` // the URL tested
	// Actor is who ran the drill as the audit log names them
	// ([Config.Actor]); empty when not said.
	Actor string `json:"actor,omitempty"`
	// PreviousOverride is the application's override before the drill (a
	// thumbprint; empty: none), which the cleanup puts back.
	PreviousOverride string    `json:"previous_override"`
	Started          time.Time `json:"started"`
	Finished         time.Time `json:"finished"`
	// Controls are the requests the API must refuse (API mode) for its
	// acceptance of a key to mean anything.
	Controls []Control `json:"controls,omitempty"`
	Results  []Result  `json:"results"`
	Verdict  Verdict   `json:"verdict"`
	// Reason explains the verdict in one line; Reasons holds its parts,
	// most urgent first.
	Reason  string   `json:"reason"`
	Reasons []string `json:"reasons,omitempty"`
	Cleanup Cleanup  `json:"cleanup"`
	// HistoryID is the drill's id in the issuer's drill history (0: not
	// recorded; HistoryError says why when recording failed).
	HistoryID    int64  `json:"history_id,omitempty"`
	HistoryError string `json:"history_error,omitempty"`
}

// Cleanup is what the drill put back, and what it could not.
type Cleanup struct {
	Done []string   `json:"done"`
	Left []Leftover `json:"left,omitempty"`
}

// Leftover is a change the cleanup could not undo.
type Leftover struct {
	What string `json:"what"` // what is left, e.g. the application still pinned
	Fix  string `json:"fix"`  // the keyroll command that undoes it (add --server)
	Err  string `json:"error"`
}

// ExitCode is 0 for ready, 1 for not ready, and 2 when the drill could not
// decide or left something behind.
func (r *Report) ExitCode() int {
	switch {
	case len(r.Cleanup.Left) > 0:
		return 2
	case r.Verdict == Ready:
		return 0
	case r.Verdict == NotReady:
		return 1
	}
	return 2
}

// decide sets the verdict from the results and the error that stopped
// the drill, if any.
func (r *Report) decide(ctx context.Context, stop error) {
	rejected, undecided := r.findings()
	control := r.controlReason()
	if control != "" && len(rejected) > 0 {
		undecided = append(undecided, control)
	}
	switch {
	case ctx.Err() != nil || errors.Is(stop, context.Canceled) || errors.Is(stop, context.DeadlineExceeded):
		r.Verdict = Interrupted
		r.Reasons = append([]string{"the drill was interrupted before it finished"}, rejected...)
	case stop != nil:
		r.Verdict, r.Reasons = Failed, []string{"the drill could not run: " + stop.Error()}
	case len(rejected) > 0:
		r.Verdict, r.Reasons = NotReady, append(rejected, undecided...)
	case control != "":
		r.Verdict, r.Reasons = Inconclusive, append([]string{control}, undecided...)
	case len(undecided) > 0:
		r.Verdict, r.Reasons = Inconclusive, undecided
	default:
		r.Verdict, r.Reasons = Ready, []string{r.readyReason()}
	}
	r.Reason = strings.Join(r.Reasons, "; and ")
}

// findings lists the rejections, most urgent first, and the undecided tests.
func (r *Report) findings() (rejected, undecided []string) {
	for _, state := range []string{"primary", "next", "retired", "fresh"} {
		for _, res := range r.Results {
			switch {
			case res.State != state:
			case res.Outcome == Rejected:
				rejected = append(rejected, r.rejectReason(res))
			case res.Outcome == Undecided:
				undecided = append(undecided, fmt.Sprintf("could not test the %s key %s: %s", state, Abbrev(res.Thumbprint), res.Evidence.Summary()))
			}
		}
	}
	return rejected, undecided
}

// consequence is what the application's users see when a key it rejects signs.
func (r *Report) consequence() string {
	if r.Mode == "web" {
		return "sign-in will fail"
	}
	return "its tokens will be refused"
}

func (r *Report) rejectReason(res Result) string {
	tp := Abbrev(res.Thumbprint)
	switch res.State {
	case "primary":
		if r.Mode == "web" {
			return fmt.Sprintf("rejects the primary key %s, which signs every token now; sign-in fails now", tp)
		}
		return fmt.Sprintf("rejects the primary key %s, which signs every token now; its tokens are refused now", tp)
	case "next":
		if res.PromoteAt == nil {
			return fmt.Sprintf("rejects the next key %s, which becomes primary when an operator promotes it; %s from then", tp, r.consequence())
		}
		return fmt.Sprintf("rejects the next key %s, which becomes primary on %s; %s from then", tp, day(*res.PromoteAt), r.consequence())
	case "retired":
		until := "until it is unpublished"
		if res.UnpublishAt != nil {
			until = "until it is unpublished on " + day(*res.UnpublishAt)
		}
		since := ""
		if res.RetiredAt != nil {
			since = " on " + day(*res.RetiredAt)
		}
		return fmt.Sprintf("rejects the retired key %s: tokens signed before its retirement%s fail %s", tp, since, until)
	}
	if r.Mode == "web" {
		return "does not refresh on an unknown key: an emergency rollover would break sign-in at once"
	}
	return "does not refresh on an unknown key: an emergency rollover would make it refuse every token at once"
}

func (r *Report) readyReason() string {
	var states []string
	fresh := false
	for _, res := range r.Results {
		if res.State == "fresh" {
			fresh = true
		} else if !slices.Contains(states, res.State) {
			states = append(states, res.State)
		}
	}
	s := fmt.Sprintf("accepts every published key (%s)", strings.Join(states, ", "))
	if fresh {
		s += " and a fresh key published during the drill"
	}
	if !slices.Contains(states, "next") {
		s += "; no next key was published, so the next rollover was not tested"
	}
	return s
}

// day formats a date for reasons.
func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }
