package fedmeta

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// xs:duration unit lengths. Years and months have no fixed length; metadata
// cacheDuration uses them rarely, and 365 and 30 days are the usual reading.
var (
	dateUnits = map[byte]time.Duration{'Y': 365 * 24 * time.Hour, 'M': 30 * 24 * time.Hour, 'D': 24 * time.Hour}
	timeUnits = map[byte]time.Duration{'H': time.Hour, 'M': time.Minute, 'S': time.Second}
)

var errDuration = errors.New("not a non-negative xs:duration")

// parseXSDuration parses a non-negative xs:duration such as "PT1H", "P1D" or
// "P1DT2H30M15.5S". Years count as 365 days and months as 30 days.
func parseXSDuration(s string) (time.Duration, error) {
	orig := s
	s = strings.TrimSpace(s)
	rest, ok := strings.CutPrefix(s, "P")
	if !ok || rest == "" || strings.HasSuffix(rest, "T") {
		return 0, fmt.Errorf("%q: %w", orig, errDuration)
	}
	datePart, timePart, _ := strings.Cut(rest, "T")
	d1, err := sumUnits(datePart, "YMD", dateUnits)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", orig, err)
	}
	d2, err := sumUnits(timePart, "HMS", timeUnits)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", orig, err)
	}
	if d1 > math.MaxInt64-d2 {
		return 0, fmt.Errorf("%q: duration overflows", orig)
	}
	return d1 + d2, nil
}

// sumUnits adds up "<number><unit>" components, units in the order given.
func sumUnits(s, order string, units map[byte]time.Duration) (time.Duration, error) {
	var total time.Duration
	for s != "" {
		i := strings.IndexAny(s, order)
		if i <= 0 {
			return 0, errDuration
		}
		unit := s[i]
		order = order[strings.IndexByte(order, unit)+1:] // each unit once, in order
		part, err := unitValue(s[:i], unit, units[unit])
		if err != nil {
			return 0, err
		}
		if total > math.MaxInt64-part {
			return 0, errors.New("duration overflows")
		}
		total += part
		s = s[i+1:]
	}
	return total, nil
}

func unitValue(num string, unit byte, per time.Duration) (time.Duration, error) {
	whole, frac, hasFrac := strings.Cut(num, ".")
	if !digits(whole) || (hasFrac && (unit != 'S' || !digits(frac))) {
		return 0, errDuration
	}
	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || n > int64(math.MaxInt64/per) {
		return 0, errors.New("duration overflows")
	}
	d := time.Duration(n) * per
	if hasFrac {
		frac = (frac + "000000000")[:9] // nanoseconds; finer digits are dropped
		ns, _ := strconv.ParseInt(frac, 10, 64)
		if d > math.MaxInt64-time.Duration(ns) {
			return 0, errors.New("duration overflows")
		}
		d += time.Duration(ns)
	}
	return d, nil
}

// digits reports whether s is a non-empty run of ASCII digits.
func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// formatXSDuration writes d as an xs:duration ("PT1H", "P1DT30M", "PT0.5S").
func formatXSDuration(d time.Duration) string {
	if d <= 0 {
		return "PT0S"
	}
	var b strings.Builder
	b.WriteString("P")
	if days := d / (24 * time.Hour); days > 0 {
		fmt.Fprintf(&b, "%dD", days)
		d -= days * 24 * time.Hour
	}
	if d == 0 {
		return b.String()
	}
	b.WriteString("T")
	for _, u := range []struct {
		per  time.Duration
		name string
	}{{time.Hour, "H"}, {time.Minute, "M"}} {
		if n := d / u.per; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
			d -= n * u.per
		}
	}
	if d > 0 {
		b.WriteString(strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "S")
	}
	return b.String()
}
