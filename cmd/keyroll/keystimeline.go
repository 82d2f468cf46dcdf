package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/drill"
	"github.com/keyroll/keyroll/internal/chart"
)

func init() {
	register(&command{
		name:    "keys timeline",
		summary: "chart the issuer's key schedule, past and next months",
		usage: `Usage: keyroll keys timeline [--months N] [--server URL] [--json]

Draws each key's life from the issuer's audit log and the policy's forecast:
  -  next (published, not signing)   █  primary (signing)   =  retired (published)
Then lists the dated events, past and forecast.

Examples:
  keyroll keys timeline
  keyroll keys timeline --months 24
`,
		run: runKeysTimeline,
	})
}

func runKeysTimeline(ctx context.Context, e *env, args []string) int {
	c := commands["keys timeline"]
	fs := newFlags(c)
	var cf clientFlags
	cf.define(fs, e)
	months := fs.Int("months", 12, "months before and after now")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, code := parseFlags(fs, c, e, args); code >= 0 {
		return code
	}
	if *months < 1 || *months > 120 {
		fmt.Fprintln(e.stderr, "keyroll keys timeline: --months must be from 1 to 120")
		return exitUsage
	}
	tl, err := cf.client(e).Timeline(ctx, *months)
	if err != nil {
		fmt.Fprintf(e.stderr, "keyroll keys timeline: %v\n", err)
		return exitFail
	}
	if *asJSON {
		writeJSONOut(e.stdout, tl)
		return exitOK
	}
	renderTimeline(e.stdout, tl)
	printWaits(e, tl.Keys)
	return exitOK
}

// keyLife collects when a key entered each state.
type keyLife struct {
	label                             string
	created, promoted, retired, ended time.Time
}

func (l *keyLife) on(to string, at time.Time) {
	switch to {
	case "next":
		l.created = at
	case "primary":
		l.promoted = at
	case "retired":
		l.retired = at
	case "expired", "revoked":
		l.ended = at
	}
}

func (l *keyLife) spans() []chart.Span {
	end := func(ts ...time.Time) time.Time {
		for _, t := range ts {
			if !t.IsZero() {
				return t
			}
		}
		return time.Time{}
	}
	var s []chart.Span
	if !l.created.IsZero() {
		s = append(s, chart.Span{From: l.created, To: end(l.promoted, l.ended), Glyph: '-'})
	}
	if !l.promoted.IsZero() {
		s = append(s, chart.Span{From: l.promoted, To: end(l.retired, l.ended), Glyph: '█'})
	}
	if !l.retired.IsZero() {
		s = append(s, chart.Span{From: l.retired, To: l.ended, Glyph: '='})
	}
	return s
}

func renderTimeline(w io.Writer, tl *adminapi.TimelineInfo) {
	var order []string
	lives := map[string]*keyLife{}
	life := func(kid, label string) *keyLife {
		if l, ok := lives[kid]; ok {
			return l
		}
		l := &keyLife{label: label}
		lives[kid] = l
		order = append(order, kid)
		return l
	}
	for _, k := range tl.Keys {
		if k.EndedAt != nil && k.EndedAt.Before(tl.From) {
			continue
		}
		l := life(k.KID, drill.Abbrev(k.Thumbprint)+" "+k.State)
		l.created = k.CreatedAt
		for _, p := range []struct {
			at *time.Time
			to string
		}{{k.PromotedAt, "primary"}, {k.RetiredAt, "retired"}, {k.EndedAt, "expired"}} {
			if p.at != nil {
				l.on(p.to, *p.at)
			}
		}
	}
	for _, ev := range tl.Forecast {
		life(ev.KID, ev.KID).on(ev.To, ev.Time)
	}
	var rows []chart.Row
	for _, kid := range order {
		rows = append(rows, chart.Row{Label: lives[kid].label, Spans: lives[kid].spans()})
	}
	chart.Render(w, rows, tl.From, tl.Until, tl.Now, 72)
	fmt.Fprintln(w, "\n  - next (published, not signing)   █ primary   = retired (still published)")
	fmt.Fprintln(w)
	t := newTable(w, "DATE", "", "KEY", "CHANGE", "REASON")
	for _, group := range []struct {
		tag string
		ev  []adminapi.EventInfo
	}{{"past", tl.Past}, {"forecast", tl.Forecast}} {
		for _, x := range group.ev {
			from := x.From
			if from == "" {
				from = "new"
			}
			key := x.KID
			if x.Thumbprint != "" {
				key = drill.Abbrev(x.Thumbprint)
			}
			t.row(day(x.Time), group.tag, key, from+"→"+x.To, x.Reason)
		}
	}
	t.flush()
}
