package verify

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/keyroll/keyroll/clock"
)

// Defaults of the refresh policy and of verification.
const (
	// DefaultRefreshInterval is how often keys are re-fetched when nothing
	// asks for it sooner. It is shorter than Microsoft's 24 hours (seeds
	// 001/004) so that a key the provider withdraws (revoked after a
	// compromise) stops verifying within the hour; new keys never wait for
	// it, an unknown kid fetches at once. MicrosoftRefreshInterval is
	// reachable with [WithRefreshInterval].
	DefaultRefreshInterval = time.Hour
	// DefaultMinRefreshInterval is the unknown-key window: at most one
	// fetch per window is started for tokens naming an unknown key
	// (scheduled, initial and manual fetches do not count), and it is the
	// floor under Cache-Control max-age and the first retry after a
	// failure. Microsoft's libraries throttle for 5 minutes
	// (MicrosoftMinRefreshInterval), which refuses every token of a key
	// published and used within 5 minutes of any fetch; 10 seconds bounds a
	// random-kid flood to 6 fetches a minute.
	DefaultMinRefreshInterval = 10 * time.Second
	// MicrosoftRefreshInterval and MicrosoftMinRefreshInterval are
	// Microsoft's guidance (check every 24 hours, refresh on an unknown
	// key at most every 5 minutes), for [WithRefreshInterval] and
	// [WithMinRefreshInterval].
	MicrosoftRefreshInterval    = 24 * time.Hour
	MicrosoftMinRefreshInterval = 5 * time.Minute
	// DefaultFetchTimeout bounds one fetch, and so any caller's wait.
	DefaultFetchTimeout = 10 * time.Second
	// DefaultSkew is the clock skew allowed on exp, nbf and iat. One
	// minute covers NTP-synchronised hosts with room to spare while
	// keeping expired tokens dead quickly (Microsoft's libraries use 5).
	DefaultSkew = time.Minute
	// DefaultMaxKeyTries bounds how many keys a token without kid/x5t is
	// tried against.
	DefaultMaxKeyTries = 8
	// maxRetryBackoff caps the wait between attempts while the source fails.
	maxRetryBackoff = time.Hour
	// tenantPlaceholder is Entra ID's issuer template variable.
	tenantPlaceholder = "{tenantid}"
)

// DefaultAlgorithms returns the algorithms a Verifier accepts unless
// [WithAlgorithms] says otherwise: RS256, PS256, ES256, ES384 and EdDSA.
// RS384, RS512, PS384, PS512 and ES512 are supported but must be allowed
// explicitly with [WithAlgorithms].
func DefaultAlgorithms() []string {
	return []string{"RS256", "PS256", "ES256", "ES384", "EdDSA"}
}

// Option configures [NewCache], [New] and [NewWithCache]. [WithClock] and
// [WithObserver] apply to caches and verifiers alike; the other cache
// options (HTTP client, intervals, timeout, size, store, staleness) are
// ignored by NewWithCache, and verification options by NewCache.
type Option func(*settings)

type settings struct {
	clock      clock.Clock
	client     *http.Client
	observer   Observer
	refresh    time.Duration
	minRefresh time.Duration
	timeout    time.Duration
	maxSize    int64
	store      CacheStore
	maxStale   time.Duration

	audiences  []string
	algs       []string
	skew       time.Duration
	maxTries   int
	tenants    []string
	repeatSize int
	skipIss    bool
	skipAud    bool

	errs []error
}

func newSettings(opts []Option) (*settings, error) {
	s := &settings{
		refresh:    DefaultRefreshInterval,
		minRefresh: DefaultMinRefreshInterval,
		timeout:    DefaultFetchTimeout,
		algs:       DefaultAlgorithms(),
		skew:       DefaultSkew,
		maxTries:   DefaultMaxKeyTries,
		repeatSize: DefaultRepeatCacheSize,
	}
	for _, o := range opts {
		if o != nil {
			o(s)
		}
	}
	return s, errors.Join(s.errs...)
}

func (s *settings) fail(format string, args ...any) {
	s.errs = append(s.errs, fmt.Errorf("verify: "+format, args...))
}

func (s *settings) checkCache() error {
	switch {
	case s.minRefresh <= 0:
		return errors.New("verify: minimum refresh interval must be positive")
	case s.refresh < s.minRefresh:
		return fmt.Errorf("verify: refresh interval %s is shorter than the minimum %s", s.refresh, s.minRefresh)
	case s.timeout <= 0:
		return errors.New("verify: fetch timeout must be positive")
	case s.maxStale < 0:
		return errors.New("verify: maximum staleness must not be negative")
	}
	return nil
}

// WithClock sets the clock for refresh scheduling, staleness and claim
// checks (default: the wall clock).
func WithClock(c clock.Clock) Option { return func(s *settings) { s.clock = c } }

// WithHTTPClient sets the client used for fetches. The default client
// refuses redirects from https to http; the fetch timeout applies either way.
func WithHTTPClient(c *http.Client) Option { return func(s *settings) { s.client = c } }

// WithObserver receives fetch, refresh and verification events.
func WithObserver(o Observer) Option { return func(s *settings) { s.observer = o } }

// WithRefreshInterval sets the scheduled refresh interval (default 1h):
// keys are never older than this when the source answers, and a withdrawn
// key stops verifying at the latest this long after it left the source.
func WithRefreshInterval(d time.Duration) Option { return func(s *settings) { s.refresh = d } }

// WithMinRefreshInterval sets the unknown-key window (default 10s): at
// most one fetch per window for tokens naming an unknown key, however many
// arrive; fetches for other reasons (start, schedule, Cache.Refresh) do not
// count, so a key published a moment ago is found on first sight even
// right after one. It is also the floor under Cache-Control max-age and
// the first retry after a failed fetch.
func WithMinRefreshInterval(d time.Duration) Option {
	return func(s *settings) { s.minRefresh = d }
}

// WithFetchTimeout bounds one fetch (default 10s), including discovery.
func WithFetchTimeout(d time.Duration) Option { return func(s *settings) { s.timeout = d } }

// WithMaxResponseSize caps every response body (default: the limit of the
// document kind, jwk.MaxSetSize or fedmeta.MaxSize).
func WithMaxResponseSize(n int64) Option {
	return func(s *settings) {
		if n <= 0 {
			s.fail("maximum response size must be positive")
		}
		s.maxSize = n
	}
}

// WithCacheStore persists every good key document to st and loads it at
// start, so a restarted process verifies while the issuer is unreachable.
func WithCacheStore(st CacheStore) Option { return func(s *settings) { s.store = st } }

// WithCacheFile is WithCacheStore with a [FileStore] at path.
func WithCacheFile(path string) Option {
	return func(s *settings) { s.store = &FileStore{Path: path} }
}

// WithMaxStale makes verification fail closed with [ErrStale] once the key
// set was last confirmed by its source more than d ago. 0 (the default)
// keeps serving the last good set for as long as the source is down.
func WithMaxStale(d time.Duration) Option { return func(s *settings) { s.maxStale = d } }

// WithAudience sets the accepted aud values; a token must carry at least
// one of them. Required unless [InsecureSkipAudienceCheck].
func WithAudience(aud ...string) Option {
	return func(s *settings) { s.audiences = append(s.audiences, aud...) }
}

// WithAlgorithms replaces the algorithm allow-list. Supported: RS256,
// RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA.
func WithAlgorithms(algs ...string) Option {
	return func(s *settings) {
		for _, a := range algs {
			if _, ok := algFamily(a); !ok {
				s.fail("unsupported algorithm %q", a)
			}
		}
		s.algs = algs
	}
}

// WithSkew sets the clock skew allowed on exp, nbf and iat (default 1m).
func WithSkew(d time.Duration) Option {
	return func(s *settings) {
		if d < 0 {
			s.fail("skew must not be negative")
		}
		s.skew = d
	}
}

// WithMaxKeyTries bounds how many keys of the right type a token without
// kid or x5t is tried against (default 8); more candidates than that is
// [ErrAmbiguousKey].
func WithMaxKeyTries(n int) Option {
	return func(s *settings) {
		if n < 1 {
			s.fail("max key tries must be at least 1")
		}
		s.maxTries = n
	}
}

// WithRepeatCache sets how many verified tokens a [Verifier] remembers
// (default [DefaultRepeatCacheSize]; 0 disables it). A token seen before
// is answered without a signature check, keyed by the SHA-256 of the whole
// token; its key must still be in the set and exp, nbf and iat are checked
// again on every call. Failures are never remembered; the cache is also
// bounded to 8 MiB of tokens and forgets the oldest first.
func WithRepeatCache(n int) Option {
	return func(s *settings) {
		if n < 0 {
			s.fail("repeat cache size must not be negative")
		}
		s.repeatSize = n
	}
}

// WithTenants restricts a {tenantid} issuer template to these tid values.
func WithTenants(tids ...string) Option {
	return func(s *settings) { s.tenants = append(s.tenants, tids...) }
}

// InsecureSkipIssuerCheck accepts any iss. Only for tools that inspect
// tokens of an issuer they cannot name; never for authorisation.
func InsecureSkipIssuerCheck() Option { return func(s *settings) { s.skipIss = true } }

// InsecureSkipAudienceCheck accepts any aud, so a token minted for another
// application is accepted too. Only for tools; never for authorisation.
func InsecureSkipAudienceCheck() Option { return func(s *settings) { s.skipAud = true } }

func (s *settings) checkVerifier(issuer string) error {
	switch {
	case issuer == "" && !s.skipIss:
		return errors.New("verify: issuer is required (or InsecureSkipIssuerCheck)")
	case strings.Count(issuer, tenantPlaceholder) > 1:
		return fmt.Errorf("verify: issuer template %q has more than one %s", issuer, tenantPlaceholder)
	case len(s.audiences) == 0 && !s.skipAud:
		return errors.New("verify: an audience is required (or InsecureSkipAudienceCheck)")
	case len(s.algs) == 0:
		return errors.New("verify: the algorithm allow-list is empty")
	case len(s.tenants) > 0 && !strings.Contains(issuer, tenantPlaceholder):
		return errors.New("verify: WithTenants needs an issuer template with " + tenantPlaceholder)
	}
	for _, a := range s.audiences {
		if a == "" {
			return errors.New("verify: empty audience")
		}
	}
	return nil
}
