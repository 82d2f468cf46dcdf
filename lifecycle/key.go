// Package lifecycle is keyroll's rollover policy: the states a signing key
// moves through and the pure functions that decide, for a set of keys, a
// [Policy] and a point in time, what must happen next.
//
// # States
//
// A key is generated as [Next]: published, not yet signing. The policy
// promotes it to [Primary], the one key that signs, once it has been published
// for the promotion threshold; the old primary becomes [Retired] and stays
// published until every token it signed has expired everywhere, then it is
// [Expired]. [Revoked] withdraws a key at once. Keys are never deleted.
//
// # Decisions
//
// [Due] returns the single most urgent [Action] at a given time, [Apply]
// performs it on a key set, and [NextDue] says when the next action falls due.
// None of them does I/O or reads the clock, so ten simulated years run in
// milliseconds and a cluster member can re-check "still due?" inside a
// transaction before it writes.
package lifecycle

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// State is where a key is in its life.
type State string

// The key states. Only Next, Primary and Retired keys are published.
const (
	Next    State = "next"    // published, not yet signing
	Primary State = "primary" // published, the one key that signs
	Retired State = "retired" // published, no longer signs
	Revoked State = "revoked" // withdrawn at once, never published again
	Expired State = "expired" // past its certificate or its publication window; unpublished
)

// Published reports whether keys in state s appear in JWKS and metadata.
func (s State) Published() bool { return s == Next || s == Primary || s == Retired }

// Valid reports whether s is one of the five states.
func (s State) Valid() bool {
	switch s {
	case Next, Primary, Retired, Revoked, Expired:
		return true
	}
	return false
}

// Key is the public record of a signing key: everything but the private key.
type Key struct {
	KID        string    // JWS key id; fresh for every key, never reused
	Alg        string    // JWS algorithm: RS256, PS256, ES256 or EdDSA
	Thumbprint string    // SHA-1 of the certificate, upper-case hex, as Microsoft tools print it
	Cert       []byte    // self-signed X.509 certificate, DER
	NotBefore  time.Time // certificate validity
	NotAfter   time.Time
	State      State
	CreatedAt  time.Time // generated and published
	PromoteAt  time.Time // for a next key: when the policy promotes it
	PromotedAt time.Time // when it became primary (zero if never)
	RetiredAt  time.Time // when it stopped signing (zero if never)
	EndedAt    time.Time // when it was revoked or expired (zero if not)
	Urgent     bool      // promoted before it had been published for the promotion threshold
	Transient  bool      // published for a drill only; never promoted by the policy
}

// Signed reports whether the key has ever been the primary.
func (k Key) Signed() bool { return !k.PromotedAt.IsZero() }

// Event is one audited state transition.
type Event struct {
	Time       time.Time
	Actor      string // "policy", "admin", a user name, ...
	KID        string
	Thumbprint string
	From       State // empty when the key was created
	To         State
	Reason     string
	// App names the application an application event is about (an
	// override set or removed, a fallback to the primary, ...); such events
	// have no From or To. Empty for key events.
	App string
}

func (e Event) String() string {
	from := string(e.From)
	if from == "" {
		from = "(new)"
	}
	return fmt.Sprintf("%s %s %s %s→%s by %s: %s", e.Time.UTC().Format(time.RFC3339), e.KID, e.Thumbprint, from, e.To, e.Actor, e.Reason)
}

// Errors callers act on.
var (
	ErrUnknownKey    = errors.New("no such key")
	ErrNotPublished  = errors.New("key is not published")
	ErrNextExists    = errors.New("a next key is already published")
	ErrNoReplacement = errors.New("no replacement key is possible")
	ErrNoPrimary     = errors.New("no primary key")
)

// Find returns the index of the key whose thumbprint (SHA-1, any case, with or
// without spaces or colons) or kid is ref, or -1.
func Find(keys []Key, ref string) int {
	norm := NormalizeThumbprint(ref)
	for i, k := range keys {
		if k.KID == ref || (norm != "" && k.Thumbprint == norm) {
			return i
		}
	}
	return -1
}

// NormalizeThumbprint upper-cases a hex thumbprint and drops the spaces,
// colons and invisible marks that copies from certificate dialogs carry.
// It returns "" when what is left is not hex.
func NormalizeThumbprint(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', r >= 'A' && r <= 'F':
			b.WriteRune(r)
		case r >= 'a' && r <= 'f':
			b.WriteRune(r - 'a' + 'A')
		case r == ' ' || r == ':' || r == '\t' || r == '\u200e' || r == '\ufeff':
		default:
			return ""
		}
	}
	return b.String()
}

// Primary returns the index of the primary key, or -1.
func PrimaryIndex(keys []Key) int { return index(keys, Primary) }

// NextIndex returns the index of the (non-transient) next key, or -1.
func NextIndex(keys []Key) int {
	for i, k := range keys {
		if k.State == Next && !k.Transient {
			return i
		}
	}
	return -1
}

func index(keys []Key, s State) int {
	for i, k := range keys {
		if k.State == s {
			return i
		}
	}
	return -1
}

// PublishedKeys returns the keys that are published, in the order given.
func PublishedKeys(keys []Key) []Key {
	var out []Key
	for _, k := range keys {
		if k.State.Published() {
			out = append(out, k)
		}
	}
	return out
}
