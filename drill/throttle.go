package drill

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/keyroll/keyroll/adminapi"
)

// History reads the issuer's drill history; *adminapi.Client implements
// it. When [Config.Admin] implements it, a drill that starts within
// [Config.RefreshWait] of the end of another drill of the same
// application treats its rejections as the refresh throttle's possible
// doing: that drill's calls (its fresh key, its unpublished-key control)
// may have spent the application's unknown-key refresh window.
type History interface {
	Drills(ctx context.Context, app string, limit int) ([]adminapi.DrillRecordInfo, error)
}

var _ History = (*adminapi.Client)(nil)

// retry is a rejection the application's unknown-key refresh throttle may
// explain: the key is tested again after [Config.RefreshWait].
type retry struct {
	index int // in Report.Results
	key   adminapi.KeyInfo
	why   string
}

// readLastDrill notes when the application's latest recorded drill ended.
func (r *run) readLastDrill(ctx context.Context, clientID string) {
	h, ok := r.cfg.Admin.(History)
	if !ok {
		return
	}
	ds, err := h.Drills(ctx, clientID, 1)
	if err != nil {
		r.say("drill: note: the drill history cannot be read (%v): rejections after a recent drill are not retried\n", err)
		return
	}
	if len(ds) > 0 {
		r.spentAt = ds[0].Finished
	}
}

// throttleMayExplain says why a rejection of k (in role, tested at at)
// may be the refresh throttle's doing rather than the application's
// failing, or "": a correct application throttles fetches for unknown
// keys, so a key it has not fetched yet is refused until its window ends.
// That is so of a fresh key, of a key published more recently than the
// window ([Config.RefreshWait] stands for it), and of any key tested
// within the window after an earlier drill that may have spent it.
func (r *run) throttleMayExplain(k adminapi.KeyInfo, role string, at time.Time) string {
	wait := r.cfg.RefreshWait
	switch {
	case role == "fresh":
		return "a key published moments ago"
	case !k.CreatedAt.IsZero() && at.Sub(k.CreatedAt) < wait:
		return fmt.Sprintf("published %s before the test", roundAge(at.Sub(k.CreatedAt)))
	case !r.spentAt.IsZero() && at.Sub(r.spentAt) < wait:
		return fmt.Sprintf("tested %s after an earlier drill, whose calls may have spent the application's refresh window", roundAge(at.Sub(r.spentAt)))
	}
	return ""
}

func roundAge(d time.Duration) time.Duration {
	return max(d, 0).Round(time.Second)
}

// retryRejected tests once more, after the application's refresh throttle
// window, every rejection the throttle may explain, each key pinned
// again; only a second rejection stands. One wait serves them all: the
// first retest makes a correct application fetch the whole key set.
func (r *run) retryRejected(ctx context.Context) error {
	if len(r.retries) == 0 {
		return nil
	}
	var whom []string
	for _, x := range r.retries {
		res := r.rep.Results[x.index]
		whom = append(whom, fmt.Sprintf("the %s key %s, %s", res.State, Abbrev(res.Thumbprint), x.why))
	}
	r.say("waiting %v for the application's refresh throttle before testing again %s … ", r.cfg.RefreshWait, strings.Join(whom, "; "))
	select {
	case <-ctx.Done():
		r.say("interrupted\n")
		return ctx.Err()
	case <-r.cfg.After(r.cfg.RefreshWait):
	}
	r.say("done\n")
	for _, x := range r.retries {
		res := &r.rep.Results[x.index]
		r.say("retrying the %s key %s … ", res.State, Abbrev(res.Thumbprint))
		res.Earlier = append(res.Earlier, res.Evidence)
		res.Retried = x.why
		if err := r.pin(ctx, x.key); err != nil {
			if ctx.Err() != nil {
				r.say("interrupted\n")
				return ctx.Err()
			}
			// The first rejection may have been the throttle's: without a
			// second test it decides nothing.
			res.record(Undecided, Evidence{Error: "rejected once; could not pin the application to this key again: " + err.Error()})
			r.say("undecided: could not pin it again: %v\n", err)
			continue
		}
		outcome, ev, err := r.tester.test(ctx, x.key)
		if err != nil {
			r.say("stopped: %v\n", err)
			return err
		}
		res.record(outcome, ev)
		r.say("%s\n", res.Line())
	}
	return nil
}
