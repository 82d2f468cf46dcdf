package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/keyroll/keyroll/jwk"
)

// A Source retrieves one issuer's key document. The built-in sources are
// [Discovery], [DiscoveryAt], [JWKSURL], [FederationMetadata], [StaticFile]
// and [StaticBytes]; users may write their own. A Source must be safe for
// concurrent use; the [Cache] never runs two fetches of one source at once.
type Source interface {
	// Name identifies the source (normally its URL) in errors, events and
	// the persisted cache, where it guards against loading another
	// source's keys.
	Name() string
	// Fetch retrieves the current document. When req.ETag or
	// req.LastModified (validators an earlier Fetch returned) still hold,
	// it returns NotModified instead.
	// It must honour ctx and req.MaxSize.
	Fetch(ctx context.Context, req FetchRequest) (Document, error)
	// Decode extracts the keys from a document body, fresh from Fetch or
	// loaded from a [CacheStore]. Individual bad keys go to Skipped.
	Decode(body []byte) (Decoded, error)
}

// FetchRequest is what the [Cache] hands to [Source.Fetch].
type FetchRequest struct {
	Client       *http.Client // never nil
	ETag         string       // validator from the last good fetch, "" for none
	LastModified string       // Last-Modified of the last good fetch, "" for none
	MaxSize      int64        // body size limit; 0 means the source's default
}

// Document is one fetched key document.
type Document struct {
	Body         []byte
	ETag         string        // opaque validator to send next time ("" for none)
	LastModified string        // opaque Last-Modified validator to send next time ("" for none)
	MaxAge       time.Duration // freshness lifetime the server announced; 0 if none
	NoCache      bool          // the server asked for revalidation (no-cache, max-age=0)
	NotModified  bool          // the validator held; Body is empty
}

// Decoded is the key content of a document.
type Decoded struct {
	Issuer        string // the issuer the document names (metadata entityID, discovery issuer), if any
	Keys          []jwk.Key
	Skipped       []error       // keys left out, and why
	ValidUntil    time.Time     // metadata validUntil; zero for none
	CacheDuration time.Duration // metadata cacheDuration; 0 for none
}

// defaultClient refuses to follow a redirect from https to http.
var defaultClient = &http.Client{
	CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("verify: too many redirects")
		}
		if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
			return errors.New("verify: redirect from https to " + req.URL.Scheme + " refused")
		}
		return nil
	},
}

// httpGet fetches url with the conditional ETag and the size limit.
func httpGet(ctx context.Context, req FetchRequest, url, accept string, limit int64) (Document, error) {
	if req.MaxSize > 0 {
		limit = req.MaxSize
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Document{}, fmt.Errorf("verify: bad URL: %w", err)
	}
	hr.Header.Set("Accept", accept)
	if req.ETag != "" {
		hr.Header.Set("If-None-Match", req.ETag)
	}
	if req.LastModified != "" {
		hr.Header.Set("If-Modified-Since", req.LastModified)
	}
	resp, err := req.Client.Do(hr)
	if err != nil {
		return Document{}, fmt.Errorf("verify: GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	maxAge, noCache := cacheControl(resp.Header)
	switch {
	case resp.StatusCode == http.StatusNotModified && (req.ETag != "" || req.LastModified != ""):
		return Document{ETag: req.ETag, LastModified: req.LastModified, MaxAge: maxAge, NoCache: noCache, NotModified: true}, nil
	case resp.StatusCode != http.StatusOK:
		return Document{}, &StatusError{URL: url, StatusCode: resp.StatusCode}
	}
	body, err := readLimited(resp.Body, limit)
	if err != nil {
		return Document{}, fmt.Errorf("verify: GET %s: %w", url, err)
	}
	return Document{Body: body, ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified"),
		MaxAge: maxAge, NoCache: noCache}, nil
}

// readLimited reads at most limit bytes and fails with ErrTooLarge beyond.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	return body, nil
}

// cacheControl reads max-age (less the Age header) and the no-cache
// directives of a response.
func cacheControl(h http.Header) (maxAge time.Duration, noCache bool) {
	for _, v := range h.Values("Cache-Control") {
		for _, d := range strings.Split(v, ",") {
			d = strings.ToLower(strings.TrimSpace(d))
			switch {
			case d == "no-cache", d == "no-store":
				noCache = true
			case strings.HasPrefix(d, "max-age="):
				n, err := strconv.ParseInt(strings.Trim(d[len("max-age="):], `"`), 10, 64)
				if err == nil && n >= 0 && n < 1<<31 {
					maxAge = time.Duration(n) * time.Second
					noCache = noCache || n == 0
				}
			}
		}
	}
	if age, err := strconv.ParseInt(h.Get("Age"), 10, 64); err == nil && age > 0 && maxAge > 0 {
		maxAge -= time.Duration(min(age, 1<<31)) * time.Second
		if maxAge <= 0 {
			maxAge, noCache = 0, true
		}
	}
	return maxAge, noCache
}
