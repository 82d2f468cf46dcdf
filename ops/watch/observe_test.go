package watch

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/ops"
	fixtures "github.com/keyroll/keyroll/ops/opstest"
)

var t0 = time.Date(2014, 6, 1, 0, 0, 0, 0, time.UTC)

func day(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }

func pubOf(t *testing.T, certs ...fixtures.Signing) *ops.Published {
	t.Helper()
	p, err := ops.Parse(fixtures.JWKS(t, certs...), "test")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func kinds(events []Event) string {
	var s []string
	for _, e := range events {
		s = append(s, string(e.Kind))
	}
	return strings.Join(s, ",")
}

var cfg = Config{WarnDays: 30, UnreachableAfter: time.Hour}

func TestObserveKeyChanges(t *testing.T) {
	a := fixtures.NewCert(t, "A", day(-300), day(100))
	b := fixtures.NewCert(t, "B", day(0), day(400))
	ps := &Provider{}
	if ev := Observe(ps, "p", pubOf(t, a), nil, day(0), cfg); len(ev) != 0 {
		t.Fatalf("baseline reported %v", ev)
	}
	ev := Observe(ps, "p", pubOf(t, a, b), nil, day(1), cfg)
	if kinds(ev) != "key_added" || ev[0].Thumbprint != pubOf(t, b).Keys[0].Thumbprint || ev[0].NotAfter == nil {
		t.Fatalf("added: %v", ev)
	}
	if ev := Observe(ps, "p", pubOf(t, a, b), nil, day(2), cfg); len(ev) != 0 {
		t.Fatalf("no change reported %v", ev)
	}
	ev = Observe(ps, "p", pubOf(t, b), nil, day(3), cfg)
	if kinds(ev) != "key_removed" || ev[0].KID != "k1" {
		t.Fatalf("removed: %v", ev)
	}
}

func TestObserveExpiryOnce(t *testing.T) {
	a := fixtures.NewCert(t, "A", day(-300), day(40))
	ps := &Provider{}
	if ev := Observe(ps, "p", pubOf(t, a), nil, day(0), cfg); len(ev) != 0 {
		t.Fatalf("day 0: %v", ev)
	}
	ev := Observe(ps, "p", pubOf(t, a), nil, day(10), cfg)
	if kinds(ev) != "expiring" || !strings.Contains(ev[0].Message, "in 30 days") {
		t.Fatalf("day 10: %v", ev)
	}
	if ev := Observe(ps, "p", pubOf(t, a), nil, day(11), cfg); len(ev) != 0 {
		t.Fatalf("warned twice: %v", ev)
	}
	if ev := Observe(ps, "p", pubOf(t, a), nil, day(40), cfg); kinds(ev) != "expired_published,no_valid_key" {
		t.Fatalf("day 40: %v", ev)
	}
	if ev := Observe(ps, "p", pubOf(t, a), nil, day(41), cfg); len(ev) != 0 {
		t.Fatalf("expired reported twice: %v", ev)
	}
}

// TestObserveNoValidKey: a provider whose certificates all expired is
// reported once (on the first fetch too), and again when a valid one is
// published.
func TestObserveNoValidKey(t *testing.T) {
	old := fixtures.NewCert(t, "2018", day(-700), day(-300))
	ps := &Provider{}
	ev := Observe(ps, "p", pubOf(t, old), nil, day(0), cfg)
	if !strings.Contains(kinds(ev), "no_valid_key") {
		t.Fatalf("first fetch of expired-only keys: %v", ev)
	}
	if ev := Observe(ps, "p", pubOf(t, old), nil, day(1), cfg); len(ev) != 0 {
		t.Fatalf("reported twice: %v", ev)
	}
	fresh := fixtures.NewCert(t, "new", day(0), day(365))
	if ev := Observe(ps, "p", pubOf(t, old, fresh), nil, day(2), cfg); kinds(ev) != "key_added,valid_key" {
		t.Fatalf("a valid key again: %v", ev)
	}
}

func TestObserveUnreachable(t *testing.T) {
	a := fixtures.NewCert(t, "A", day(-300), day(400))
	ps := &Provider{}
	Observe(ps, "p", pubOf(t, a), nil, t0, cfg)
	down := errors.New("connection refused")
	for i, at := range []time.Duration{0, 30 * time.Minute, 59 * time.Minute} {
		if ev := Observe(ps, "p", nil, down, t0.Add(time.Minute+at), cfg); len(ev) != 0 {
			t.Fatalf("failure %d reported early: %v", i, ev)
		}
	}
	ev := Observe(ps, "p", nil, down, t0.Add(61*time.Minute), cfg)
	if kinds(ev) != "unreachable" || !strings.Contains(ev[0].Message, "connection refused") {
		t.Fatalf("after an hour: %v", ev)
	}
	if ev := Observe(ps, "p", nil, down, t0.Add(2*time.Hour), cfg); len(ev) != 0 {
		t.Fatalf("reported twice: %v", ev)
	}
	if ev := Observe(ps, "p", pubOf(t, a), nil, t0.Add(3*time.Hour), cfg); kinds(ev) != "reachable" {
		t.Fatalf("recovery: %v", ev)
	}
}

func TestObserveSignature(t *testing.T) {
	good, err := ops.Parse(fixtures.Read(t, "federation-metadata/entra-app-81c1df79.xml"), "md")
	if err != nil {
		t.Fatal(err)
	}
	bad := *good
	bad.Signature = ops.Signature{Signed: true, Err: "fedmeta: invalid signature: digest mismatch"}
	ps := &Provider{}
	Observe(ps, "p", good, nil, day(0), Config{})
	ev := Observe(ps, "p", &bad, nil, day(1), Config{})
	if kinds(ev) != "signature_invalid" || !strings.Contains(ev[0].Message, "digest mismatch") {
		t.Fatalf("invalid: %v", ev)
	}
	if ev := Observe(ps, "p", &bad, nil, day(2), Config{}); len(ev) != 0 {
		t.Fatalf("reported twice: %v", ev)
	}
	if ev := Observe(ps, "p", good, nil, day(3), Config{}); kinds(ev) != "signature_valid" {
		t.Fatalf("valid again: %v", ev)
	}
}

func TestEventLineAndID(t *testing.T) {
	na := day(400)
	e := newEvent(day(1), "tenant:contoso", KeyAdded, &KeyState{ID: "AB12", KID: "k2", NotAfter: na}, "new signing key published")
	want := `2014-06-02T00:00:00Z key_added tenant:contoso kid=k2 thumbprint=AB12 not_after=2015-07-06 "new signing key published"`
	if e.String() != want {
		t.Errorf("line\n%s\nwant\n%s", e, want)
	}
	if e.ID == "" || e.ID == newEvent(day(1), "tenant:contoso", KeyRemoved, &KeyState{ID: "AB12"}, "").ID {
		t.Errorf("ids not distinct: %s", e.ID)
	}
}
