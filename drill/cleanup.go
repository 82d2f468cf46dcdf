package drill

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/lifecycle"
)

// cleanup undoes what the drill changed, in this order: the application's
// override, the transient key, the temporary user. It runs on a fresh
// context so that an interrupted drill still cleans up.
func (r *run) cleanup(parent context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), r.cfg.CleanupTimeout)
	defer cancel()
	r.rep.Cleanup.Done = []string{}
	if parent.Err() != nil {
		r.say("drill: interrupted; cleaning up\n")
	}
	if r.pinned {
		r.restore(ctx)
	}
	switch {
	case r.fresh != nil:
		r.withdraw(ctx, *r.fresh)
	case r.publishing:
		r.recoverFresh(ctx)
	}
	if r.user != "" {
		r.deleteUser(ctx)
	}
}

func (r *run) done(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.rep.Cleanup.Done = append(r.rep.Cleanup.Done, msg)
	r.say("cleanup: %s\n", msg)
}

func (r *run) leave(l Leftover) {
	r.rep.Cleanup.Left = append(r.rep.Cleanup.Left, l)
	r.say("cleanup FAILED: %s (%s); fix: %s\n", l.What, l.Err, l.Fix)
}

// restore puts back the application's previous override exactly, even a
// key that is no longer published, and reads it back to be sure.
func (r *run) restore(ctx context.Context) {
	prev, ref := r.rep.PreviousOverride, r.cfg.App
	var err error
	if prev == "" {
		_, err = r.cfg.Admin.RestoreDefault(ctx, ref)
	} else {
		_, err = r.cfg.Admin.Override(ctx, ref, adminapi.OverrideRequest{Key: prev, AllowUnpublished: true})
	}
	if err == nil {
		var app *adminapi.AppInfo
		if app, err = r.cfg.Admin.App(ctx, ref); err == nil && app.KeyOverride != prev {
			err = fmt.Errorf("the issuer reports %s", describeOverride(app.KeyOverride))
		}
	}
	if err != nil {
		fix, note := r.restoreFix(prev)
		r.leave(Leftover{What: fmt.Sprintf("application %s may still be pinned to a drill key; before the drill it had %s%s", r.rep.App, describeOverride(prev), note),
			Fix: fix, Err: err.Error()})
		return
	}
	r.done("restored application %s: %s", r.rep.App, describeOverride(prev))
}

// restoreFix is the command that puts the previous override back, and a
// note when it can only come close.
func (r *run) restoreFix(prev string) (fix, note string) {
	app := shellQuote(r.cfg.App)
	if prev == "" {
		return "keyroll apps restore-default " + app, ""
	}
	for _, k := range testOrder(r.keys) {
		if k.Thumbprint == prev {
			return "keyroll apps override " + app + " --key " + prev, ""
		}
	}
	return "keyroll apps restore-default " + app, " (that key is no longer published, so keyroll apps override refuses it; the primary signed the application's tokens anyway)"
}

// withdraw unpublishes the drill's transient key.
func (r *run) withdraw(ctx context.Context, fresh adminapi.KeyInfo) {
	tp := fresh.Thumbprint
	k, err := r.cfg.Admin.WithdrawTransient(ctx, tp)
	if err == nil && lifecycle.State(k.State).Published() {
		err = fmt.Errorf("the issuer still lists it as %s", k.State)
	}
	if err != nil {
		r.leave(Leftover{What: fmt.Sprintf("the fresh transient key %s is still published; the issuer's policy withdraws it at %s",
			tp, fresh.CreatedAt.Add(lifecycle.TransientLifetime).UTC().Format(time.RFC3339)),
			Fix: "keyroll keys revoke " + tp, Err: err.Error()})
		return
	}
	r.done("withdrew the fresh transient key %s", tp)
}

// recoverFresh withdraws the transient key a publication whose answer
// was lost (interrupted, timed out) may have made: any published transient
// key that was not there when the drill started.
func (r *run) recoverFresh(ctx context.Context) {
	ks, err := r.cfg.Admin.Keys(ctx)
	if err != nil {
		r.leave(Leftover{What: "the publication of the fresh transient key was not confirmed, so it may be published; the issuer's policy withdraws it within the hour, " +
			"and keyroll keys revoke THUMBPRINT withdraws a key that keyroll keys list --json marks \"transient\": true now",
			Fix: "keyroll keys list --json", Err: err.Error()})
		return
	}
	for _, k := range ks {
		if k.Transient && lifecycle.State(k.State).Published() && !slices.ContainsFunc(r.keys, func(o adminapi.KeyInfo) bool { return o.KID == k.KID }) {
			r.withdraw(ctx, k)
		}
	}
}

// deleteUser removes the temporary test user; one that is already gone
// (or was never made) is fine.
func (r *run) deleteUser(ctx context.Context) {
	err := r.cfg.Admin.DeleteUser(ctx, r.user)
	if ae := (*adminapi.APIError)(nil); errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		r.done("the temporary test user %s is gone", r.user)
		return
	}
	if err != nil {
		r.leave(Leftover{What: "the temporary test user " + r.user + " still exists",
			Fix: "keyroll users delete " + r.user, Err: err.Error()})
		return
	}
	r.done("deleted the temporary test user %s", r.user)
}

var plainWord = regexp.MustCompile(`^[A-Za-z0-9._@+:/=-]+$`)

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if plainWord.MatchString(s) {
		return s
	}
	out := "'"
	for _, r := range s {
		if r == '\'' {
			out += `'\''`
		} else {
			out += string(r)
		}
	}
	return out + "'"
}
