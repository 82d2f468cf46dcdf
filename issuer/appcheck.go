package issuer

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
)

// ErrInvalid marks a request the issuer refuses because of what it says:
// a malformed name, redirect URI or lifetime. The admin API answers 400.
var ErrInvalid = errors.New("invalid request")

// Invalid returns an error wrapping ErrInvalid with the message.
func Invalid(format string, args ...any) error { return invalid(format, args...) }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Limits on application settings.
const (
	maxRedirectURIs   = 20
	maxRedirectURILen = 2000
	maxAudienceLen    = 512
	minTokenLifetime  = time.Minute
)

var (
	appNameRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	clientIDRE = regexp.MustCompile(`^[0-9a-f]{32}$`)
	userNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$`)
	schemeRE   = regexp.MustCompile(`^[a-z][a-z0-9+.-]*$`)
)

func checkAppName(name string) error {
	switch {
	case !appNameRE.MatchString(name):
		return invalid("application name %q: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	case clientIDRE.MatchString(name):
		return invalid("application name %q looks like a client id; choose a name people can read", name)
	}
	return nil
}

func checkUserName(name string) error {
	if !userNameRE.MatchString(name) {
		return invalid("user name %q: use 1 to 64 letters, digits, '.', '_', '@', '+' or '-', starting with a letter or digit", name)
	}
	return nil
}

func checkAudience(aud string) error {
	if len(aud) > maxAudienceLen || strings.IndexFunc(aud, unicode.IsControl) >= 0 || strings.TrimSpace(aud) != aud {
		return invalid("audience %q: at most %d characters, no control characters or surrounding spaces", aud, maxAudienceLen)
	}
	return nil
}

// checkRedirectURIs enforces RFC 8252 and the OAuth security BCP: absolute
// URIs without a fragment or credentials; https, or http to a loopback
// address, or a private-use scheme with a dot in it (com.example.app:/cb)
// for native applications. Matching is exact, so duplicates are refused.
func checkRedirectURIs(uris []string) error {
	if len(uris) > maxRedirectURIs {
		return invalid("%d redirect URIs, at most %d", len(uris), maxRedirectURIs)
	}
	seen := map[string]bool{}
	for _, u := range uris {
		if err := checkRedirectURI(u); err != nil {
			return err
		}
		if seen[u] {
			return invalid("redirect URI %q is listed twice", u)
		}
		seen[u] = true
	}
	return nil
}

func checkRedirectURI(raw string) error {
	if len(raw) > maxRedirectURILen || strings.IndexFunc(raw, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) >= 0 {
		return invalid("redirect URI %.80q: at most %d characters, no spaces or control characters", raw, maxRedirectURILen)
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs():
		return invalid("redirect URI %q is not an absolute URI", raw)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return invalid("redirect URI %q has a fragment", raw)
	case u.User != nil:
		return invalid("redirect URI %q carries credentials", raw)
	case !schemeRE.MatchString(raw[:strings.IndexByte(raw, ':')]): // url.Parse lower-cases it
		return invalid("redirect URI %q: the scheme must be lower case", raw)
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return invalid("redirect URI %q has no host", raw)
		}
	case "http":
		if !isLoopback(u.Hostname()) {
			return invalid("redirect URI %q: plain http is allowed only to localhost or a loopback address; use https", raw)
		}
	default:
		if !strings.Contains(u.Scheme, ".") {
			return invalid("redirect URI %q: a custom scheme must be a reversed domain name such as com.example.app (RFC 8252)", raw)
		}
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// tokenLifetime checks a requested lifetime against the policy; zero asks
// for the default, an hour or the policy's maximum if that is shorter.
func tokenLifetime(requested, max time.Duration) (time.Duration, error) {
	if requested == 0 {
		return min(time.Hour, max), nil
	}
	if requested < minTokenLifetime || requested > max {
		return 0, invalid("token lifetime %s: it must be from %s to the policy's MaxTokenLifetime, %s", requested, minTokenLifetime, max)
	}
	return requested, nil
}

// checkPassword refuses passwords too short to be a test of anything or
// too long to hash cheaply. The message never includes the password.
func checkPassword(pw string) error {
	if len(pw) < 8 || len(pw) > 1024 {
		return invalid("the password must be 8 to 1024 bytes long (got %d)", len(pw))
	}
	return nil
}
