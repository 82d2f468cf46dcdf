package store

import (
	"context"
	"time"
)

// Document names a published document whose fetches the issuer records.
type Document string

// The recorded documents.
const (
	DocJWKS      Document = "jwks"      // the JWKS
	DocMetadata  Document = "metadata"  // the federation metadata
	DocDiscovery Document = "discovery" // the OIDC discovery document (names no key)
)

// HasKeys reports whether fetching d hands the client the published keys.
func (d Document) HasKeys() bool { return d == DocJWKS || d == DocMetadata }

// Fetch is one day's fetches of one document by one client, rolled up: the
// evidence of which key set an application (or an unattributed client)
// holds.
type Fetch struct {
	Day      time.Time // the UTC day (midnight) the fetches fell on
	ClientID string    // the application's client id; "" for an unattributed client
	// Client names an unattributed client by its User-Agent and coarsened
	// address ("Go-http-client/1.1 @ 203.0.113.0/24"); "" for an application.
	Client      string
	Document    Document
	Count       int64     // requests answered, 304s included
	NotModified int64     // of which 304 Not Modified: the client holds the generation
	LastAt      time.Time // the latest fetch
	// Generation is the store generation of the key set served by the
	// latest fetch (a 304 proves the client holds it).
	Generation int64
	// NextKID is the kid of the next key in the set served by the latest
	// fetch; "" when it held none.
	NextKID string
}

// DrillRecord is one rollover drill of an application, as the drill
// reported it through the admin API.
type DrillRecord struct {
	ID       int64 // assigned by the store, growing
	ClientID string
	App      string // the application's name at the time
	Mode     string // api or web
	Target   string // the URL tested
	Verdict  string // ready, not ready, inconclusive, interrupted, failed
	Reason   string
	Started  time.Time
	Finished time.Time
	Keys     []DrillKey // the per-key results
	// Report is the drill's whole report as JSON (evidence included).
	Report []byte
}

// DrillKey is one key a drill tested and what the application did with it.
type DrillKey struct {
	KID        string `json:"kid,omitempty"`
	Thumbprint string `json:"thumbprint,omitempty"`
	State      string `json:"state"`   // next, primary, retired, fresh
	Outcome    string `json:"outcome"` // accepted, rejected, undecided
}

// EvidenceStore keeps the evidence of the fleet's readiness for a
// rollover: rolled-up key fetches and drill history.
type EvidenceStore interface {
	// RecordFetches adds rollups: counts add up per (day, client id,
	// client, document); the fetch with the latest LastAt sets Generation
	// and NextKID. Days are truncated to UTC midnight.
	RecordFetches(ctx context.Context, fetches []Fetch) error
	// Fetches returns the rollups of days from since's day on, ordered by
	// day, client id, client and document.
	Fetches(ctx context.Context, since time.Time) ([]Fetch, error)
	// PruneFetches deletes the rollups of days before before's day and
	// returns how many went.
	PruneFetches(ctx context.Context, before time.Time) (int64, error)
	// PutDrill stores a drill record and returns its id.
	PutDrill(ctx context.Context, d DrillRecord) (int64, error)
	// Drills returns the drill records of an application (every
	// application when clientID is ""), newest first, at most limit (0: all).
	Drills(ctx context.Context, clientID string, limit int) ([]DrillRecord, error)
}

// FetchDay returns the UTC day of t, as Fetch.Day holds it.
func FetchDay(t time.Time) time.Time {
	return t.UTC().Truncate(24 * time.Hour)
}
