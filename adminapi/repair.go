package adminapi

import (
	"context"
	"net/http"
)

// RepairRequest asks for the repair of an inconsistent key set; without
// Apply it is a dry run that writes nothing.
type RepairRequest struct {
	Apply bool `json:"apply"`
}

// ProblemInfo is one reason the key set cannot keep rolling.
type ProblemInfo struct {
	Kind        string   `json:"kind"` // several-primaries, no-primary, unpromotable-next, several-next
	Thumbprints []string `json:"thumbprints,omitempty"`
	Text        string   `json:"text"`
}

// RepairInfo is what a repair found and did (or would do).
type RepairInfo struct {
	Problems []ProblemInfo `json:"problems"`
	Events   []EventInfo   `json:"events"`  // the transitions, applied or planned
	Applied  bool          `json:"applied"` // false for a dry run or nothing to do
}

// Repair shows (apply false) or applies the smallest change that makes the
// issuer's key set consistent again.
func (c *Client) Repair(ctx context.Context, apply bool) (*RepairInfo, error) {
	var out RepairInfo
	err := c.do(ctx, http.MethodPost, "/admin/keys/repair", RepairRequest{Apply: apply}, &out)
	return &out, err
}
