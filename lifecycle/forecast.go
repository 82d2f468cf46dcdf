package lifecycle

import (
	"fmt"
	"time"
)

// Forecast returns the transitions the policy will make between now and
// until if nothing else happens, as audit events with Actor "forecast".
// Keys it would generate are named "(future 1)", "(future 2)", ...
func Forecast(keys []Key, p Policy, now, until time.Time) []Event {
	return ForecastHeld(keys, p, now, until, Hold{})
}

// ForecastHeld is [Forecast] with the promotion gate's answer, assumed to
// hold until the critical threshold: the latest the held key is promoted.
func ForecastHeld(keys []Key, p Policy, now, until time.Time, h Hold) []Event {
	keys = append([]Key(nil), keys...)
	var out []Event
	n := 0
	for steps := 0; steps < 10000; steps++ {
		t := NextDueHeld(keys, p, now, h)
		if t.IsZero() || t.After(until) {
			break
		}
		now = t
		a, ok := DueHeld(keys, p, now, h)
		if !ok {
			break
		}
		var fresh *Key
		if a.Kind == Generate {
			n++
			fresh = &Key{KID: fmt.Sprintf("(future %d)", n), Alg: "", NotBefore: now, NotAfter: now.Add(p.CertificateDuration)}
		}
		next, events, err := Apply(keys, a, fresh, now, "forecast", p)
		if err != nil {
			break
		}
		keys, out = next, append(out, events...)
	}
	return out
}
