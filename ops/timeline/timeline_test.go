package timeline

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/ops"
	fixtures "github.com/keyroll/keyroll/ops/opstest"
)

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestSeed002Example: seed 002's worked example with AD FS's defaults.
func TestSeed002Example(t *testing.T) {
	c := Cert{Subject: "CN=ADFS Signing - fs.contoso.com", NotBefore: date("2013-07-25"), NotAfter: date("2014-07-25")}
	tl := Compute(c, Options{Policy: lifecycle.DefaultPolicy()})
	want := map[string]string{
		Alert:      "2014-06-25",
		Generated:  "2014-07-05",
		Promoted:   "2014-07-10",
		Critical:   "2014-07-23",
		Expires:    "2014-07-25",
		NextExpiry: "2015-07-05",
	}
	for name, d := range want {
		m, ok := tl.Get(name)
		if !ok || day(m.Date) != d {
			t.Errorf("%s = %s, want %s", name, day(m.Date), d)
		}
	}
	for i := 1; i < len(tl.Milestones); i++ {
		if tl.Milestones[i].Date.Before(tl.Milestones[i-1].Date) {
			t.Errorf("milestones out of order: %v", tl.Milestones)
		}
	}
	// On 2014-07-01 the portal says service is affected in 9-10 days: the promotion.
	var out bytes.Buffer
	WriteTable(&out, tl, date("2014-07-01"))
	var rows []string
	for _, l := range strings.Split(out.String(), "\n") {
		rows = append(rows, strings.Join(strings.Fields(l), " "))
	}
	table := strings.Join(rows, "\n")
	for _, s := range []string{"2014-07-10 in 9 d next promoted", "2014-06-25 6 d ago expiry alert", "2014-07-05 in 4 d next generated"} {
		if !strings.Contains(table, s) {
			t.Errorf("table lacks %q:\n%s", s, out.String())
		}
	}
}

func TestEveryThresholdIsUsed(t *testing.T) {
	p := lifecycle.Policy{GenerationThreshold: 30 * lifecycle.Day, PromotionThreshold: 10 * lifecycle.Day, CriticalThreshold: 3 * lifecycle.Day, CertificateDuration: 730 * lifecycle.Day}
	tl := Compute(Cert{NotAfter: date("2030-03-31")}, Options{Policy: p, AlertDays: 45})
	want := map[string]string{Alert: "2030-02-14", Generated: "2030-03-01", Promoted: "2030-03-11", Critical: "2030-03-28", NextExpiry: "2032-02-29"}
	for name, d := range want {
		if m, _ := tl.Get(name); day(m.Date) != d {
			t.Errorf("%s = %s, want %s", name, day(m.Date), d)
		}
	}
}

func TestObservedNextAndCriticalCap(t *testing.T) {
	p := lifecycle.DefaultPolicy()
	tl := Compute(Cert{NotAfter: date("2014-07-25")}, Options{Policy: p, NextPublished: date("2014-07-21")})
	if m, _ := tl.Get(Generated); day(m.Date) != "2014-07-21" || !strings.Contains(m.Note, "observed") {
		t.Errorf("generated = %+v", m)
	}
	// 2014-07-21 + 5 d is past the critical threshold (07-23): promoted then.
	if m, _ := tl.Get(Promoted); day(m.Date) != "2014-07-23" {
		t.Errorf("promoted = %+v", m)
	}
}

func TestChart(t *testing.T) {
	tl := Compute(Cert{NotBefore: date("2013-07-25"), NotAfter: date("2014-07-25")}, Options{Policy: lifecycle.DefaultPolicy()})
	var out bytes.Buffer
	WriteChart(&out, tl, date("2014-07-01"), 40)
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if len(lines) != 8 { // axis, bar, 5 milestones up to expiry, today
		t.Fatalf("chart has %d lines:\n%s", len(lines), out.String())
	}
	star := func(name string) int {
		for _, l := range lines {
			if strings.HasPrefix(l, name) {
				return strings.IndexByte(l, '*')
			}
		}
		t.Fatalf("no %s row:\n%s", name, out.String())
		return 0
	}
	if !(star(Alert) < star(Generated) && star(Generated) < star(Promoted) && star(Promoted) < star(Critical) && star(Critical) < star(Expires)) {
		t.Errorf("markers out of order:\n%s", out.String())
	}
	today := lines[len(lines)-1]
	if c := strings.IndexByte(today, '^'); !(c > star(Alert) && c < star(Generated)) {
		t.Errorf("today marker misplaced:\n%s", out.String())
	}
}

func TestForProvider(t *testing.T) {
	primary := fixtures.NewCert(t, "primary", date("2013-07-25"), date("2014-07-25"))
	next := fixtures.NewCert(t, "next", date("2014-07-06"), date("2015-07-06"))
	p, err := ops.Parse(fixtures.JWKS(t, next, primary), "test")
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{Policy: lifecycle.DefaultPolicy()}
	tl, method, err := ForProvider(p, opt, date("2014-07-07"), "")
	if err != nil || tl.Cert.Subject != "CN=primary" || !strings.Contains(method, "thresholds") {
		t.Fatalf("%v %q %+v", err, method, tl.Cert)
	}
	if m, _ := tl.Get(Promoted); day(m.Date) != "2014-07-11" {
		t.Errorf("promoted %s, want the observed next + 5 d", day(m.Date))
	}
	// Long after: every certificate expired; the newest is shown.
	tl, method, _ = ForProvider(p, opt, date("2020-01-01"), "")
	if tl.Cert.Subject != "CN=next" || !strings.Contains(method, "newest") {
		t.Errorf("expired: %q %+v", method, tl.Cert)
	}
	bare, _ := ops.Parse(fixtures.Read(t, "jwks/google-oauth2-v3-certs.json"), "g")
	if _, _, err := ForProvider(bare, opt, date("2020-01-01"), ""); err != ErrNoCertificate {
		t.Errorf("bare keys: %v", err)
	}
}
