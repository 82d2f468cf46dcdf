package verify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Reasons a token is rejected. Every error returned by [Verifier.Verify]
// matches exactly one of these with [errors.Is], or is one of the struct
// errors below; [ResultOf] classifies any of them.
var (
	// ErrMalformed: the token is not an acceptable JWS. The jws sentinel
	// that says what is wrong (none, HMAC, embedded jwk, crit, duplicate
	// header member, oversize, ...) is wrapped too.
	ErrMalformed = errors.New("verify: malformed token")
	// ErrAlgorithm: the token's alg is not on the verifier's allow-list.
	ErrAlgorithm = errors.New("verify: algorithm not allowed")
	// ErrNoKeys: no usable key set yet (the first fetch failed and nothing
	// was persisted).
	ErrNoKeys = errors.New("verify: no usable keys")
	// ErrStale: the cached keys are older than the configured maximum
	// staleness, or the federation metadata they came from has passed its
	// validUntil. The verifier fails closed.
	ErrStale = errors.New("verify: cached keys are stale")
	// ErrUnknownKey: the token names a key (kid, x5t or x5t#S256) that is
	// not in the key set. The error returned is an [*UnknownKeyError]
	// saying whether a refresh ran, was throttled or failed.
	ErrUnknownKey = errors.New("verify: unknown key")
	// ErrAmbiguousKey: the token names no key and more keys of its type
	// than the configured bound could have signed it.
	ErrAmbiguousKey = errors.New("verify: token names no key and too many keys match")
	// ErrKeyMismatch: the selected key cannot verify this token: its type
	// does not fit alg, its own alg differs, its use is not "sig", its x5t
	// differs from the header's, or the key itself is unacceptable.
	ErrKeyMismatch = errors.New("verify: key does not fit the token")
	// ErrBadSignature: the signature does not verify. A more precise jws
	// sentinel (non-canonical ECDSA, bad RSA key, ...) may be wrapped too.
	ErrBadSignature = errors.New("verify: bad signature")
	// ErrMalformedClaims: the payload is not a JSON object with well-typed
	// registered claims, or repeats one.
	ErrMalformedClaims = errors.New("verify: malformed claims")
	// ErrMissingClaim: a required claim (exp, or iss/aud when checked) is absent.
	ErrMissingClaim = errors.New("verify: missing claim")
	// ErrUnknownIssuer: a [Registry] has no verifier for the token's iss.
	ErrUnknownIssuer = errors.New("verify: unknown issuer")
)

// Reasons a refresh is refused. The last good key set keeps serving.
var (
	// ErrUnusableSet: the document parsed but holds no usable signing key.
	ErrUnusableSet = errors.New("verify: key set has no usable signing key")
	// ErrTooLarge: the response is larger than the size limit.
	ErrTooLarge = errors.New("verify: response too large")
	// ErrMetadataExpired: federation metadata whose validUntil has passed.
	ErrMetadataExpired = errors.New("verify: federation metadata expired (validUntil)")
	// ErrDiscovery: the discovery document is unusable (wrong issuer,
	// missing or insecure jwks_uri, not JSON).
	ErrDiscovery = errors.New("verify: bad discovery document")
	// ErrFetchTimeout: a caller gave up waiting for a fetch after the fetch timeout.
	ErrFetchTimeout = errors.New("verify: key fetch timed out")
)

// ExpiredError: the token's exp (plus the allowed skew) is not after now.
type ExpiredError struct {
	Expiry time.Time // the exp claim
	Now    time.Time // the verifier's clock
}

// Error says when the token expired.
func (e *ExpiredError) Error() string {
	return fmt.Sprintf("verify: token expired at %s (now %s)",
		e.Expiry.UTC().Format(time.RFC3339), e.Now.UTC().Format(time.RFC3339))
}

// NotYetValidError: the token's nbf, or its iat, lies in the future by more
// than the allowed skew.
type NotYetValidError struct {
	Claim string    // "nbf" or "iat"
	At    time.Time // the claim's value
	Now   time.Time // the verifier's clock
}

// Error says which claim lies in the future.
func (e *NotYetValidError) Error() string {
	return fmt.Sprintf("verify: token %s %s is in the future (now %s)", e.Claim,
		e.At.UTC().Format(time.RFC3339), e.Now.UTC().Format(time.RFC3339))
}

// AudienceError: none of the token's aud values is accepted.
type AudienceError struct {
	Got []string // the token's aud values (may be empty)
}

// Error lists the audiences the token carries.
func (e *AudienceError) Error() string {
	if len(e.Got) == 0 {
		return "verify: token has no audience"
	}
	return "verify: token audience " + quoteList(e.Got, 4) + " not accepted"
}

// IssuerError: the token's iss is not the configured issuer (after
// resolving {tenantid} from tid), or not the issuer named by the key's own
// issuer member (KeyID set).
type IssuerError struct {
	Got   string // the token's iss
	Want  string // the expected issuer or template
	KeyID string // set when the mismatch is with the key's issuer member
}

// Error says which issuer was expected.
func (e *IssuerError) Error() string {
	if e.KeyID != "" {
		return fmt.Sprintf("verify: token issuer %s does not match the issuer %s of key %s",
			clip(e.Got), clip(e.Want), clip(e.KeyID))
	}
	return fmt.Sprintf("verify: token issuer %s is not %s", clip(e.Got), clip(e.Want))
}

// UnknownKeyError: the token names a key the key set lacks, and a refresh
// did not bring it. Exactly one of three things happened: the keys were
// fetched (at Fetched) and the key is not among them; no fetch ran because
// one for another unknown key ran less than the unknown-key window ago
// (ThrottledUntil); or the fetch failed (UnreachableSince, Err).
// errors.Is(err, [ErrUnknownKey]) holds.
type UnknownKeyError struct {
	Key              string    // what the token names, e.g. `kid "abc"`
	Fetched          time.Time // when the keys looked in were fetched or confirmed
	ThrottledUntil   time.Time // non-zero: no fetch ran; the next may start at this time
	UnreachableSince time.Time // non-zero: the fetch failed, as every one since this time
	Err              error     // why the fetch failed, when it did
}

// Error says what the cache did about the key.
func (e *UnknownKeyError) Error() string {
	const f = time.RFC3339
	switch {
	case !e.UnreachableSince.IsZero():
		return fmt.Sprintf("%s %s: key provider unreachable since %s (%v); keys from %s",
			ErrUnknownKey, e.Key, e.UnreachableSince.UTC().Format(f), e.Err, e.Fetched.UTC().Format(f))
	case !e.ThrottledUntil.IsZero():
		return fmt.Sprintf("%s %s: key refresh throttled until %s; keys from %s",
			ErrUnknownKey, e.Key, e.ThrottledUntil.UTC().Format(f), e.Fetched.UTC().Format(f))
	}
	return fmt.Sprintf("%s %s: no such key after a refresh at %s", ErrUnknownKey, e.Key, e.Fetched.UTC().Format(f))
}

// Is makes errors.Is(err, ErrUnknownKey) hold.
func (e *UnknownKeyError) Is(target error) bool { return target == ErrUnknownKey }

// StatusError: an HTTP fetch got a status other than 200 (or 304).
type StatusError struct {
	URL        string
	StatusCode int
}

// Error names the URL and status.
func (e *StatusError) Error() string {
	return fmt.Sprintf("verify: GET %s: HTTP status %d", e.URL, e.StatusCode)
}

// Result classifies a verification outcome for counters and metrics.
type Result uint8

// Results, one per rejection reason. NumResults is the count.
const (
	ResultOK Result = iota
	ResultMalformed
	ResultAlgorithm
	ResultNoKeys
	ResultStale
	ResultUnknownKey
	ResultKeyMismatch
	ResultBadSignature
	ResultClaims
	ResultExpired
	ResultNotYetValid
	ResultAudience
	ResultIssuer
	ResultCanceled
	NumResults
)

var resultNames = [NumResults]string{
	"ok", "malformed", "algorithm", "no_keys", "stale", "unknown_key", "key_mismatch",
	"bad_signature", "claims", "expired", "not_yet_valid", "audience", "issuer", "canceled",
}

// String returns a short snake_case label, suitable as a metric label.
func (r Result) String() string {
	if r < NumResults {
		return resultNames[r]
	}
	return fmt.Sprintf("result(%d)", uint8(r))
}

// ResultOf classifies an error returned by Verify; nil is ResultOK.
func ResultOf(err error) Result {
	if err == nil {
		return ResultOK
	}
	var (
		exp *ExpiredError
		nyv *NotYetValidError
		aud *AudienceError
		iss *IssuerError
	)
	switch {
	case errors.As(err, &exp):
		return ResultExpired
	case errors.As(err, &nyv):
		return ResultNotYetValid
	case errors.As(err, &aud):
		return ResultAudience
	case errors.As(err, &iss), errors.Is(err, ErrUnknownIssuer):
		return ResultIssuer
	}
	return resultOfSentinel(err)
}

var sentinelResults = []struct {
	err error
	r   Result
}{
	{ErrMalformed, ResultMalformed},
	{ErrAlgorithm, ResultAlgorithm},
	{ErrNoKeys, ResultNoKeys},
	{ErrStale, ResultStale},
	{ErrUnknownKey, ResultUnknownKey},
	{ErrAmbiguousKey, ResultUnknownKey},
	{ErrKeyMismatch, ResultKeyMismatch},
	{ErrBadSignature, ResultBadSignature},
	{ErrMalformedClaims, ResultClaims},
	{ErrMissingClaim, ResultClaims},
	{context.Canceled, ResultCanceled},
	{context.DeadlineExceeded, ResultCanceled},
	{ErrFetchTimeout, ResultNoKeys},
}

func resultOfSentinel(err error) Result {
	for _, s := range sentinelResults {
		if errors.Is(err, s.err) {
			return s.r
		}
	}
	return ResultMalformed
}

// clip quotes an attacker-influenced string for an error message, cut to a
// sane length.
func clip(s string) string {
	const max = 100
	if len(s) > max {
		s = s[:max] + "..."
	}
	return fmt.Sprintf("%q", s)
}

func quoteList(xs []string, max int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, x := range xs {
		if i == max {
			fmt.Fprintf(&b, " ...%d more", len(xs)-max)
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(clip(x))
	}
	b.WriteByte(']')
	return b.String()
}
