package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parseDuration accepts Go durations ("720m", "1h30m") and whole or
// fractional days ("365d", "0.5d"), as AD FS states its thresholds in days.
func parseDuration(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		f, err := strconv.ParseFloat(d, 64)
		if err != nil || f < 0 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(f * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (use e.g. 20d, 12h or 720m)", s)
	}
	return d, nil
}

// durationValue is a flag.Value for parseDuration.
type durationValue struct{ d *time.Duration }

func (v durationValue) String() string {
	if v.d == nil {
		return ""
	}
	if *v.d != 0 && *v.d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", *v.d/(24*time.Hour))
	}
	return v.d.String()
}

func (v durationValue) Set(s string) error {
	d, err := parseDuration(s)
	if err == nil {
		*v.d = d
	}
	return err
}

// durationFlag defines a flag that takes parseDuration's forms.
func durationFlag(fs *flag.FlagSet, p *time.Duration, name string, def time.Duration, usage string) {
	*p = def
	fs.Var(durationValue{p}, name, usage)
}

// envName is the environment variable that sets a flag: KEYROLL_ and the
// flag's name in upper case with dashes as underscores.
func envName(flagName string) string {
	return "KEYROLL_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// applyEnv sets each flag of fs from its environment variable, if set, so
// that command-line flags parsed afterwards win.
func applyEnv(fs *flag.FlagSet, e *env, names ...string) error {
	for _, n := range names {
		if v := e.getenv(envName(n)); v != "" {
			if err := fs.Set(n, v); err != nil {
				return fmt.Errorf("%s=%q: %v", envName(n), v, err)
			}
		}
	}
	return nil
}
