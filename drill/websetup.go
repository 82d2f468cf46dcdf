package drill

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/issuer"
)

// startWeb sets up web mode for app: it finds the issuer's sign-in
// endpoint for the application's protocol and creates a temporary test
// user if none is given.
func (r *run) startWeb(ctx context.Context, app *adminapi.AppInfo) error {
	target, _ := url.Parse(r.cfg.Web) // checked by Config.check
	t := &webTester{target: target, expect: r.cfg.Expect, user: r.cfg.User, password: r.cfg.Password, hc: r.cfg.HTTP,
		protocol: protocolOf(app), answerURLs: app.RedirectURIs}
	var err error
	if t.signIn, err = signInEndpoint(ctx, r.cfg.HTTP, r.cfg.Issuer, t.protocol); err != nil {
		return err
	}
	r.tester = t
	if t.user != "" {
		r.say("drill: signing in as test user %s\n", t.user)
		return nil
	}
	var b [4]byte
	rand.Read(b[:])
	name := "keyroll-drill-" + hex.EncodeToString(b[:])
	r.say("drill: creating temporary test user %s … ", name)
	r.user = name // delete it even if the answer is lost
	u, err := r.cfg.Admin.CreateUser(ctx, name, "")
	if err != nil {
		r.say("failed\n")
		return fmt.Errorf("creating a temporary test user: %w", err)
	}
	if u.Password == "" {
		return fmt.Errorf("creating a temporary test user: the issuer returned no password")
	}
	t.user, t.password = name, u.Password
	r.say("done (deleted after the drill)\n")
	return nil
}

// maxDiscovery bounds the discovery document the drill reads.
const maxDiscovery = 256 << 10

// protocolOf is the application's sign-in protocol: oidc, saml or wsfed.
func protocolOf(app *adminapi.AppInfo) string {
	if app.Protocol == "" {
		return protocolOIDC
	}
	return app.Protocol
}

// The protocols of web mode.
const (
	protocolOIDC  = "oidc"
	protocolSAML  = "saml"
	protocolWSFed = "wsfed"
)

// signInEndpoint is where the issuer at base takes the sign-in form of
// protocol: the authorization_endpoint of its OpenID Connect discovery
// document, or the SAML SingleSignOnService or WS-Federation passive
// requestor endpoint under the issuer URL that document names (the
// endpoints its federation metadata names).
func signInEndpoint(ctx context.Context, hc *http.Client, base, protocol string) (*url.URL, error) {
	where := strings.TrimSuffix(base, "/") + issuer.DiscoveryPath
	fail := func(format string, args ...any) (*url.URL, error) {
		return nil, fmt.Errorf("finding the issuer's sign-in endpoint in %s: %s", where, fmt.Sprintf(format, args...))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, where, nil)
	if err != nil {
		return fail("%v", err)
	}
	resp, err := noRedirects(hc, nil).Do(req)
	if err != nil {
		return fail("%v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDiscovery+1))
	switch {
	case err != nil:
		return fail("%v", err)
	case resp.StatusCode != http.StatusOK:
		return fail("HTTP %d", resp.StatusCode)
	case len(body) > maxDiscovery:
		return fail("larger than %d bytes", maxDiscovery)
	}
	var doc struct {
		Issuer    string `json:"issuer"`
		Authorize string `json:"authorization_endpoint"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return fail("not JSON: %v", err)
	}
	name, raw := "authorization_endpoint", doc.Authorize
	switch protocol {
	case protocolOIDC:
	case protocolSAML:
		name, raw = "issuer", strings.TrimSuffix(doc.Issuer, "/")+issuer.SAMLPath
	case protocolWSFed:
		name, raw = "issuer", strings.TrimSuffix(doc.Issuer, "/")+issuer.PassivePath
	default:
		return nil, fmt.Errorf("the application signs in with %q, which the drill does not know (oidc, saml, wsfed)", printable(protocol, 40))
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fail("%s %q is not an absolute http or https URL", name, printable(raw, 200))
	}
	return u, nil
}
