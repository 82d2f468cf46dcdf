package adminapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// ReadinessInfo is the fleet's readiness for the next rollover.
type ReadinessInfo struct {
	Now time.Time `json:"now"`
	// NextKey is the next key, if one is published.
	NextKey *KeyInfo `json:"next_key,omitempty"`
	// WithinSeconds is the warning window the verdicts were judged with.
	WithinSeconds int64          `json:"within_seconds"`
	Apps          []AppReadiness `json:"apps"`
}

// AppReadiness is one application's readiness. Times are RFC 3339; absent
// when there is none.
type AppReadiness struct {
	App      string `json:"app"`
	ClientID string `json:"client_id"`
	Protocol string `json:"protocol"`
	// Override is the thumbprint the application is pinned to, with its
	// key's state and when that key stops being published.
	Override      string     `json:"override,omitempty"`
	OverrideState string     `json:"override_state,omitempty"`
	OverrideUntil *time.Time `json:"override_until,omitempty"`
	// LastKeyFetch is its latest fetch of the JWKS or metadata through its
	// URL (?appid=); null when none is recorded.
	LastKeyFetch *time.Time `json:"last_key_fetch"`
	// HasNextKey: it fetched a key set holding the next key; null when no
	// next key is published.
	HasNextKey *bool      `json:"has_next_key"`
	NextKID    string     `json:"next_kid,omitempty"`
	PromoteAt  *time.Time `json:"promote_at,omitempty"`
	// LastDrill is its most recent drill; null when never drilled.
	LastDrill *DrillSummary `json:"last_drill"`
	Verdict   string        `json:"verdict"` // READY, AT RISK, NOT READY, UNKNOWN
	Reason    string        `json:"reason"`
}

// DrillSummary is a drill in a readiness row.
type DrillSummary struct {
	ID       int64     `json:"id"`
	Finished time.Time `json:"finished"`
	Verdict  string    `json:"verdict"`
	// ForCurrentKeys: the drill tested the current primary or next key.
	ForCurrentKeys bool `json:"for_current_keys"`
}

// DrillRecordInfo is a stored drill: its verdict, per-key results and the
// full report with its evidence.
type DrillRecordInfo struct {
	ID       int64          `json:"id,omitempty"`
	App      string         `json:"app,omitempty"`
	ClientID string         `json:"client_id,omitempty"`
	Mode     string         `json:"mode"`
	Target   string         `json:"target"`
	Verdict  string         `json:"verdict"`
	Reason   string         `json:"reason"`
	Started  time.Time      `json:"started"`
	Finished time.Time      `json:"finished"`
	Keys     []DrillKeyInfo `json:"keys"`
	// Report is the drill's JSON report (keyroll drill --json).
	Report json.RawMessage `json:"report,omitempty"`
}

// DrillKeyInfo is one key a drill tested.
type DrillKeyInfo struct {
	KID        string `json:"kid,omitempty"`
	Thumbprint string `json:"thumbprint,omitempty"`
	State      string `json:"state"`   // next, primary, retired or fresh
	Outcome    string `json:"outcome"` // accepted, rejected or undecided
}

// Readiness returns every application's readiness; within is the warning
// window for the next promotion (0: the server's default).
func (c *Client) Readiness(ctx context.Context, within time.Duration) (*ReadinessInfo, error) {
	q := url.Values{}
	if within > 0 {
		q.Set("within", fmt.Sprint(int64(within/time.Second)))
	}
	var out ReadinessInfo
	if err := c.do(ctx, http.MethodGet, "/admin/readiness?"+q.Encode(), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RecordDrill stores a drill of an application and returns it with its id.
func (c *Client) RecordDrill(ctx context.Context, app string, rec DrillRecordInfo) (*DrillRecordInfo, error) {
	var out DrillRecordInfo
	if err := c.do(ctx, http.MethodPost, "/admin/apps/"+url.PathEscape(app)+"/drills", rec, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Drills returns an application's drill history, newest first, at most
// limit (0: all).
func (c *Client) Drills(ctx context.Context, app string, limit int) ([]DrillRecordInfo, error) {
	var out []DrillRecordInfo
	return out, c.do(ctx, http.MethodGet, fmt.Sprintf("/admin/apps/%s/drills?limit=%d", url.PathEscape(app), limit), nil, &out)
}
