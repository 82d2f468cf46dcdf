// Package chart draws time lines in a terminal: one row per item, one column
// per slice of time, a glyph per state.
package chart

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Span is a stretch of time drawn with one glyph.
type Span struct {
	From, To time.Time // To zero: open-ended
	Glyph    rune
}

// Row is one labelled line of the chart.
type Row struct {
	Label string
	Spans []Span
}

// Render draws rows between from and until in width columns, with a month
// axis and a marker at now. Later spans of a row are drawn over earlier ones.
func Render(w io.Writer, rows []Row, from, until, now time.Time, width int) {
	if width < 10 || !until.After(from) {
		return
	}
	step := until.Sub(from) / time.Duration(width)
	labelW := 0
	for _, r := range rows {
		labelW = max(labelW, len([]rune(r.Label)))
	}
	pad := strings.Repeat(" ", labelW+1)
	fmt.Fprintf(w, "%s%s\n", pad, axis(from, step, width))
	fmt.Fprintf(w, "%s%s\n", pad, marker(from, now, step, width))
	for _, r := range rows {
		line := []rune(strings.Repeat(" ", width))
		for _, s := range r.Spans {
			for c := 0; c < width; c++ {
				mid := from.Add(step*time.Duration(c) + step/2)
				if !mid.Before(s.From) && (s.To.IsZero() || mid.Before(s.To)) {
					line[c] = s.Glyph
				}
			}
		}
		fmt.Fprintf(w, "%-*s %s\n", labelW, r.Label, strings.TrimRight(string(line), " "))
	}
}

// axis labels the first column of each quarter with its month (YYYY-MM).
func axis(from time.Time, step time.Duration, width int) string {
	line := []rune(strings.Repeat(" ", width))
	last := -8
	for c := 0; c < width; c++ {
		t := from.Add(step * time.Duration(c))
		prev := from.Add(step * time.Duration(c-1))
		if c > 0 && t.Month() != prev.Month() && int(t.Month()-1)%3 == 0 && c-last >= 8 && c+7 <= width {
			copy(line[c:], []rune(t.UTC().Format("2006-01")))
			last = c
		}
	}
	return strings.TrimRight(string(line), " ")
}

func marker(from, now time.Time, step time.Duration, width int) string {
	c := int(now.Sub(from) / step)
	if c < 0 || c >= width {
		return ""
	}
	return strings.Repeat(" ", c) + "▼ now " + now.UTC().Format(time.DateOnly)
}
