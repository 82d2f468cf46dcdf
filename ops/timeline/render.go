package timeline

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
)

// WriteTable prints t as a table with each date's distance from now.
func WriteTable(w io.Writer, t Timeline, now time.Time) error {
	c := t.Cert
	fmt.Fprintf(w, "Certificate: %s\n", c.Subject)
	if c.Thumbprint != "" {
		fmt.Fprintf(w, "Thumbprint:  %s\n", c.Thumbprint)
	}
	valid := day(c.NotBefore) + " .. " + day(c.NotAfter)
	if !c.NotAfter.IsZero() && !now.Before(c.NotAfter) {
		valid += "  EXPIRED " + relative(c.NotAfter, now) + ": it cannot sign valid tokens, and no rollover below will happen"
	}
	fmt.Fprintf(w, "Valid:       %s\n\n", valid)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DATE\tWHEN\tMILESTONE\tWHY")
	for _, m := range t.Milestones {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", day(m.Date), relative(m.Date, now), m.Name, m.Note)
	}
	return tw.Flush()
}

// relative says how far date is from now, in whole days.
func relative(date, now time.Time) string {
	d := int(dayOf(date).Sub(dayOf(now)) / lifecycle.Day)
	switch {
	case d == 0:
		return "today"
	case d > 0:
		return fmt.Sprintf("in %d d", d)
	}
	return fmt.Sprintf("%d d ago", -d)
}

func dayOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// chartMargin pads the chart on both sides.
const chartMargin = 5 * lifecycle.Day

// WriteChart draws the milestones up to expiry on a day axis, with the
// certificate's validity as a bar and today marked when it falls inside.
// width is the width of the axis in columns (at least 20).
func WriteChart(w io.Writer, t Timeline, now time.Time, width int) {
	width = max(width, 20)
	exp, _ := t.Get(Expires)
	start := t.Milestones[0].Date.Add(-chartMargin)
	end := exp.Date.Add(chartMargin)
	col := func(d time.Time) int {
		return int(float64(width-1) * float64(d.Sub(start)) / float64(end.Sub(start)))
	}
	const label = "%-20s "
	left, right := day(start), day(end)
	fmt.Fprintf(w, label+"%s%s%s\n", "", left, strings.Repeat(" ", max(1, width-len(left)-len(right))), right)
	bar := []rune(strings.Repeat(" ", width))
	for i := max(0, col(t.Cert.NotBefore)); i <= min(width-1, col(exp.Date)); i++ {
		bar[i] = '='
	}
	if c := col(exp.Date); c >= 0 && c < width {
		bar[c] = '|'
	}
	fmt.Fprintf(w, label+"%s\n", "certificate", string(bar))
	for _, m := range t.Milestones {
		if m.Date.After(end) {
			continue
		}
		c := col(m.Date)
		fmt.Fprintf(w, label+"%s*  %s\n", m.Name, strings.Repeat(".", c), day(m.Date))
	}
	if c := col(now); c >= 0 && c < width {
		fmt.Fprintf(w, label+"%s^  %s\n", "today", strings.Repeat(" ", c), day(now))
	} else {
		fmt.Fprintf(w, label+"%s\n", "today", day(now)+" (outside the chart)")
	}
}
