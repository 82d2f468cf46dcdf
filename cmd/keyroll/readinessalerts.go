package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/issuer/admin"
	"github.com/keyroll/keyroll/issuer/readiness"
	"github.com/keyroll/keyroll/ops/watch"
)

// startReadinessWatch runs serve's readiness watch until ctx ends (it
// keeps keyroll_applications current) and, with a webhook, posts each
// alert to it through a watch.Notifier (keyroll watch's queue, retry and
// backoff; enqueueing never blocks). The returned func waits for both to
// stop.
func startReadinessWatch(ctx context.Context, m *issuer.Manager, webhook string, clk clock.Clock, logger *slog.Logger) (wait func()) {
	var alert func(issuer.ReadinessAlert)
	var wg sync.WaitGroup
	if webhook != "" {
		n := readinessNotifier(webhook, clk, logger)
		alert = func(a issuer.ReadinessAlert) { n.Enqueue(readinessEvent(m.Issuer(), a)) }
		wg.Go(func() { n.Run(ctx) })
	}
	w := issuer.NewReadinessWatch(m, admin.DefaultWithin, alert)
	wg.Go(func() { w.Run(ctx) })
	return wg.Wait
}

// readinessNotifier is the webhook's notifier with keyroll watch's defaults.
func readinessNotifier(webhook string, clk clock.Clock, logger *slog.Logger) *watch.Notifier {
	n := watch.NewNotifier(webhook, clk)
	n.Log = func(msg string) { logger.Warn("readiness webhook: " + msg) }
	return n
}

// readinessEvent is the webhook's JSON for an alert. Its id depends only
// on the application, the verdict and the reason, so that a receiver can
// drop the same alert from several replicas.
func readinessEvent(issuerURL string, a issuer.ReadinessAlert) watch.Event {
	kind := watch.AppAtRisk
	if a.Verdict == readiness.NotReady {
		kind = watch.AppNotReady
	}
	e := watch.Event{Time: a.Time.UTC(), Provider: issuerURL, Kind: kind, KID: a.NextKID,
		App: a.App, ClientID: a.ClientID, Verdict: string(a.Verdict), Reason: a.Reason,
		Message: fmt.Sprintf("application %s is %s: %s", a.App, a.Verdict, a.Reason)}
	if !a.PromoteAt.IsZero() {
		at := a.PromoteAt.UTC()
		e.PromoteAt = &at
		e.Message += fmt.Sprintf(" (the next key is promoted on %s)", at.Format(time.DateOnly))
	}
	sum := sha256.Sum256([]byte(issuerURL + "|" + a.ClientID + "|" + string(a.Verdict) + "|" + a.Reason))
	e.ID = hex.EncodeToString(sum[:8])
	return e
}
