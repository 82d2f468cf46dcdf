package adminapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
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

// tokenPath is the issuer's OAuth 2.0 token endpoint (issuer/oidc.TokenPath).
const tokenPath = "/oauth2/token"

// NotKeyrollError: what answered is not a keyroll issuer's admin API (a
// web server, a proxy's error page, another service on the port).
type NotKeyrollError struct {
	Status      int
	ContentType string
	URL         string
}

func (e *NotKeyrollError) Error() string {
	ct := e.ContentType
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		ct = mt
	}
	if ct == "" {
		ct = "no content type"
	}
	return fmt.Sprintf("%s is not a keyroll server: HTTP %d %s (check --server or KEYROLL_SERVER)", e.URL, e.Status, ct)
}

func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

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
	if method != http.MethodGet {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the issuer at %s: %w", c.BaseURL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAdminResponse))
	if err != nil {
		return fmt.Errorf("admin API: reading answer: %w", err)
	}
	if resp.StatusCode == http.StatusNoContent && out == nil {
		return nil
	}
	if !isJSON(resp.Header.Get("Content-Type")) {
		return &NotKeyrollError{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), URL: c.BaseURL}
	}
	if resp.StatusCode/100 != 2 {
		ae := &APIError{Status: resp.StatusCode}
		if json.Unmarshal(data, &ae.ErrorInfo) != nil || ae.ErrorInfo.Error == "" {
			return &NotKeyrollError{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), URL: c.BaseURL}
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

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 30 * time.Second}
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

// PublishTransient publishes a fresh transient key, as an emergency
// rollover would, for a rollover drill. It is never promoted; withdraw it
// with WithdrawTransient (the policy does after an hour otherwise).
func (c *Client) PublishTransient(ctx context.Context) (*KeyInfo, error) {
	var out KeyInfo
	if err := c.do(ctx, http.MethodPost, "/admin/keys/transient", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// WithdrawTransient unpublishes the transient key named by a thumbprint or
// kid and returns it. Withdrawing it again is not an error; a key that is
// not transient is refused (*APIError with code conflict).
func (c *Client) WithdrawTransient(ctx context.Context, key string) (*KeyInfo, error) {
	var out KeyInfo
	if err := c.do(ctx, http.MethodDelete, "/admin/keys/transient/"+url.PathEscape(key), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
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

// Apps lists every application.
func (c *Client) Apps(ctx context.Context) ([]AppInfo, error) {
	var out []AppInfo
	return out, c.do(ctx, http.MethodGet, "/admin/apps", nil, &out)
}

// App returns the application with this name or client id.
func (c *Client) App(ctx context.Context, app string) (*AppInfo, error) {
	var out AppInfo
	if err := c.do(ctx, http.MethodGet, "/admin/apps/"+url.PathEscape(app), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateApp registers an application; the answer holds its client secret,
// which is never shown again.
func (c *Client) CreateApp(ctx context.Context, req CreateAppRequest) (*CreatedApp, error) {
	var out CreatedApp
	if err := c.do(ctx, http.MethodPost, "/admin/apps", req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteApp removes the application with this name or client id.
func (c *Client) DeleteApp(ctx context.Context, app string) error {
	return c.do(ctx, http.MethodDelete, "/admin/apps/"+url.PathEscape(app), nil, nil)
}

// Override points an application's tokens at a signing key.
func (c *Client) Override(ctx context.Context, app string, req OverrideRequest) (*OverrideResult, error) {
	var out OverrideResult
	if err := c.do(ctx, http.MethodPost, "/admin/apps/"+url.PathEscape(app)+"/override", req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RestoreDefault removes an application's override: the primary signs.
func (c *Client) RestoreDefault(ctx context.Context, app string) (*OverrideResult, error) {
	var out OverrideResult
	if err := c.do(ctx, http.MethodPost, "/admin/apps/"+url.PathEscape(app)+"/restore-default", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Users lists the test users.
func (c *Client) Users(ctx context.Context) ([]UserInfo, error) {
	var out []UserInfo
	return out, c.do(ctx, http.MethodGet, "/admin/users", nil, &out)
}

// CreateUser makes a test user; an empty password asks the issuer to
// generate one, returned once in the answer.
func (c *Client) CreateUser(ctx context.Context, username, password string) (*CreatedUser, error) {
	var out CreatedUser
	if err := c.do(ctx, http.MethodPost, "/admin/users", CreateUserRequest{Username: username, Password: password}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteUser removes a test user.
func (c *Client) DeleteUser(ctx context.Context, username string) error {
	return c.do(ctx, http.MethodDelete, "/admin/users/"+url.PathEscape(username), nil, nil)
}

// Admins lists the console administrators.
func (c *Client) Admins(ctx context.Context) ([]AdminInfo, error) {
	var out []AdminInfo
	return out, c.do(ctx, http.MethodGet, "/admin/admins", nil, &out)
}

// CreateAdmin makes a console administrator; an empty password asks the
// issuer to generate one, returned once in the answer.
func (c *Client) CreateAdmin(ctx context.Context, name, password string) (*CreatedAdmin, error) {
	var out CreatedAdmin
	if err := c.do(ctx, http.MethodPost, "/admin/admins", CreateAdminRequest{Name: name, Password: password}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteAdmin removes a console administrator and ends their sessions.
func (c *Client) DeleteAdmin(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/admin/admins/"+url.PathEscape(name), nil, nil)
}

// AppToken has the issuer sign an access token for an application, as
// client_credentials would, without its secret (admin API; for tests).
func (c *Client) AppToken(ctx context.Context, app string) (*TokenResponse, error) {
	var out TokenResponse
	if err := c.do(ctx, http.MethodPost, "/admin/apps/"+url.PathEscape(app)+"/token", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ClientCredentials gets an access token for a confidential application
// from the issuer's token endpoint (client_secret_basic). An OAuth error
// answer is a *TokenError.
func (c *Client) ClientCredentials(ctx context.Context, clientID, secret string) (*TokenResponse, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.BaseURL, "/")+tokenPath, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("token endpoint: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the issuer at %s: %w", c.BaseURL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAdminResponse))
	if err != nil {
		return nil, fmt.Errorf("token endpoint: reading answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		te := &TokenError{Status: resp.StatusCode}
		if json.Unmarshal(data, te) != nil || te.Code == "" {
			te.Code, te.Description = "http_"+strconv.Itoa(resp.StatusCode), strings.TrimSpace(string(data[:min(len(data), 200)]))
		}
		return nil, te
	}
	var out TokenResponse
	if err := json.Unmarshal(data, &out); err != nil || out.AccessToken == "" {
		return nil, fmt.Errorf("token endpoint: unexpected answer (HTTP %d)", resp.StatusCode)
	}
	return &out, nil
}
