// Package watch monitors the keys identity providers publish and reports
// changes as events: a key added (a next certificate was published) or
// removed, a certificate near or past its expiry, a metadata signature that
// stopped verifying, a provider unreachable for longer than a threshold.
//
// [Observe] is the pure decision: given what was seen before (a [Provider]
// in the [State]), a fresh fetch and the time, it returns the events and
// updates the state. A [Watcher] runs it over several providers once (for
// cron) or on an interval, keeps the state in a JSON file written
// atomically, prints events, hands them to a [Notifier] (webhook with retry)
// and an [Observer] (metrics).
package watch

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Kind is the type of an event.
type Kind string

// The event kinds.
const (
	KeyAdded         Kind = "key_added"         // a key appeared (e.g. the next certificate)
	KeyRemoved       Kind = "key_removed"       // a key is no longer published
	Expiring         Kind = "expiring"          // a published certificate expires within the warning period
	ExpiredPublished Kind = "expired_published" // a certificate past NotAfter is still published
	NoValidKey       Kind = "no_valid_key"      // every published certificate is expired: nothing valid signs
	ValidKey         Kind = "valid_key"         // a valid certificate is published again
	SignatureInvalid Kind = "signature_invalid" // the metadata signature no longer verifies
	SignatureValid   Kind = "signature_valid"   // it verifies again
	Unreachable      Kind = "unreachable"       // fetches have failed for longer than the threshold
	Reachable        Kind = "reachable"         // a fetch succeeded after an unreachable event
	// keyroll serve --readiness-webhook: an application of the issuer
	// became AT RISK or NOT READY for the next rollover.
	AppAtRisk   Kind = "app_at_risk"
	AppNotReady Kind = "app_not_ready"
)

// Event is one change worth telling an operator about.
type Event struct {
	// ID identifies the event for receivers that deduplicate (a webhook may
	// deliver an event twice if keyroll stops between sending and recording).
	ID         string     `json:"id"`
	Time       time.Time  `json:"time"`
	Provider   string     `json:"provider"`
	Kind       Kind       `json:"kind"`
	KID        string     `json:"kid,omitempty"`
	Thumbprint string     `json:"thumbprint,omitempty"` // SHA-1, or jwk:<RFC 7638> for a key without certificate
	NotAfter   *time.Time `json:"not_after,omitempty"`
	Message    string     `json:"message"`
	// Readiness events name the application, its verdict and why, and
	// the next key's promotion date (absent without a next key).
	App       string     `json:"app,omitempty"`
	ClientID  string     `json:"client_id,omitempty"`
	Verdict   string     `json:"verdict,omitempty"`
	Reason    string     `json:"reason,omitempty"`
	PromoteAt *time.Time `json:"promote_at,omitempty"`
}

func newEvent(now time.Time, provider string, kind Kind, k *KeyState, msg string) Event {
	e := Event{Time: now.UTC(), Provider: provider, Kind: kind, Message: msg}
	if k != nil {
		e.KID, e.Thumbprint = k.KID, k.ID
		if !k.NotAfter.IsZero() {
			na := k.NotAfter.UTC()
			e.NotAfter = &na
		}
	}
	sum := sha256.Sum256([]byte(e.Time.Format(time.RFC3339Nano) + "|" + provider + "|" + string(kind) + "|" + e.Thumbprint))
	e.ID = hex.EncodeToString(sum[:8])
	return e
}

// String is the event as one line for standard output.
func (e Event) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s", e.Time.Format(time.RFC3339), e.Kind, e.Provider)
	if e.KID != "" {
		fmt.Fprintf(&b, " kid=%s", e.KID)
	}
	if e.Thumbprint != "" {
		fmt.Fprintf(&b, " thumbprint=%s", e.Thumbprint)
	}
	if e.NotAfter != nil {
		fmt.Fprintf(&b, " not_after=%s", e.NotAfter.Format(time.DateOnly))
	}
	fmt.Fprintf(&b, " %q", e.Message)
	return b.String()
}
