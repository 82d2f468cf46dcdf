package lifecycle

import (
	"fmt"
	"time"
)

// Forecast returns the transitions the policy will make between now and
// until if nothing else happens, as audit events with Actor "forecast".
// Keys it would generate are named "(future 1)", "(future 2)", ...
func Forecast(keys []Key, p Policy, now, until time.Time) []Event {
	keys = append([]Key(nil), keys...)
	var out []Event
	n := 0
	for steps := 0; steps < 10000; steps++ {
		t := NextDue(keys, p, now)
		if t.IsZero() || t.After(until) {
			break
		}
		now = t
		a, ok := Due(keys, p, now)
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
