package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// table writes aligned columns for people.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	t.row(header...)
	return t
}

func (t *table) row(cells ...string) { fmt.Fprintln(t.tw, strings.Join(cells, "\t")) }

func (t *table) flush() { t.tw.Flush() }

// writeJSONOut writes v as indented JSON for scripts.
func writeJSONOut(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// day formats a time as YYYY-MM-DD (UTC) for tables; "-" for none.
func day(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.DateOnly)
}

// dayp is day for optional times.
func dayp(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return day(*t)
}

// when formats a time for a table: the date alone at midnight UTC, else the
// date and time to the second (policies measured in hours and drills make
// several changes a day).
func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	t = t.UTC()
	if t.Equal(t.Truncate(24 * time.Hour)) {
		return t.Format(time.DateOnly)
	}
	return t.Format("2006-01-02 15:04:05Z")
}

// whenp is when for an optional time.
func whenp(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return when(*t)
}
