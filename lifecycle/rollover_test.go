package lifecycle

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// keyFactory makes fresh keys with distinct kids and thumbprints.
type keyFactory struct{ n int }

func (f *keyFactory) make(now time.Time, p Policy) *Key {
	f.n++
	return &Key{
		KID:        fmt.Sprintf("k%d", f.n),
		Alg:        "RS256",
		Thumbprint: fmt.Sprintf("%040X", f.n),
		NotBefore:  now,
		NotAfter:   now.Add(p.CertificateDuration),
	}
}

// settle applies due actions at now until none is left and returns the keys
// and every action taken.
func settle(t *testing.T, keys []Key, p Policy, now time.Time, f *keyFactory) ([]Key, []Action) {
	t.Helper()
	var done []Action
	for i := 0; ; i++ {
		a, ok := Due(keys, p, now)
		if !ok {
			return keys, done
		}
		if i > 10 {
			t.Fatalf("actions do not settle at %s: %v", now, done)
		}
		var fresh *Key
		if a.Kind == Generate {
			fresh = f.make(now, p)
		}
		var err error
		keys, _, err = Apply(keys, a, fresh, now, "test", p)
		if err != nil {
			t.Fatalf("apply %v: %v", a, err)
		}
		done = append(done, a)
	}
}

// TestSeed002Example reproduces the worked example of seed 002: with the
// defaults, a token-signing certificate expiring on 2014-07-25 gets its
// successor generated on 2014-07-05 and promoted on 2014-07-10.
func TestSeed002Example(t *testing.T) {
	p := DefaultPolicy()
	expires := date("2014-07-25")
	keys := []Key{{KID: "old", Thumbprint: "AA", State: Primary, NotBefore: expires.Add(-p.CertificateDuration), NotAfter: expires, PromotedAt: expires.Add(-p.CertificateDuration)}}
	f := &keyFactory{}
	now := date("2014-07-01")

	if got := NextDue(keys, p, now); !got.Equal(date("2014-07-05")) {
		t.Fatalf("next due = %s, want generation on 2014-07-05", got)
	}
	now = NextDue(keys, p, now)
	keys, acts := settle(t, keys, p, now, f)
	if len(acts) != 1 || acts[0].Kind != Generate || acts[0].Promote {
		t.Fatalf("on 2014-07-05 got %v, want one plain generation", acts)
	}
	if ni := NextIndex(keys); ni < 0 || !keys[ni].PromoteAt.Equal(date("2014-07-10")) {
		t.Fatalf("next key promotion = %v, want 2014-07-10", keys)
	}
	now = NextDue(keys, p, now)
	if !now.Equal(date("2014-07-10")) {
		t.Fatalf("next due = %s, want promotion on 2014-07-10", now)
	}
	keys, acts = settle(t, keys, p, now, f)
	if len(acts) != 1 || acts[0].Kind != Promote || acts[0].Urgent {
		t.Fatalf("on 2014-07-10 got %v, want one non-urgent promotion", acts)
	}
	if keys[0].State != Retired || keys[1].State != Primary || keys[1].Urgent {
		t.Fatalf("after promotion: %+v", keys)
	}
	// The old key stays published for the retention window, then goes.
	unpub := p.UnpublishAt(keys[0])
	if want := date("2014-07-10").Add(p.RetentionWindow()); !unpub.Equal(want) {
		t.Fatalf("unpublish at %s, want %s", unpub, want)
	}
	if _, ok := Due(keys, p, unpub.Add(-time.Nanosecond)); ok {
		t.Fatal("something due before the retention window ends")
	}
	keys, acts = settle(t, keys, p, unpub, f)
	if len(acts) != 1 || acts[0].Kind != Expire || keys[0].State != Expired {
		t.Fatalf("at end of retention got %v, keys %+v", acts, keys)
	}
}

func TestCriticalThreshold(t *testing.T) {
	p := DefaultPolicy()
	expires := date("2014-07-25")
	primary := Key{KID: "old", Thumbprint: "AA", State: Primary, NotAfter: expires}
	f := &keyFactory{}

	t.Run("no next key: generate and promote at once", func(t *testing.T) {
		now := expires.Add(-p.CriticalThreshold)
		keys, acts := settle(t, []Key{primary}, p, now, f)
		if len(acts) != 1 || acts[0].Kind != Generate || !acts[0].Promote || !acts[0].Urgent {
			t.Fatalf("got %v", acts)
		}
		if pi := PrimaryIndex(keys); pi != 1 || !keys[pi].Urgent {
			t.Fatalf("fresh key not urgent primary: %+v", keys)
		}
	})
	t.Run("young next key: promoted early and marked urgent", func(t *testing.T) {
		now := expires.Add(-p.CriticalThreshold - time.Hour)
		next := Key{KID: "young", Thumbprint: "BB", State: Next, CreatedAt: now.Add(-24 * time.Hour), PromoteAt: now.Add(4 * 24 * time.Hour), NotAfter: now.Add(p.CertificateDuration)}
		keys := []Key{primary, next}
		if a, ok := Due(keys, p, now); ok {
			t.Fatalf("due before critical threshold: %v", a)
		}
		keys, acts := settle(t, keys, p, now.Add(time.Hour), f)
		if len(acts) != 1 || acts[0].Kind != Promote || keys[1].State != Primary || !keys[1].Urgent {
			t.Fatalf("got %v, keys %+v", acts, keys)
		}
	})
}

func TestAutoRolloverOff(t *testing.T) {
	p := DefaultPolicy()
	p.AutoRollover = false
	primary := Key{KID: "p", Thumbprint: "AA", State: Primary, NotAfter: date("2014-07-25")}
	if a, ok := Due([]Key{primary}, p, date("2014-07-24")); ok {
		t.Fatalf("auto rollover off but %v is due", a)
	}
	if a, ok := Due([]Key{primary}, p, date("2014-07-25")); !ok || a.Kind != Expire {
		t.Fatalf("expired primary not unpublished: %v %v", a, ok)
	}
	if a, ok := Due(nil, p, date("2014-07-25")); !ok || a.Kind != Generate || !a.Promote {
		t.Fatalf("empty store not bootstrapped: %v", a)
	}
}

func TestRotateAndRevoke(t *testing.T) {
	p := DefaultPolicy()
	now := date("2026-01-01")
	f := &keyFactory{}
	keys, _ := settle(t, nil, p, now, f)
	if len(keys) != 1 || keys[0].State != Primary {
		t.Fatalf("bootstrap: %+v", keys)
	}
	a, err := Rotate(keys, false)
	if err != nil || a.Kind != Generate || a.Promote {
		t.Fatalf("rotate: %v %v", a, err)
	}
	keys, _, err = Apply(keys, a, f.make(now, p), now, "admin", p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Rotate(keys, false); !errors.Is(err, ErrNextExists) {
		t.Fatalf("second rotate: %v, want ErrNextExists", err)
	}
	if _, err := RevokePlan(keys, p, "nope"); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("unknown thumbprint: %v", err)
	}
	// Revoking the primary promotes the next key first, by thumbprint in any form.
	ref := strings.ToLower(keys[0].Thumbprint[:2]) + " " + keys[0].Thumbprint[2:]
	plan, err := RevokePlan(keys, p, ref)
	if err != nil || len(plan) != 2 || plan[0].Kind != Promote || plan[1].Kind != Revoke {
		t.Fatalf("revoke plan: %v %v", plan, err)
	}
	for _, a := range plan {
		if keys, _, err = Apply(keys, a, nil, now, "admin", p); err != nil {
			t.Fatal(err)
		}
	}
	if keys[0].State != Revoked || keys[1].State != Primary {
		t.Fatalf("after revoke: %+v", keys)
	}
	if _, err := RevokePlan(keys, p, keys[0].KID); !errors.Is(err, ErrNotPublished) {
		t.Fatalf("revoking twice: %v", err)
	}
	p.AutoRollover = false
	if _, err := RevokePlan(keys, p, keys[1].KID); !errors.Is(err, ErrNoReplacement) {
		t.Fatalf("revoking the only key with auto rollover off: %v", err)
	}
	if _, _, err := Apply(keys, Action{Kind: Revoke, KID: keys[1].KID}, nil, now, "admin", p); !errors.Is(err, ErrNoPrimary) {
		t.Fatalf("revoking primary directly: %v", err)
	}
	if _, _, err := Apply(keys, Action{Kind: Generate}, &Key{KID: keys[0].KID}, now, "admin", p); err == nil {
		t.Fatal("reused kid accepted")
	}
}

func TestPolicyValidate(t *testing.T) {
	if err := DefaultPolicy().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	cases := map[string]func(*Policy){
		"CertificateDuration must be positive":   func(p *Policy) { p.CertificateDuration = 0 },
		"must be shorter than CertificateDur":    func(p *Policy) { p.GenerationThreshold = 400 * Day },
		"inside the 2d critical threshold":       func(p *Policy) { p.PromotionThreshold = 19 * Day },
		"or after expiry":                        func(p *Policy) { p.PromotionThreshold = 30 * Day },
		"certificate expires 1d after promotion": func(p *Policy) { p.PromotionThreshold = 19 * Day; p.CriticalThreshold = time.Hour },
	}
	for want, mutate := range cases {
		p := DefaultPolicy()
		mutate(&p)
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v", want, err)
		}
	}
}

func TestForecastYearOfDefaults(t *testing.T) {
	p := DefaultPolicy()
	start := date("2026-01-01")
	keys := []Key{{KID: "p", Thumbprint: "AA", State: Primary, NotBefore: start, NotAfter: start.Add(p.CertificateDuration), PromotedAt: start}}
	ev := Forecast(keys, p, start, start.Add(2*365*Day))
	// Two rollovers in two years: each is generate, promote (+retire), expire.
	var gen, prom int
	for _, e := range ev {
		switch {
		case e.From == "" && e.To == Next:
			gen++
		case e.From == Next && e.To == Primary:
			prom++
		}
	}
	if gen != 2 || prom != 2 {
		t.Fatalf("forecast over two years: %d generations, %d promotions, want 2 and 2:\n%v", gen, prom, ev)
	}
	if first := ev[0]; !first.Time.Equal(date("2026-12-12")) || first.KID != "(future 1)" {
		t.Fatalf("first forecast event %v, want generation on 2026-12-12 (365d-20d)", first)
	}
}

func TestTransientKey(t *testing.T) {
	p := DefaultPolicy()
	now := date("2026-01-01")
	f := &keyFactory{}
	keys, _ := settle(t, nil, p, now, f)
	keys, _, err := Apply(keys, Action{Kind: Generate, Transient: true, Reason: "drill"}, f.make(now, p), now, "drill", p)
	if err != nil {
		t.Fatal(err)
	}
	tk := keys[len(keys)-1]
	if !tk.Transient || tk.State != Next || !tk.PromoteAt.IsZero() || NextIndex(keys) >= 0 {
		t.Fatalf("transient key %+v; NextIndex %d", tk, NextIndex(keys))
	}
	// Not promoted, never counted as the next key, and withdrawn after its lifetime.
	if got := NextDue(keys, p, now); !got.Equal(now.Add(TransientLifetime)) {
		t.Fatalf("next due %s", got)
	}
	keys, acts := settle(t, keys, p, now.Add(TransientLifetime), f)
	if len(acts) != 1 || acts[0].Kind != Expire || keys[len(keys)-1].State != Expired {
		t.Fatalf("after its lifetime: %v %+v", acts, keys[len(keys)-1])
	}
	if _, _, err := Apply(keys, Action{Kind: Generate, Transient: true, Promote: true}, f.make(now, p), now, "drill", p); err == nil {
		t.Fatal("a transient key was promoted")
	}
}
