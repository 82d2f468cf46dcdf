package chart

import (
	"strings"
	"testing"
	"time"
)

func TestRender(t *testing.T) {
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	until := from.AddDate(1, 0, 0)
	rows := []Row{
		{Label: "a", Spans: []Span{{From: from, To: from.AddDate(0, 6, 0), Glyph: '█'}}},
		{Label: "bb", Spans: []Span{{From: from.AddDate(0, 6, 0), Glyph: '-'}}},
	}
	var b strings.Builder
	Render(&b, rows, from, until, from.AddDate(0, 3, 0), 48)
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("got %d lines:\n%s", len(lines), b.String())
	}
	if got := lines[2]; got != "a  "+strings.Repeat("█", 24) {
		t.Errorf("row a = %q", got)
	}
	if got := lines[3]; got != "bb "+strings.Repeat(" ", 24)+strings.Repeat("-", 24) {
		t.Errorf("row bb = %q", got)
	}
	if !strings.Contains(lines[1], "▼ now 2026-04-01") || strings.Index(lines[1], "▼") != 3+11 {
		t.Errorf("marker line = %q", lines[1])
	}
	if !strings.Contains(lines[0], "2026-04") || !strings.Contains(lines[0], "2026-07") {
		t.Errorf("axis = %q", lines[0])
	}
}
