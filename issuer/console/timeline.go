package console

import (
	"fmt"
	"strings"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
)

// The timeline chart's geometry, in SVG user units; the SVG scales to
// its container.
const (
	chartW      = 960
	chartLabelW = 150
	chartX0     = 160
	chartX1     = 945
	chartTop    = 46
	chartRowH   = 32
)

// chart is the key timeline as the template draws it: one row per key,
// bars for its states, marks for its dates.
type chart struct {
	Width, Height int
	From, Until   time.Time
	NowX          float64
	NowLabel      string
	AxisY         int
	Ticks         []tick
	Rows          []chartRow
	Desc          string // a one-line text summary for assistive technology
}

type tick struct {
	X     float64
	Label string // empty for a minor tick
}

type chartRow struct {
	Label, Title string
	Y, BarY      int // the label's baseline, the bars' top
	Bars         []bar
	Marks        []mark
}

type bar struct {
	X, W  float64
	Y     int
	Class string // state: next, primary, retired
	Title string
}

type mark struct {
	Path  string // SVG path data
	Class string // generated, promoted, retired, unpublished, expiry, critical
	Title string
}

// life is when a key entered each state: recorded, or forecast.
type life struct {
	label                             string
	created, promoted, retired, ended time.Time
	endedHow                          lifecycle.State
	expiry                            time.Time // certificate NotAfter
	forecast                          bool      // a key the policy will make
}

// lives collects the keys' lives from their records and the forecast.
func lives(keys []lifecycle.Key, forecast []lifecycle.Event, p lifecycle.Policy, from time.Time) []*life {
	var order []*life
	byKID := map[string]*life{}
	for _, k := range keys {
		if !k.EndedAt.IsZero() && k.EndedAt.Before(from) {
			continue
		}
		l := &life{label: abbrev(k.Thumbprint), created: k.CreatedAt, promoted: k.PromotedAt,
			retired: k.RetiredAt, ended: k.EndedAt, expiry: k.NotAfter}
		if !k.EndedAt.IsZero() {
			l.endedHow = k.State
		}
		if k.Transient {
			l.label += " (drill)"
		}
		byKID[k.KID] = l
		order = append(order, l)
	}
	for _, e := range forecast {
		l := byKID[e.KID]
		if l == nil {
			l = &life{label: e.KID, forecast: true, expiry: e.Time.Add(p.CertificateDuration)}
			byKID[e.KID] = l
			order = append(order, l)
		}
		switch e.To {
		case lifecycle.Next:
			l.created = e.Time
		case lifecycle.Primary:
			l.promoted = e.Time
		case lifecycle.Retired:
			l.retired = e.Time
		case lifecycle.Expired, lifecycle.Revoked:
			l.ended, l.endedHow = e.Time, e.To
		}
	}
	return order
}

// buildChart lays the lives out between from and until.
func buildChart(ls []*life, p lifecycle.Policy, from, until, now time.Time) chart {
	c := chart{Width: chartW, From: from, Until: until, AxisY: chartTop - 14}
	span := until.Sub(from).Seconds()
	x := func(t time.Time) float64 {
		f := t.Sub(from).Seconds() / span
		return chartX0 + max(0, min(1, f))*(chartX1-chartX0)
	}
	in := func(t time.Time) bool { return !t.IsZero() && !t.Before(from) && !t.After(until) }
	c.NowX, c.NowLabel = x(now), "now "+dayOf(now)
	for m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1, 0); m.Before(until); m = m.AddDate(0, 1, 0) {
		t := tick{X: x(m)}
		if (m.Month()-1)%3 == 0 {
			t.Label = m.Format("2006-01")
		}
		c.Ticks = append(c.Ticks, t)
	}
	first := func(ts ...time.Time) time.Time {
		for _, t := range ts {
			if !t.IsZero() {
				return t
			}
		}
		return until
	}
	for i, l := range ls {
		y := chartTop + i*chartRowH
		r := chartRow{Label: l.label, Y: y + chartRowH/2 + 4, BarY: y + 8}
		r.Title = l.label
		if l.forecast {
			r.Title += " (forecast)"
		}
		add := func(class string, a, b time.Time) {
			if a.IsZero() || !b.After(from) || a.After(until) {
				return
			}
			x0, x1 := x(a), x(b)
			r.Bars = append(r.Bars, bar{X: x0, W: max(x1-x0, 1), Y: r.BarY, Class: class,
				Title: fmt.Sprintf("%s: %s %s to %s", r.Title, class, dayOf(a), dayOf(b))})
		}
		add("next", l.created, first(l.promoted, l.ended))
		add("primary", l.promoted, first(l.retired, l.ended))
		add("retired", l.retired, first(l.ended))
		cy := float64(y + chartRowH/2)
		point := func(class, what string, t time.Time) {
			if !in(t) {
				return
			}
			r.Marks = append(r.Marks, mark{Path: shape(class, x(t), cy), Class: class,
				Title: fmt.Sprintf("%s: %s %s", r.Title, what, dayOf(t))})
		}
		point("generated", "generated", l.created)
		point("promoted", "promoted to primary", l.promoted)
		point("retired", "retired", l.retired)
		switch {
		case l.endedHow == lifecycle.Revoked:
			point("unpublished", "revoked (unpublished)", l.ended)
		case !l.ended.IsZero():
			point("unpublished", "unpublished", l.ended)
		}
		point("expiry", "certificate expires", l.expiry)
		if !l.promoted.IsZero() && !l.expiry.IsZero() {
			if crit := l.expiry.Add(-p.CriticalThreshold); l.ended.IsZero() || crit.Before(l.ended) {
				point("critical", "critical date (generate and promote at once)", crit)
			}
		}
		c.Rows = append(c.Rows, r)
	}
	c.Height = chartTop + len(ls)*chartRowH + 8
	c.Desc = fmt.Sprintf("%d keys from %s to %s; the dated list below has every change.", len(ls), dayOf(from), dayOf(until))
	return c
}

// shape is the SVG path of a date mark centred on (x, y).
func shape(class string, x, y float64) string {
	f := func(format string, a ...float64) string {
		args := make([]any, len(a))
		for i, v := range a {
			args[i] = v
		}
		return fmt.Sprintf(format, args...)
	}
	switch class {
	case "generated": // circle
		return f("M%.1f %.1fm-5 0a5 5 0 1 0 10 0a5 5 0 1 0 -10 0", x, y)
	case "promoted": // triangle up
		return f("M%.1f %.1fl6 10h-12z", x, y-6)
	case "retired": // square
		return f("M%.1f %.1fh9v9h-9z", x-4.5, y-4.5)
	case "unpublished": // cross
		return f("M%.1f %.1fl10 10m0 -10l-10 10", x-5, y-5)
	case "expiry": // diamond
		return f("M%.1f %.1fl6 6l-6 6l-6 -6z", x, y-6)
	}
	// critical: a tall bar
	return f("M%.1f %.1fv%.1f", x, y-12, 24.0)
}

// legend lists the chart's symbols, for the template.
var legend = []struct{ Class, Path, Text string }{
	{"generated", shape("generated", 10, 10), "generated (published as next)"},
	{"promoted", shape("promoted", 10, 10), "promoted to primary"},
	{"retired", shape("retired", 10, 10), "retired (still published)"},
	{"unpublished", shape("unpublished", 10, 10), "unpublished (expired or revoked)"},
	{"expiry", shape("expiry", 10, 10), "certificate expiry"},
	{"critical", shape("critical", 10, 10), "critical date"},
}

// transition names an event's change: "next→primary", "new→next".
func transition(e lifecycle.Event) string {
	from := string(e.From)
	if from == "" {
		from = "new"
	}
	return from + "→" + strings.TrimSpace(string(e.To))
}
