package guard

import (
	"crypto/sha1"
	"encoding/base64"
	"testing"
	"time"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/fedmeta"
	"github.com/keyroll/keyroll/jwk"
	"github.com/keyroll/keyroll/ops/opstest"
)

// A guard reading federation metadata with a pinned signer refuses
// metadata re-signed by another key or stripped of its signature, and keeps
// serving the last good keys.
func TestGuardPinnedMetadataRefusesResignedAndStripped(t *testing.T) {
	now := time.Now()
	legit := opstest.NewCert(t, "Legit STS", now.Add(-time.Hour), now.Add(400*24*time.Hour))
	attacker := opstest.NewCert(t, "ATTACKER", now.Add(-time.Hour), now.Add(400*24*time.Hour))
	const issuer = "https://sts.example.com/"
	srv := opstest.NewServer(t, false)
	srv.Set("/md", opstest.Metadata(t, issuer, legit, legit))
	up, ev, clk := newUpstream(t), newEvents(), clock.NewFake(now)
	cfg := Config{Issuer: issuer, Audience: []string{testAudience}, Upstream: up.URL(), Clock: clk, Observer: ev.observer(),
		Metadata: srv.URL + "/md", MetadataSigner: fedmeta.Pin{Thumbprints: []string{jwk.SHA1Thumbprint(legit.Cert.Raw)}}}
	g := start(t, cfg)
	token := func(s opstest.Signing) string {
		sum := sha1.Sum(s.Cert.Raw)
		k := testKey{kid: base64.RawURLEncoding.EncodeToString(sum[:]), alg: "ES256", signer: s.Key}
		return k.sign(t, stdClaims(issuer, clk.Now()))
	}
	g.mustPass(token(legit))
	for name, doc := range map[string][]byte{
		"re-signed": opstest.Metadata(t, issuer, attacker, attacker, legit),
		"stripped":  opstest.Unsigned(t, issuer, attacker, legit),
	} {
		srv.Set("/md", doc)
		clk.Advance(time.Minute)
		g.mustReject(token(attacker)) // an unknown kid: the guard refetches and refuses the document
		if k := g.keyCount(); k != 1 {
			t.Fatalf("%s: the guard serves %d keys, want the last good 1", name, k)
		}
		g.mustPass(token(legit))
	}
}
