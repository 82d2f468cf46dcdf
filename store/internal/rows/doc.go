// Package rows is how both store backends (sqlite, postgres) lay keyroll's
// records out in table rows: times as Unix nanoseconds (0 for the zero
// time), states and names as text. Encoding refuses a record the tables
// cannot hold with [store.ErrConflict]; decoding refuses a row that does not
// make a valid record with [store.ErrCorrupt]. Nothing here talks to a
// database.
package rows

import (
	"fmt"
	"math"
	"time"
)

// Bounds of the storable times: those whose Unix nanoseconds fit an int64.
var (
	MinTime = time.Unix(0, math.MinInt64).UTC()
	MaxTime = time.Unix(0, math.MaxInt64).UTC()
)

// Nanos encodes t as Unix nanoseconds; the zero time is 0.
func Nanos(t time.Time) (int64, error) {
	if t.IsZero() {
		return 0, nil
	}
	if t.Before(MinTime) || t.After(MaxTime) {
		return 0, fmt.Errorf("time %s is outside the storable range %d–%d", t.UTC().Format(time.RFC3339), MinTime.Year(), MaxTime.Year())
	}
	return t.UnixNano(), nil
}

// FromNanos decodes Unix nanoseconds to a UTC time; 0 is the zero time.
func FromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// SinceNanos is the lower bound for an events query: none for the zero
// time, clamped to the storable range.
func SinceNanos(since time.Time) int64 {
	switch {
	case since.IsZero(), since.Before(MinTime):
		return math.MinInt64
	case since.After(MaxTime):
		return math.MaxInt64
	}
	return since.UnixNano()
}
