package drill

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/keyroll/keyroll/jws"
)

// Control is a request an API that checks tokens must refuse (API mode):
// without one refused, an acceptance of a key proves nothing.
type Control struct {
	// Name is what was sent: "no token", or "unknown key" (the
	// application's token re-signed by a key the issuer never published).
	Name string `json:"name"`
	// Outcome is rejected (401, 403) for an API that checks tokens.
	Outcome  Outcome  `json:"result"`
	Evidence Evidence `json:"evidence"`
}

// The controls' names.
const (
	ControlNoToken    = "no token"
	ControlUnknownKey = "unknown key"
)

// controls makes the control calls of API mode and records them.
func (r *run) controls(ctx context.Context, t *apiTester) error {
	for _, c := range []struct {
		name, says string
		token      func(context.Context) (string, Evidence, error)
	}{
		{ControlNoToken, "with no token", func(context.Context) (string, Evidence, error) { return "", Evidence{}, nil }},
		{ControlUnknownKey, "with a token signed by a key the issuer never published", t.forged},
	} {
		r.say("control: calling the API %s … ", c.says)
		tok, ev, err := c.token(ctx)
		out := Undecided
		if err == nil && ev.Error == "" {
			out, ev, err = t.call(ctx, tok)
		}
		if err != nil {
			r.say("interrupted\n")
			return err
		}
		res := Control{Name: c.name, Outcome: out, Evidence: ev}
		r.rep.Controls = append(r.rep.Controls, res)
		r.say("%s\n", res.line())
	}
	return nil
}

func (c Control) line() string {
	return Result{Outcome: c.Outcome, Evidence: c.Evidence}.Line()
}

// forged is the application's own token with a random kid, signed by a
// throwaway key of the same algorithm family that no issuer published.
func (t *apiTester) forged(ctx context.Context) (string, Evidence, error) {
	tok, err := t.admin.AppToken(ctx, t.app)
	if err != nil {
		if ctx.Err() != nil {
			return "", Evidence{}, ctx.Err()
		}
		return "", Evidence{Error: "the issuer minted no token to copy: " + err.Error()}, nil
	}
	real, err := jws.Parse(tok.AccessToken)
	if err != nil {
		return "", Evidence{Error: "the issuer's token does not parse: " + err.Error()}, nil
	}
	alg, key, err := throwawayKey(real.Header.Alg)
	if err == nil {
		h := jws.Header{Alg: alg, Kid: randomKID(), Typ: real.Header.Typ}
		var forged string
		if forged, err = jws.Sign(key, h, real.Payload); err == nil {
			return forged, Evidence{TokenKID: h.Kid}, nil
		}
	}
	return "", Evidence{Error: "making a token with an unpublished key: " + err.Error()}, nil
}

// throwawayKey makes a key for alg's family (ES256 when alg is none the
// drill knows) and the algorithm to sign with.
func throwawayKey(alg string) (string, crypto.Signer, error) {
	switch {
	case strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS"):
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		return alg, k, err
	case alg == "EdDSA":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return alg, k, err
	case alg == "ES384":
		k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		return alg, k, err
	case alg == "ES512":
		k, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
		return alg, k, err
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return "ES256", k, err
}

func randomKID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "drill-unpublished-" + base64.RawURLEncoding.EncodeToString(b)
}

// controlReason says why the controls leave the drill unable to decide,
// or "" when the API refused both.
func (r *Report) controlReason() string {
	var seen []string
	accepted := false
	for _, c := range r.Controls {
		if c.Outcome == Rejected {
			continue
		}
		accepted = accepted || c.Outcome == Accepted
		what := "with no token"
		if c.Name == ControlUnknownKey {
			what = "with a token signed by an unpublished key"
		}
		got := c.Evidence.Summary()
		if c.Evidence.Status != 0 {
			got = fmt.Sprintf("HTTP %d", c.Evidence.Status)
		}
		seen = append(seen, got+" "+what)
	}
	if len(seen) == 0 {
		return ""
	}
	verb := "was not seen to refuse"
	if accepted {
		verb = "accepts"
	}
	return fmt.Sprintf("the API %s requests without a valid token (%s); the drill cannot tell whether it checks keys", verb, strings.Join(seen, ", "))
}
