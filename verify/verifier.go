package verify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/jws"
)

// maxAlgs is the number of algorithms verify supports.
const maxAlgs = 10

// Verifier checks tokens of one issuer against the keys of one [Cache].
// It is safe for concurrent use; with the keys cached, Verify takes no
// lock and makes no network call.
type Verifier struct {
	issuer  string
	tmpl    issuerTemplate
	auds    []string
	algs    [maxAlgs]string // allow-list; unused slots empty
	skew    time.Duration
	tries   int
	tenants []string
	skipIss bool
	skipAud bool

	cache  *Cache
	repeat *repeatCache // nil: disabled
	clk    clock.Clock
	obs    Observer
	stats  [NumResults]atomic.Uint64
}

// New returns a verifier for tokens whose iss is issuer, with its own
// [Cache] of src's keys. issuer may be an Entra ID template containing
// {tenantid}, resolved from each token's tid claim. Pass [WithAudience];
// see [Option] for the rest.
func New(issuer string, src Source, opts ...Option) (*Verifier, error) {
	c, err := NewCache(src, opts...)
	if err != nil {
		return nil, err
	}
	return NewWithCache(issuer, c, opts...)
}

// NewWithCache is [New] with an existing cache, for several verifiers
// (audiences) of the same issuer sharing one key set.
func NewWithCache(issuer string, c *Cache, opts ...Option) (*Verifier, error) {
	if c == nil {
		return nil, errors.New("verify: nil cache")
	}
	s, err := newSettings(opts)
	if err != nil {
		return nil, err
	}
	if err := s.checkVerifier(issuer); err != nil {
		return nil, err
	}
	if len(s.algs) > maxAlgs {
		return nil, errors.New("verify: too many algorithms")
	}
	v := &Verifier{
		issuer: issuer, tmpl: parseTemplate(issuer), auds: append([]string(nil), s.audiences...),
		skew: s.skew, tries: s.maxTries, tenants: s.tenants, skipIss: s.skipIss, skipAud: s.skipAud,
		cache: c, repeat: newRepeatCache(s.repeatSize), clk: s.clock, obs: observerOrNop(s.observer),
	}
	copy(v.algs[:], s.algs)
	if v.clk == nil {
		v.clk = c.clk
	}
	return v, nil
}

// Issuer returns the configured issuer (or template).
func (v *Verifier) Issuer() string { return v.issuer }

// Cache returns the verifier's key cache.
func (v *Verifier) Cache() *Cache { return v.cache }

// Verify checks a compact JWS token: its form, its alg against the
// allow-list, its signature against the cached keys (refreshing when it
// names an unknown key), then iss, the key's issuer, aud, exp, nbf and
// iat. ctx bounds only a refresh wait. On success the claims are returned;
// otherwise the error says why (see [ResultOf]). A token that verified
// before is answered from the repeat-token cache ([WithRepeatCache]) with
// its key still checked to be in the set and its times re-checked.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	var sum, input [32]byte
	var pre *[32]byte // SHA-256 of the signing input, when computed
	if v.repeat != nil {
		var ok bool
		if sum, input, ok = tokenSums(token); ok {
			pre = &input
		}
		if c, hit, err := v.lookup(ctx, &sum, v.clk.Now()); hit {
			v.record(err)
			return c, err
		}
	}
	tok, err := jws.Parse(token)
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrMalformed, err)
		v.record(err)
		return nil, err
	}
	c, e, ks, err := v.verifyToken(ctx, tok, nil, pre)
	v.record(err)
	if err == nil && v.repeat != nil {
		v.repeat.remember(&sum, c, e, ks, len(token))
	}
	return c, err
}

func (v *Verifier) record(err error) {
	r := ResultOf(err)
	v.stats[r].Add(1)
	v.obs.Verified(VerifyEvent{Issuer: v.issuer, Result: r, Err: err})
}

// Count returns how many verifications ended with r.
func (v *Verifier) Count(r Result) uint64 {
	if r >= NumResults {
		return 0
	}
	return v.stats[r].Load()
}

// verifyParsed verifies a parsed token; pre holds claims a Registry
// already scanned (unverified) to route the token, or nil.
func (v *Verifier) verifyParsed(ctx context.Context, tok *jws.Token, pre *Claims) (*Claims, error) {
	c, _, _, err := v.verifyToken(ctx, tok, pre, nil)
	return c, err
}

// verifyToken is verifyParsed that also returns the key that verified the
// signature and the set it came from; sum, if not nil, is the SHA-256 of
// tok's signing input.
func (v *Verifier) verifyToken(ctx context.Context, tok *jws.Token, pre *Claims, sum *[32]byte) (*Claims, *keyEntry, *KeySet, error) {
	fam, err := v.allowed(tok.Header.Alg)
	if err != nil {
		return nil, nil, nil, err
	}
	now := v.clk.Now()
	ks, fresh, err := v.cache.keys(ctx, now)
	if err != nil {
		return nil, nil, nil, err
	}
	e, ks, err := v.signedBy(ctx, ks, fresh, tok, sum, fam, now)
	if err != nil {
		return nil, nil, nil, err
	}
	c := pre
	if c == nil {
		c = new(Claims)
		if err := scanClaims(payloadString(tok), c); err != nil {
			return nil, nil, nil, err
		}
	}
	c.Header, c.KeyID = tok.Header, e.key.KID
	if err := v.checkClaims(c, e, now); err != nil {
		return nil, nil, nil, err
	}
	return c, e, ks, nil
}

// allowed checks alg against the allow-list and returns its key family.
func (v *Verifier) allowed(alg string) (family, error) {
	for _, a := range v.algs {
		if a == "" {
			break
		}
		if a == alg {
			fam, _ := algFamily(alg)
			return fam, nil
		}
	}
	return famNone, fmt.Errorf("%w: %s", ErrAlgorithm, clip(alg))
}

// issuerTemplate is an issuer split around {tenantid}.
type issuerTemplate struct {
	pre, suf string
	ok       bool // the issuer is a template
}

func parseTemplate(iss string) issuerTemplate {
	pre, suf, ok := strings.Cut(iss, tenantPlaceholder)
	return issuerTemplate{pre: pre, suf: suf, ok: ok}
}

// match reports whether iss is the template resolved with tid, without
// building the string.
func (t issuerTemplate) match(exact, iss, tid string) bool {
	if !t.ok {
		return iss == exact
	}
	return validTenant(tid) && len(iss) == len(t.pre)+len(tid)+len(t.suf) &&
		strings.HasPrefix(iss, t.pre) && strings.HasSuffix(iss, t.suf) &&
		iss[len(t.pre):len(t.pre)+len(tid)] == tid
}

// validTenant accepts tenant ids that cannot change an issuer's structure:
// 1..64 letters, digits or '-' (Entra ID tids are GUIDs).
func validTenant(tid string) bool {
	if tid == "" || len(tid) > 64 {
		return false
	}
	for i := 0; i < len(tid); i++ {
		c := tid[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
