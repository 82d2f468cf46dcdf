package issuer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client talks to a running issuer's admin API.
type Client struct {
	BaseURL string       // e.g. http://127.0.0.1:8080
	Token   string       // admin token; empty for a loopback server without one
	HTTP    *http.Client // nil: a client with a 30 s timeout
}

// APIError is an error answer of the admin API.
type APIError struct {
	Status int
	ErrorInfo
}

func (e *APIError) Error() string { return fmt.Sprintf("%s (HTTP %d)", e.ErrorInfo.Error, e.Status) }

// maxAdminResponse bounds what the client reads from the server.
const maxAdminResponse = 16 << 20

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+path, body)
	if err != nil {
		return fmt.Errorf("admin API: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the issuer at %s: %w", c.BaseURL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAdminResponse))
	if err != nil {
		return fmt.Errorf("admin API: reading answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		ae := &APIError{Status: resp.StatusCode}
		if json.Unmarshal(data, &ae.ErrorInfo) != nil || ae.ErrorInfo.Error == "" {
			ae.ErrorInfo.Error = strings.TrimSpace(string(data[:min(len(data), 200)]))
		}
		return ae
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("admin API: unexpected answer from %s: %w", path, err)
	}
	return nil
}

// Keys lists every key.
func (c *Client) Keys(ctx context.Context) ([]KeyInfo, error) {
	var out []KeyInfo
	return out, c.do(ctx, http.MethodGet, "/admin/keys", nil, &out)
}

// Rotate asks for a rotation and returns the transitions it made.
func (c *Client) Rotate(ctx context.Context, urgent bool) ([]EventInfo, error) {
	var out []EventInfo
	return out, c.do(ctx, http.MethodPost, "/admin/keys/rotate", RotateRequest{Urgent: urgent}, &out)
}

// Revoke revokes the key named by a thumbprint or kid.
func (c *Client) Revoke(ctx context.Context, key string) ([]EventInfo, error) {
	var out []EventInfo
	return out, c.do(ctx, http.MethodPost, "/admin/keys/revoke", RevokeRequest{Key: key}, &out)
}

// Events returns audit events since a time (zero: all), at most limit (0: all).
func (c *Client) Events(ctx context.Context, since time.Time, limit int) ([]EventInfo, error) {
	q := url.Values{}
	if !since.IsZero() {
		q.Set("since", since.UTC().Format(time.RFC3339))
	}
	if limit > 0 {
		q.Set("limit", fmt.Sprint(limit))
	}
	var out []EventInfo
	return out, c.do(ctx, http.MethodGet, "/admin/events?"+q.Encode(), nil, &out)
}

// Timeline returns the schedule over months before and after now.
func (c *Client) Timeline(ctx context.Context, months int) (*TimelineInfo, error) {
	var out TimelineInfo
	return &out, c.do(ctx, http.MethodGet, fmt.Sprintf("/admin/timeline?months=%d", months), nil, &out)
}
