package guard

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/fedmeta"
	"github.com/keyroll/keyroll/verify"
)

// Defaults for the servers and the upstream transport.
const (
	// DefaultMaxHeaderBytes limits a request's header block; a token is at
	// most 16 KiB (jws.MaxTokenSize), which leaves room for cookies.
	DefaultMaxHeaderBytes = 64 << 10
	// DefaultReadHeaderTimeout bounds reading a request's header.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout bounds reading a whole request, body included.
	DefaultReadTimeout = 5 * time.Minute
	// DefaultWriteTimeout bounds a whole exchange, from the end of the
	// request header to the end of the response.
	DefaultWriteTimeout = 5 * time.Minute
	// DefaultIdleTimeout closes keep-alive connections idle this long.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultUpstreamTimeout bounds the wait for the upstream's response
	// header.
	DefaultUpstreamTimeout = time.Minute
	// SubjectHeader carries the verified token's sub to the upstream.
	SubjectHeader = "X-Keyroll-Subject"
)

// Config describes a guard. Issuer, Audience and Upstream are required;
// every zero field takes its default.
type Config struct {
	// Issuer is the token issuer: tokens must carry it as iss, and its
	// OpenID Connect discovery document (Issuer +
	// "/.well-known/openid-configuration") names the key set unless
	// Metadata is set.
	Issuer string
	// Metadata, if set, is the URL of the issuer's WS-Federation/SAML
	// federation metadata: its signing certificates are the keys, instead
	// of OpenID Connect discovery.
	Metadata string
	// MetadataSigner pins who must have signed Metadata (certificates or
	// thumbprints): unsigned metadata, or metadata signed by any other
	// key, is refused and the last good keys keep serving. Zero: a
	// signature present must verify under the document's own certificates
	// (intact, no trust decision; trust rests on https).
	MetadataSigner fedmeta.Pin
	// Audience lists the accepted aud values (at least one).
	Audience []string
	// Upstream is the absolute http or https URL requests are forwarded
	// to; its path is prefixed to the request's.
	Upstream *url.URL

	// CacheFile, if set, persists the last good key set so that a
	// restarted guard verifies tokens while the issuer is down.
	CacheFile string
	// RefreshInterval is the scheduled key refresh (default
	// verify.DefaultRefreshInterval, 1h); the issuer's Cache-Control
	// max-age schedules it sooner.
	RefreshInterval time.Duration
	// MinRefreshInterval is the unknown-key window: at most one key fetch
	// per window for tokens naming an unknown key (other fetches do not
	// count), and the floor under the issuer's max-age (default
	// verify.DefaultMinRefreshInterval, 10s). Microsoft's guidance is
	// RefreshInterval 24h, MinRefreshInterval 5m.
	MinRefreshInterval time.Duration

	// Clock drives refresh scheduling and claim checks (default: the wall
	// clock; tests pass a clock.Fake).
	Clock clock.Clock
	// KeyClient fetches discovery and keys (default: verify's client).
	KeyClient *http.Client
	// Transport carries requests to the upstream (default: NewTransport()).
	Transport http.RoundTripper
	// Observer, if set, receives the verifier's events besides the metrics.
	Observer verify.Observer
	// Logger receives refresh outcomes and upstream errors (default: none).
	Logger *slog.Logger

	// MaxHeaderBytes, ReadHeaderTimeout, ReadTimeout, WriteTimeout and
	// IdleTimeout configure the proxy's http.Server (see the defaults).
	MaxHeaderBytes    int
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
}

// ErrConfig: the configuration is incomplete or inconsistent.
var ErrConfig = errors.New("guard: bad configuration")

func (c *Config) check() error {
	switch {
	case c.Issuer == "":
		return fmt.Errorf("%w: an issuer URL is required", ErrConfig)
	case len(c.Audience) == 0:
		return fmt.Errorf("%w: at least one audience is required", ErrConfig)
	case c.Upstream == nil:
		return fmt.Errorf("%w: an upstream URL is required", ErrConfig)
	case c.Upstream.Scheme != "http" && c.Upstream.Scheme != "https" || c.Upstream.Host == "":
		return fmt.Errorf("%w: upstream %q is not an absolute http(s) URL", ErrConfig, c.Upstream.Redacted())
	case c.Upstream.RawQuery != "" || c.Upstream.Fragment != "":
		return fmt.Errorf("%w: upstream %q must not have a query or fragment", ErrConfig, c.Upstream.Redacted())
	case !c.MetadataSigner.IsZero() && c.Metadata == "":
		return fmt.Errorf("%w: a metadata signer is pinned but no metadata URL is given", ErrConfig)
	}
	if u, err := url.Parse(c.Issuer); err != nil || !u.IsAbs() || u.Host == "" {
		return fmt.Errorf("%w: issuer %q is not an absolute URL", ErrConfig, c.Issuer)
	}
	return nil
}

// checkIntervals checks the refresh intervals once defaults are set.
func (c *Config) checkIntervals() error {
	switch {
	case c.RefreshInterval <= 0 || c.MinRefreshInterval <= 0:
		return fmt.Errorf("%w: refresh intervals must be positive", ErrConfig)
	case c.RefreshInterval < c.MinRefreshInterval:
		return fmt.Errorf("%w: refresh interval %s is shorter than the minimum refresh interval %s",
			ErrConfig, c.RefreshInterval, c.MinRefreshInterval)
	}
	return nil
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.RefreshInterval, verify.DefaultRefreshInterval)
	def(&c.MinRefreshInterval, verify.DefaultMinRefreshInterval)
	def(&c.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	def(&c.ReadTimeout, DefaultReadTimeout)
	def(&c.WriteTimeout, DefaultWriteTimeout)
	def(&c.IdleTimeout, DefaultIdleTimeout)
	if c.MaxHeaderBytes == 0 {
		c.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Transport == nil {
		c.Transport = NewTransport()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
