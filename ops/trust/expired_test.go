package trust

import (
	"testing"
)

// Fault (h): trust check said OK when every published certificate had
// expired.
func TestExpiredCertificatesNeverOK(t *testing.T) {
	primary, next, doc := seedPair(t)
	p := parse(t, doc)
	r := Check(p, read(t, pemOf(primary, next), "trusted"), opts("2018-01-01"))
	if r.Verdict != Broken {
		t.Fatalf("every certificate expired: %s (%s), want BROKEN", r.Verdict, r.Reason)
	}
	// Only the expired key trusted, the valid one not: never OK either.
	r = Check(p, read(t, pemOf(primary), "trusted"), opts("2014-08-01"))
	if r.Verdict != Broken {
		t.Fatalf("only an expired key trusted: %s (%s), want BROKEN", r.Verdict, r.Reason)
	}
}

// Fault (h): against keyroll's own issuer the estimate picked the retired
// key; the issuer names its signer in discovery, which wins.
func TestDeclaredSignerWins(t *testing.T) {
	_, _, doc := seedPair(t)
	p := parse(t, doc)
	now := date("2014-07-07") // the next key is 2 days old: the estimate picks the old one
	if g := p.Signer(opts("2014-07-07").Policy, now, ""); g.Index != 0 || !g.Estimate {
		t.Fatalf("estimate = %+v", g)
	}
	p.DeclaredSigner = p.Keys[1].KID
	g := p.Signer(opts("2014-07-07").Policy, now, "")
	if g.Index != 1 || !g.Certain() {
		t.Fatalf("declared signer not used: %+v", g)
	}
}
