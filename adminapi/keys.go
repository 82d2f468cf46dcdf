package adminapi

import (
	"time"

	"github.com/keyroll/keyroll/jwk"
	"github.com/keyroll/keyroll/lifecycle"
)

// KeyInfo is a key as the admin API shows it. Dates are RFC 3339 in JSON.
type KeyInfo struct {
	KID         string     `json:"kid"`
	Thumbprint  string     `json:"thumbprint"` // SHA-1, upper-case hex
	SHA256      string     `json:"sha256"`
	Alg         string     `json:"alg"`
	State       string     `json:"state"`
	NotBefore   time.Time  `json:"not_before"`
	NotAfter    time.Time  `json:"not_after"`
	CreatedAt   time.Time  `json:"created_at"`
	PromoteAt   *time.Time `json:"promote_at,omitempty"`   // next keys: scheduled promotion
	PromotedAt  *time.Time `json:"promoted_at,omitempty"`  // when it became primary
	RetiredAt   *time.Time `json:"retired_at,omitempty"`   // when it stopped signing
	UnpublishAt *time.Time `json:"unpublish_at,omitempty"` // retired keys: end of publication
	EndedAt     *time.Time `json:"ended_at,omitempty"`     // revoked or expired
	Urgent      bool       `json:"urgent,omitempty"`
	Transient   bool       `json:"transient,omitempty"`
	// PromotionWaitsFor names the applications the promotion of this next
	// key waits for (serve --promotion-gate evidence); PromoteBy is when it
	// is promoted at the latest (the critical threshold).
	PromotionWaitsFor []string   `json:"promotion_waits_for,omitempty"`
	PromoteBy         *time.Time `json:"promote_by,omitempty"`
	// Damaged says why the stored private key of a key that will never
	// sign again does not open; empty when it opens or was not tried.
	Damaged string `json:"damaged,omitempty"`
}

// EventInfo is an audit event as the admin API shows it.
type EventInfo struct {
	Time       time.Time `json:"time"`
	Actor      string    `json:"actor"`
	KID        string    `json:"kid"`
	Thumbprint string    `json:"thumbprint,omitempty"`
	From       string    `json:"from"`
	To         string    `json:"to"`
	Reason     string    `json:"reason"`
	// App names the application of an application event (an override set
	// or removed, a fallback to the primary, ...); From and To are empty.
	App string `json:"app,omitempty"`
}

// TimelineInfo is the computed schedule: what happened in the window and
// what the policy will do.
type TimelineInfo struct {
	Now      time.Time   `json:"now"`
	From     time.Time   `json:"from"`
	Until    time.Time   `json:"until"`
	Keys     []KeyInfo   `json:"keys"`
	Past     []EventInfo `json:"past"`
	Forecast []EventInfo `json:"forecast"`
}

// RotateRequest asks for a rotation.
type RotateRequest struct {
	Urgent bool `json:"urgent"`
}

// RevokeRequest names the key to revoke by thumbprint or kid.
type RevokeRequest struct {
	Key string `json:"key"`
}

// ErrorInfo is the body of every admin API error.
type ErrorInfo struct {
	Error string `json:"error"`
	Code  string `json:"code"` // not_found, conflict, bad_request, unauthorized, internal
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// NewKeyInfo renders a key for the admin API.
func NewKeyInfo(k lifecycle.Key, p lifecycle.Policy) KeyInfo {
	ki := KeyInfo{
		KID: k.KID, Thumbprint: k.Thumbprint, SHA256: jwk.SHA256Thumbprint(k.Cert), Alg: k.Alg, State: string(k.State),
		NotBefore: k.NotBefore, NotAfter: k.NotAfter, CreatedAt: k.CreatedAt,
		PromotedAt: optTime(k.PromotedAt), RetiredAt: optTime(k.RetiredAt), EndedAt: optTime(k.EndedAt),
		Urgent: k.Urgent, Transient: k.Transient,
	}
	if k.State == lifecycle.Next && !k.Transient && p.AutoRollover {
		ki.PromoteAt = optTime(k.PromoteAt)
	}
	if k.State == lifecycle.Retired {
		ki.UnpublishAt = optTime(p.UnpublishAt(k))
	}
	return ki
}

// NewEventInfo renders an audit event for the admin API.
func NewEventInfo(e lifecycle.Event) EventInfo {
	return EventInfo{Time: e.Time, Actor: e.Actor, KID: e.KID, Thumbprint: e.Thumbprint, From: string(e.From), To: string(e.To), Reason: e.Reason, App: e.App}
}
