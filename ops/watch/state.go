package watch

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/keyroll/keyroll/ops"
	"github.com/keyroll/keyroll/ops/internal/atomicfile"
)

// StateVersion is the version of the state file format.
const StateVersion = 1

// MaxStateSize bounds the state file read.
const MaxStateSize = ops.MaxDocumentSize

// State is what the watcher remembers between runs.
type State struct {
	Version   int                  `json:"version"`
	Providers map[string]*Provider `json:"providers"`
	// Pending are events not yet delivered to the webhook.
	Pending []Event `json:"pending_webhook,omitempty"`
}

// Provider is what was last seen of one provider.
type Provider struct {
	// Keys are the published keys by ID (thumbprint, or jwk:<RFC 7638>).
	Keys map[string]*KeyState `json:"keys"`
	// Seen is set once a fetch has succeeded: later key changes are events.
	Seen         bool      `json:"seen"`
	LastAttempt  time.Time `json:"last_attempt,omitzero"`
	LastSuccess  time.Time `json:"last_success,omitzero"`
	FailingSince time.Time `json:"failing_since,omitzero"`
	LastError    string    `json:"last_error,omitempty"`
	ReportedDown bool      `json:"reported_unreachable,omitempty"`
	// Signature is "valid", "invalid" or "unsigned" (metadata), "" for a JWKS.
	Signature string `json:"signature,omitempty"`
	// ReportedNoValid is set while every published certificate is expired
	// and that has been reported.
	ReportedNoValid bool `json:"reported_no_valid,omitempty"`
}

// KeyState is one published key as remembered.
type KeyState struct {
	ID              string    `json:"id"`
	KID             string    `json:"kid"`
	Subject         string    `json:"subject,omitempty"`
	NotAfter        time.Time `json:"not_after,omitzero"`
	FirstSeen       time.Time `json:"first_seen"`
	WarnedExpiring  bool      `json:"warned_expiring,omitempty"`
	ReportedExpired bool      `json:"reported_expired,omitempty"`
}

// NewState returns an empty state.
func NewState() *State {
	return &State{Version: StateVersion, Providers: map[string]*Provider{}}
}

// LoadState reads the state file; a missing file is an empty state, an
// unreadable one an error (it is never silently reset: that would forget
// which keys were seen).
func LoadState(path string) (*State, error) {
	data, err := ops.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return NewState(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("state file: %w", err)
	}
	return parseState(data, path)
}

// parseState decodes a state file read from path.
func parseState(data []byte, path string) (*State, error) {
	st := NewState()
	if err := json.Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("state file %s is corrupt (%v); move it away to start over", path, err)
	}
	if st.Version != StateVersion {
		return nil, fmt.Errorf("state file %s has version %d, this keyroll reads %d", path, st.Version, StateVersion)
	}
	if st.Providers == nil {
		st.Providers = map[string]*Provider{}
	}
	for name, p := range st.Providers {
		if p == nil {
			return nil, fmt.Errorf("state file %s is corrupt (provider %q is null); move it away to start over", path, name)
		}
	}
	return st, nil
}

// Save writes the state atomically.
func (s *State) Save(path string) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(data, '\n'), 0o600)
}

// provider returns the state of name, creating it.
func (s *State) provider(name string) *Provider {
	p := s.Providers[name]
	if p == nil {
		p = &Provider{Keys: map[string]*KeyState{}}
		s.Providers[name] = p
	}
	if p.Keys == nil {
		p.Keys = map[string]*KeyState{}
	}
	return p
}
