package fedmeta

import (
	"testing"
	"time"
)

func TestParseXSDuration(t *testing.T) {
	day := 24 * time.Hour
	for in, want := range map[string]time.Duration{
		"PT1H": time.Hour, "P1D": day, " PT30M ": 30 * time.Minute, "PT0S": 0, "PT1.5S": 1500 * time.Millisecond,
		"P1DT2H3M4S": day + 2*time.Hour + 3*time.Minute + 4*time.Second, "P1Y": 365 * day, "P2M": 60 * day,
		"P1Y2M3D": 428 * day, "PT0.0000000019S": 1, "PT36H": 36 * time.Hour,
	} {
		got, err := parseXSDuration(in)
		if err != nil || got != want {
			t.Errorf("parseXSDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{
		"", "P", "PT", "P1DT", "1H", "-PT1H", "PT-1H", "P1H", "PT1D", "P1.5D", "PT1M1H", "P1D1D",
		"PTNaNS", "PTInfS", "PT1e3S", "PT+1S", "P99999999999999999999D", "P300Y", "PT1_0S", "PT.S",
	} {
		if d, err := parseXSDuration(in); err == nil {
			t.Errorf("parseXSDuration(%q) = %v, want error", in, d)
		}
	}
}

func TestFormatXSDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Hour: "PT1H", 90 * time.Minute: "PT1H30M", 24 * time.Hour: "P1D", 0: "PT0S",
		25*time.Hour + time.Second + 500*time.Millisecond: "P1DT1H1.5S",
	} {
		got := formatXSDuration(d)
		back, err := parseXSDuration(got)
		if got != want || err != nil || back != d {
			t.Errorf("formatXSDuration(%v) = %q (parses back to %v, %v), want %q", d, got, back, err, want)
		}
	}
}
