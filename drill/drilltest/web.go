package drilltest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/issuer/oidc"
)

// WebConfig configures a WebApp.
type WebConfig struct {
	Issuer       string // issuer URL; its authorization and token endpoints are used
	ClientID     string
	ClientSecret string       // empty for a public client (PKCE only)
	RedirectURI  string       // the application's callback; its path is served
	Check        Check        // verifies the ID token (aud is the client id)
	HTTP         *http.Client // reaches the token endpoint; nil: http.DefaultClient
}

// WebApp signs users in with the authorization-code flow and PKCE: "/"
// says who is signed in, or sends a browser without a session to the
// issuer; the callback redeems the code, checks the ID token and its nonce,
// and sends the browser back to "/" with a session cookie. A refused ID
// token gets a 401 "Sign-in failed" page, as many applications show.
type WebApp struct {
	cfg      WebConfig
	callback string
	mu       sync.Mutex
	flows    map[string]flow   // by state
	sessions map[string]string // session cookie → subject
}

type flow struct{ verifier, nonce string }

// NewWebApp returns the application.
func NewWebApp(cfg WebConfig) (*WebApp, error) {
	u, err := url.Parse(cfg.RedirectURI)
	if err != nil || u.Path == "" || u.Path == "/" || cfg.Check == nil {
		return nil, errors.New("drilltest: a web app needs a redirect URI with a path and an ID token check")
	}
	if cfg.HTTP == nil {
		cfg.HTTP = http.DefaultClient
	}
	return &WebApp{cfg: cfg, callback: u.Path, flows: map[string]flow{}, sessions: map[string]string{}}, nil
}

// ServeHTTP implements http.Handler.
func (a *WebApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case a.callback:
		a.finish(w, r)
	case "/":
		a.home(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (a *WebApp) home(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie("toy_session"); err == nil {
		a.mu.Lock()
		sub, ok := a.sessions[c.Value]
		a.mu.Unlock()
		if ok {
			page(w, http.StatusOK, "Home", "Signed in as "+sub+".")
			return
		}
	}
	state, nonce, verifier := random(), random(), random()
	a.mu.Lock()
	a.flows[state] = flow{verifier: verifier, nonce: nonce}
	a.mu.Unlock()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {a.cfg.ClientID}, "redirect_uri": {a.cfg.RedirectURI},
		"scope": {"openid profile"}, "state": {state}, "nonce": {nonce},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	http.SetCookie(w, &http.Cookie{Name: "toy_state", Value: state, Path: "/", HttpOnly: true})
	http.Redirect(w, r, strings.TrimSuffix(a.cfg.Issuer, "/")+oidc.AuthorizePath+"?"+q.Encode(), http.StatusFound)
}

func (a *WebApp) finish(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	c, err := r.Cookie("toy_state")
	a.mu.Lock()
	f, ok := a.flows[state]
	delete(a.flows, state)
	a.mu.Unlock()
	if err != nil || c.Value != state || !ok {
		page(w, http.StatusBadRequest, "Sign-in failed", "Unknown sign-in attempt.")
		return
	}
	if e := q.Get("error"); e != "" {
		page(w, http.StatusBadRequest, "Sign-in failed", "The issuer said: "+e)
		return
	}
	claims, err := a.redeem(r, q.Get("code"), f)
	if err != nil {
		page(w, http.StatusUnauthorized, "Sign-in failed", err.Error())
		return
	}
	sid := random()
	a.mu.Lock()
	a.sessions[sid] = fmt.Sprint(claims["sub"])
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "toy_session", Value: sid, Path: "/", HttpOnly: true})
	http.Redirect(w, r, "/", http.StatusFound)
}

// redeem exchanges the code and checks the ID token and its nonce.
func (a *WebApp) redeem(r *http.Request, code string, f flow) (map[string]any, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {a.cfg.RedirectURI},
		"code_verifier": {f.verifier}, "client_id": {a.cfg.ClientID}}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, strings.TrimSuffix(a.cfg.Issuer, "/")+oidc.TokenPath, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if a.cfg.ClientSecret != "" {
		req.SetBasicAuth(url.QueryEscape(a.cfg.ClientID), url.QueryEscape(a.cfg.ClientSecret))
	}
	resp, err := a.cfg.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var tok adminapi.TokenResponse
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &tok) != nil || tok.IDToken == "" {
		var te adminapi.TokenError
		json.Unmarshal(body, &te)
		return nil, fmt.Errorf("token endpoint: HTTP %d %s", resp.StatusCode, te.Error())
	}
	claims, err := a.cfg.Check(r.Context(), tok.IDToken)
	if err != nil {
		return nil, fmt.Errorf("ID token refused: %w", err)
	}
	if claims["nonce"] != f.nonce {
		return nil, errors.New("ID token nonce does not match")
	}
	return claims, nil
}

func page(w http.ResponseWriter, code int, title, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	fmt.Fprintf(w, "<!doctype html><title>%s</title><p>%s</p>\n", html.EscapeString(title), html.EscapeString(text))
}

func random() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
