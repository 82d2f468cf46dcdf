package drill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/keyroll/keyroll/adminapi"
)

// Admin is the part of keyroll's admin API the drill uses;
// *adminapi.Client implements it.
type Admin interface {
	App(ctx context.Context, app string) (*adminapi.AppInfo, error)
	Keys(ctx context.Context) ([]adminapi.KeyInfo, error)
	Override(ctx context.Context, app string, req adminapi.OverrideRequest) (*adminapi.OverrideResult, error)
	RestoreDefault(ctx context.Context, app string) (*adminapi.OverrideResult, error)
	AppToken(ctx context.Context, app string) (*adminapi.TokenResponse, error)
	CreateUser(ctx context.Context, username, password string) (*adminapi.CreatedUser, error)
	DeleteUser(ctx context.Context, username string) error
	PublishTransient(ctx context.Context) (*adminapi.KeyInfo, error)
	WithdrawTransient(ctx context.Context, key string) (*adminapi.KeyInfo, error)
}

var _ Admin = (*adminapi.Client)(nil)

// Config says what to drill. Exactly one of API and Web is set.
type Config struct {
	Admin Admin  // the issuer's admin API
	App   string // application name or client id
	API   string // URL of the web API to call with a bearer token
	Web   string // URL the application signs users in to
	// Expect is text the final page must contain for a web sign-in to count
	// as accepted (web mode only; empty: any 2xx page on Web).
	Expect string
	// FreshKey also tests a brand-new transient key (refresh on unknown key).
	FreshKey bool
	// RefreshWait stands for the application's unknown-key refresh
	// throttle window: correct relying parties fetch keys for an unknown
	// kid at most once per window (Microsoft's libraries every 5 minutes,
	// keyroll's every 10 s), so one whose window an earlier call spent
	// refuses a key it has not seen yet until the window ends. A rejection
	// the throttle may explain — of the fresh key, of a key published less
	// than RefreshWait before its test, or of any key tested less than
	// RefreshWait after the end of an earlier drill of the application (see
	// [History]) — is tested once more after waiting RefreshWait, and only
	// a second rejection counts. 0: the default, 5m10s; negative: retry at
	// once (and only the fresh key).
	RefreshWait time.Duration
	// After waits for the refresh throttle window; nil: time.After. Tests
	// inject a timer that fires at once.
	After func(time.Duration) <-chan time.Time
	// User and Password are the test user for web mode; with User empty the
	// drill creates a temporary user and deletes it afterwards.
	User, Password string
	// Issuer is where the issuer's discovery document is (web mode; default:
	// the BaseURL of Admin when it is an *adminapi.Client). The drill submits
	// the test user's password only to the sign-in endpoint it names for the
	// application's protocol (the authorization_endpoint, or /saml2 or
	// /wsfed under its issuer URL), never to a look-alike form elsewhere.
	Issuer string
	// HTTP reaches the application; nil: a client with a 30 s timeout. The
	// drill sets its own cookie jar and redirect policy on a copy.
	HTTP *http.Client
	// Actor is who runs the drill as the audit log names them (the web
	// console: console:NAME), kept in the report and the drill history;
	// empty: not said (the admin API audits the command line's changes).
	Actor string
	// Progress receives one line per step, for people; nil: discarded.
	Progress io.Writer
	// Now stamps the report; nil: time.Now.
	Now func() time.Time
	// CleanupTimeout bounds the cleanup, which runs on a fresh context even
	// when the drill's was cancelled (default 30 s).
	CleanupTimeout time.Duration
}

// DefaultRefreshWait is [Config.RefreshWait]'s default: Microsoft's
// unknown-key refresh throttle (5 minutes) and some slack.
const DefaultRefreshWait = 5*time.Minute + 10*time.Second

// ErrConfig marks a Config the drill cannot run with.
var ErrConfig = errors.New("drill: invalid configuration")

// ErrSignIn: the test user could not sign in (wrong password, unknown
// user), so no web test can run.
var ErrSignIn = errors.New("the test user cannot sign in")

func (c *Config) check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	switch {
	case c.Admin == nil:
		return bad("no admin API client")
	case c.App == "":
		return bad("name the application (name or client id)")
	case (c.API == "") == (c.Web == ""):
		return bad("give exactly one of an API URL and a web URL")
	case c.Web == "" && (c.Expect != "" || c.User != ""):
		return bad("an expected text and a test user apply to web mode only")
	case c.User != "" && c.Password == "":
		return bad("test user %q has no password", c.User)
	case c.Web != "" && c.Issuer == "":
		return bad("web mode needs the issuer's URL to find its sign-in endpoint")
	}
	target := c.API + c.Web
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return bad("%q is not an absolute http or https URL", target)
	}
	return nil
}

func (c *Config) defaults() {
	if ac, ok := c.Admin.(*adminapi.Client); ok && c.Issuer == "" && ac != nil {
		c.Issuer = ac.BaseURL
	}
	if c.HTTP == nil {
		c.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	switch {
	case c.RefreshWait == 0:
		c.RefreshWait = DefaultRefreshWait
	case c.RefreshWait < 0:
		c.RefreshWait = 0
	}
	if c.After == nil {
		c.After = time.After
	}
	if c.CleanupTimeout <= 0 {
		c.CleanupTimeout = 30 * time.Second
	}
}
