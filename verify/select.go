package verify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keyroll/keyroll/jws"
)

// missError: the key set lacks the key the token needs. The verifier
// refreshes and looks again; if that does not help, explain says why.
// key describes what the token names ("kid \"x\""); err, set instead for
// a token that names no key, is the answer as it stands.
type missError struct {
	key string
	err error
}

func (m *missError) Error() string {
	if m.err != nil {
		return m.err.Error()
	}
	return ErrUnknownKey.Error() + ": " + m.key
}

// explain turns a miss that no refresh cured into the error to return.
func (m *missError) explain(out missOutcome, ks *KeySet) error {
	if m.err != nil {
		return m.err
	}
	e := &UnknownKeyError{Key: m.key, ThrottledUntil: out.throttledUntil, UnreachableSince: out.since, Err: out.err}
	if ks != nil {
		e.Fetched = ks.fetched
	}
	return e
}

// maxMissRefreshes bounds the refreshes one token may ask for: one joined
// fetch that began before it arrived, then one of its own.
const maxMissRefreshes = 3

// signedBy finds the key that signed tok and checks the signature,
// refreshing on a miss (see [Cache.refreshOnMiss]) unless ks is fresh:
// fetched for this very token.
// It returns the key and the set it was found in.
func (v *Verifier) signedBy(ctx context.Context, ks *KeySet, fresh bool, tok *jws.Token, sum *[32]byte, fam family, now time.Time) (*keyEntry, *KeySet, error) {
	e, err := v.trySet(ks, tok, sum, fam)
	var out missOutcome
	for range maxMissRefreshes {
		if fresh {
			break
		}
		if _, ok := err.(*missError); !ok {
			return e, ks, err
		}
		out = v.cache.refreshOnMiss(ctx, ks, now)
		if out.ks != nil && out.ks != ks {
			ks = out.ks
			e, err = v.trySet(ks, tok, sum, fam)
		}
		if out.final {
			break
		}
	}
	if miss, ok := err.(*missError); ok {
		return nil, ks, miss.explain(out, ks)
	}
	return e, ks, err
}

// trySet selects candidate keys by kid, x5t or x5t#S256 (or, when the
// token names none, every key of the alg's type) and tries them.
func (v *Verifier) trySet(ks *KeySet, tok *jws.Token, sum *[32]byte, fam family) (*keyEntry, error) {
	h := &tok.Header
	var ids []int32
	var name, val string
	switch {
	case h.Kid != "":
		name, val = "kid", h.Kid
		ids = ks.byKID[h.Kid]
		if ids == nil {
			ids = ks.byX5T[h.Kid] // Entra ID and AD FS: kid == x5t
		}
		if ids == nil && h.X5t != "" {
			ids = ks.byX5T[h.X5t]
		}
	case h.X5t != "":
		name, val = "x5t", h.X5t
		ids = ks.byX5T[h.X5t]
	case h.X5tS256 != "":
		name, val = "x5t#S256", h.X5tS256
		ids = ks.byS256[h.X5tS256]
	default:
		return v.tryAnonymous(ks, tok, sum, fam)
	}
	if ids == nil {
		return nil, &missError{key: name + " " + clip(val)}
	}
	return v.tryKeys(ks, ids, tok, sum, fam)
}

// tryAnonymous tries a token without kid/x5t against every usable key of
// its type, up to the configured bound. A failure counts as a miss: a
// refresh may bring the key that signed it.
func (v *Verifier) tryAnonymous(ks *KeySet, tok *jws.Token, sum *[32]byte, fam family) (*keyEntry, error) {
	ids := ks.byFamily[fam]
	switch {
	case len(ids) == 0:
		return nil, &missError{key: "none named, and the set has no " + familyNames[fam] + " key"}
	case len(ids) > v.tries:
		return nil, fmt.Errorf("%w: %d %s keys, at most %d are tried", ErrAmbiguousKey, len(ids), familyNames[fam], v.tries)
	}
	e, err := v.tryKeys(ks, ids, tok, sum, fam)
	if errors.Is(err, ErrBadSignature) {
		return nil, &missError{err: err}
	}
	return e, err
}

// tryKeys returns the first candidate that fits the token and verifies
// its signature. A bad signature outranks a misfit in the error.
func (v *Verifier) tryKeys(ks *KeySet, ids []int32, tok *jws.Token, sum *[32]byte, fam family) (*keyEntry, error) {
	var firstErr error
	for _, id := range ids {
		e := &ks.entries[id]
		if err := fits(e, &tok.Header, fam); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		err := jws.VerifySignatureSHA256(tok.Header.Alg, e.key.Public, tok.SigningInput, sum, tok.Signature)
		if err == nil {
			return e, nil
		}
		firstErr = signatureErr(err)
	}
	return nil, firstErr
}

// fits checks that key e may verify a token with header h: usable, of the
// alg's type, with the same alg if it names one, and the same x5t.
func fits(e *keyEntry, h *jws.Header, fam family) error {
	switch {
	case e.unusable != nil:
		return fmt.Errorf("%w: key %s: %w", ErrKeyMismatch, clip(e.key.KID), e.unusable)
	case e.fam != fam:
		return fmt.Errorf("%w: key %s is %s, token alg is %s", ErrKeyMismatch, clip(e.key.KID), familyNames[e.fam], h.Alg)
	case e.key.Alg != "" && e.key.Alg != h.Alg:
		return fmt.Errorf("%w: key %s is for %s, token alg is %s", ErrKeyMismatch, clip(e.key.KID), e.key.Alg, h.Alg)
	case h.X5t != "" && e.x5t != "" && h.X5t != e.x5t:
		return fmt.Errorf("%w: token x5t %s is not key %s's", ErrKeyMismatch, clip(h.X5t), clip(e.key.KID))
	}
	return nil
}

// signatureErr maps a jws verification failure: a key jws refuses is a
// misfit, anything else a bad signature (the jws reason stays wrapped).
func signatureErr(err error) error {
	if errors.Is(err, jws.ErrWeakKey) || errors.Is(err, jws.ErrKeyMismatch) {
		return fmt.Errorf("%w: %w", ErrKeyMismatch, err)
	}
	return fmt.Errorf("%w: %w", ErrBadSignature, err)
}
