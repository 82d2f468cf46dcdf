package ops

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
)

// SignerGuess is which published key signs tokens now, as far as can be told
// from outside the provider.
type SignerGuess struct {
	Index  int    // into Published.Keys; -1 when unknown
	Method string // how it was chosen, in words for the operator
	// Estimate is true when Index is only a guess from AD FS's thresholds:
	// the provider may well sign with another key. Only a hint or a
	// verified metadata signature makes the signer known for certain.
	Estimate bool
}

// Known reports whether a signer was identified, for certain or by estimate.
func (g SignerGuess) Known() bool { return g.Index >= 0 }

// Certain reports whether the signer is known rather than estimated: it was
// named (--signer) or it verified the signed metadata document.
func (g SignerGuess) Certain() bool { return g.Known() && !g.Estimate }

// ErrSignerNotPublished: a key named as the signer (--signer) is not among
// the published keys.
var ErrSignerNotPublished = errors.New("the key named as the signer is not published")

// CheckHint returns an error wrapping ErrSignerNotPublished, listing the
// published kids, when hint is given but names no published key.
func (p *Published) CheckHint(hint string) error {
	if hint == "" || p.Find(hint) >= 0 {
		return nil
	}
	kids := make([]string, 0, len(p.Keys))
	for _, k := range p.Keys {
		kids = append(kids, k.KID)
	}
	return fmt.Errorf("--signer %q: %w by %s (give a kid, SHA-1 or SHA-256 thumbprint, or RFC 7638 thumbprint of one of: %s)",
		hint, ErrSignerNotPublished, p.Location, strings.Join(kids, ", "))
}

// Signer estimates the key that signs now. In order:
//
//  1. hint (a kid, SHA-1 thumbprint or RFC 7638 thumbprint, e.g. from the
//     header of a recent token), when given;
//  2. the certificate that verifies a signed metadata document: AD FS signs
//     its metadata with its primary token-signing certificate and Entra ID
//     with its current signing key;
//  3. the key the provider names as its signer (keyroll's issuer does, in
//     its discovery document);
//  4. AD FS thresholds: of the certificates valid at now, the newest one
//     published (NotBefore) at least pol.PromotionThreshold ago; when every
//     valid certificate is younger, the oldest of them.
//
// Only 1 to 3 are knowledge; 4 is marked Estimate. Keys without
// certificate dates (a bare JWKS) leave the signer unknown. A hint that
// names no published key leaves it unknown too; see CheckHint.
func (p *Published) Signer(pol lifecycle.Policy, now time.Time, hint string) SignerGuess {
	if hint != "" {
		if i := p.Find(hint); i >= 0 {
			return SignerGuess{Index: i, Method: "named on the command line"}
		}
		return SignerGuess{Index: -1, Method: fmt.Sprintf("the key named on the command line (%s) is not published", hint)}
	}
	if p.Signature.Valid {
		if i := p.Find(p.Signature.Signer); i >= 0 {
			return SignerGuess{Index: i, Method: "it signed the metadata document"}
		}
	}
	if p.DeclaredSigner != "" {
		if i := p.Find(p.DeclaredSigner); i >= 0 {
			return SignerGuess{Index: i, Method: "the provider names it as its signing key (keyroll_signing_kid in discovery)"}
		}
	}
	return byThresholds(p.Keys, pol, now)
}

func byThresholds(keys []Key, pol lifecycle.Policy, now time.Time) SignerGuess {
	promoted := now.Add(-pol.PromotionThreshold)
	best, oldest, dated := -1, -1, false
	for i, k := range keys {
		if !k.HasCert() {
			continue
		}
		dated = true
		if k.ExpiredAt(now) || k.NotBefore.After(now) {
			continue
		}
		if !k.NotBefore.After(promoted) && (best < 0 || k.NotBefore.After(keys[best].NotBefore)) {
			best = i
		}
		if oldest < 0 || k.NotBefore.Before(keys[oldest].NotBefore) {
			oldest = i
		}
	}
	method := fmt.Sprintf("estimate by AD FS thresholds: the newest certificate published at least %s ago", days(pol.PromotionThreshold))
	switch {
	case !dated:
		return SignerGuess{Index: -1, Method: "unknown: the keys carry no certificate dates"}
	case best >= 0:
		return SignerGuess{Index: best, Method: method, Estimate: true}
	case oldest >= 0:
		return SignerGuess{Index: oldest, Method: "estimate: every valid certificate is younger than the promotion threshold; the oldest of them", Estimate: true}
	}
	return SignerGuess{Index: -1, Method: "unknown: every published certificate has expired"}
}

// Find returns the index of the key whose kid, SHA-1 or SHA-256 thumbprint
// (any case and separators) or RFC 7638 thumbprint is ref, or -1.
func (p *Published) Find(ref string) int {
	norm := lifecycle.NormalizeThumbprint(ref)
	for i, k := range p.Keys {
		switch {
		case ref == k.KID, ref == k.JWKThumbprint, ref == "jwk:"+k.JWKThumbprint:
			return i
		case norm != "" && (norm == k.Thumbprint || norm == k.SHA256):
			return i
		}
	}
	return -1
}

// days prints a duration in whole days when it is one ("5 days").
func days(d time.Duration) string {
	if d%lifecycle.Day == 0 {
		n := d / lifecycle.Day
		if n == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", n)
	}
	return d.String()
}
