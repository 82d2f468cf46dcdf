package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// DefaultTimeout bounds each document fetch.
const DefaultTimeout = 30 * time.Second

// maxRedirects is how many redirects a fetch follows.
const maxRedirects = 5

// ErrInsecureURL: a plain-http URL to a host other than loopback.
var ErrInsecureURL = errors.New("refusing plain http for signing keys (anyone on the path could swap them); use https")

// FetchError is a failed HTTP fetch.
type FetchError struct {
	URL    string
	Status int // HTTP status; 0 when no response arrived
	Err    error
}

// Error implements error.
func (e *FetchError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("GET %s: HTTP %d", e.URL, e.Status)
	}
	return fmt.Sprintf("GET %s: %v", e.URL, e.Err)
}

// Unwrap returns the underlying error.
func (e *FetchError) Unwrap() error { return e.Err }

// Loader reads provider documents. The zero value is ready to use.
type Loader struct {
	// Client makes the requests; nil means a client with Timeout that
	// follows at most 5 redirects and never from https to http.
	Client *http.Client
	// Timeout bounds each fetch; 0 means DefaultTimeout.
	Timeout time.Duration
	// EntraAuthority is where --tenant looks; "" means DefaultEntraAuthority.
	EntraAuthority string
	// AllowHTTP permits plain http to any host, not just loopback.
	AllowHTTP bool
	// Pin, unless zero, is the pinned metadata signer: every source must be
	// federation metadata signed under it, or Load fails (see ParsePinned).
	Pin Pin
}

// Load reads the signing keys src publishes: OIDC discovery is followed to
// its jwks_uri; a URL that is none of the document kinds is retried as an
// issuer (URL + "/.well-known/openid-configuration").
func (l *Loader) Load(ctx context.Context, src Source) (*Published, error) {
	if err := src.Validate(); err != nil {
		return nil, err
	}
	switch {
	case src.Tenant != "":
		return l.loadURL(ctx, tenantURL(l.EntraAuthority, src.Tenant), false)
	case src.ADFS != "":
		u, _ := adfsURL(src.ADFS)
		return l.loadURL(ctx, u, false)
	case isURL(src.Location):
		return l.loadURL(ctx, src.Location, true)
	}
	data, err := readFile(src.Location)
	if err != nil {
		return nil, err
	}
	return l.fromDocument(ctx, data, src.Location)
}

func (l *Loader) loadURL(ctx context.Context, u string, tryIssuer bool) (*Published, error) {
	data, err := l.fetch(ctx, u)
	if err == nil {
		var p *Published
		if p, err = l.fromDocument(ctx, data, u); err == nil || !errors.Is(err, ErrUnknownFormat) {
			return p, err
		}
	}
	var fe *FetchError
	if !tryIssuer || strings.Contains(u, "/.well-known/") || (errors.As(err, &fe) && fe.Status == 0) {
		return nil, err
	}
	well := strings.TrimSuffix(u, "/") + "/.well-known/openid-configuration"
	data, err2 := l.fetch(ctx, well)
	if err2 != nil {
		return nil, fmt.Errorf("%w (and as an issuer: %v)", err, err2)
	}
	return l.fromDocument(ctx, data, well)
}

// fromDocument parses data, following a discovery document's jwks_uri.
func (l *Loader) fromDocument(ctx context.Context, data []byte, location string) (*Published, error) {
	kind, err := Detect(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", location, err)
	}
	if kind != KindDiscovery {
		p, err := ParsePinned(data, location, l.Pin)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", location, err)
		}
		return p, nil
	}
	if !l.Pin.IsZero() {
		return nil, fmt.Errorf("%w; %s is an OIDC discovery document", ErrPinNeedsMetadata, location)
	}
	d, err := parseDiscovery(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", location, err)
	}
	jwksURL, err := resolve(location, d.JWKSURI)
	if err != nil {
		return nil, fmt.Errorf("%s: jwks_uri: %w", location, err)
	}
	if err := noDowngrade(location, jwksURL); err != nil {
		return nil, fmt.Errorf("%s: jwks_uri: %w", location, err)
	}
	keys, err := l.fetch(ctx, jwksURL)
	if err != nil {
		return nil, err
	}
	p, err := Parse(keys, jwksURL)
	if err != nil {
		return nil, fmt.Errorf("%s (jwks_uri of %s): %w", jwksURL, location, err)
	}
	p.Discovery = location
	p.DeclaredSigner = d.SigningKID
	if d.Issuer != "" {
		p.Issuer = d.Issuer
	}
	return p, nil
}

// resolve makes ref absolute against base (a URL, or a file for which ref
// must already be absolute).
func resolve(base, ref string) (string, error) {
	r, err := url.Parse(strings.TrimSpace(ref))
	if err != nil {
		return "", err
	}
	if r.IsAbs() {
		return r.String(), nil
	}
	if !isURL(base) {
		return "", fmt.Errorf("%q is relative", ref)
	}
	b, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	return b.ResolveReference(r).String(), nil
}

// fetch GETs u with the size and time limits.
func (l *Loader) fetch(ctx context.Context, u string) ([]byte, error) {
	if err := l.checkURL(u); err != nil {
		return nil, &FetchError{URL: u, Err: err}
	}
	timeout := l.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, &FetchError{URL: u, Err: err}
	}
	req.Header.Set("Accept", "application/json, application/xml;q=0.9, */*;q=0.5")
	req.Header.Set("User-Agent", "keyroll")
	resp, err := l.client().Do(req)
	if err != nil {
		return nil, &FetchError{URL: u, Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &FetchError{URL: u, Status: resp.StatusCode}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxDocumentSize+1))
	if err != nil {
		return nil, &FetchError{URL: u, Err: err}
	}
	if len(data) > MaxDocumentSize {
		return nil, &FetchError{URL: u, Err: ErrTooLarge}
	}
	return data, nil
}

func (l *Loader) client() *http.Client {
	c := http.Client{Timeout: l.Timeout}
	if l.Client != nil {
		c = *l.Client
	}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		if err := noDowngrade(via[0].URL.String(), req.URL.String()); err != nil {
			return err
		}
		return l.checkURL(req.URL.String())
	}
	return &c
}

// noDowngrade refuses to go from an https document to a plain-http one (a
// redirect or a jwks_uri), loopback included: what the operator asked to
// fetch over TLS must not send keyroll to a local http service instead.
func noDowngrade(from, to string) error {
	f, err1 := url.Parse(from)
	t, err2 := url.Parse(to)
	if err1 != nil || err2 != nil {
		return errors.Join(err1, err2)
	}
	if strings.EqualFold(f.Scheme, "https") && !strings.EqualFold(t.Scheme, "https") {
		return fmt.Errorf("%w: %s leads from https to %s", ErrInsecureURL, from, t.Redacted())
	}
	return nil
}

// checkURL refuses plain http except to loopback hosts (or when AllowHTTP).
func (l *Loader) checkURL(u string) error {
	p, err := url.Parse(u)
	if err != nil {
		return err
	}
	switch strings.ToLower(p.Scheme) {
	case "https":
		return nil
	case "http":
		if l.AllowHTTP || isLoopback(p.Hostname()) {
			return nil
		}
		return ErrInsecureURL
	}
	return fmt.Errorf("unsupported URL scheme %q", p.Scheme)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// readFile reads a local document with the size limit.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%s is a directory", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxDocumentSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > MaxDocumentSize {
		return nil, fmt.Errorf("%s: %w", path, ErrTooLarge)
	}
	return data, nil
}

// ReadFile reads a local file with the MaxDocumentSize limit; commands use
// it for every file they are given.
func ReadFile(path string) ([]byte, error) { return readFile(path) }
