package ops

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// DefaultEntraAuthority is the Entra ID authority --tenant uses. Sovereign
// clouds use their own (https://login.microsoftonline.us,
// https://login.chinacloudapi.cn).
const DefaultEntraAuthority = "https://login.microsoftonline.com"

// Source names where a provider publishes its keys. Exactly one field is set.
type Source struct {
	// Location is an issuer URL, a JWKS URL, a federation metadata URL, or a
	// local file path.
	Location string
	// Tenant is an Entra ID tenant (GUID, domain, "common", ...): its v2.0
	// OIDC discovery document.
	Tenant string
	// ADFS is an AD FS host name (with an optional port): its federation metadata.
	ADFS string
}

// ErrNoSource: the Source names nothing, or more than one thing.
var ErrNoSource = errors.New("give exactly one of: a URL or file, --tenant NAME, --adfs HOST")

// String names the source for messages and state files.
func (s Source) String() string {
	switch {
	case s.Tenant != "":
		return "tenant:" + s.Tenant
	case s.ADFS != "":
		return "adfs:" + s.ADFS
	}
	return s.Location
}

// Validate checks that exactly one field is set and well-formed.
func (s Source) Validate() error {
	n := 0
	for _, f := range []string{s.Location, s.Tenant, s.ADFS} {
		if strings.TrimSpace(f) != "" {
			n++
		}
	}
	if n != 1 {
		return ErrNoSource
	}
	if s.Tenant != "" && !validName(s.Tenant) {
		return fmt.Errorf("tenant %q: use a tenant ID (GUID) or domain name", s.Tenant)
	}
	if s.ADFS != "" {
		if _, err := adfsURL(s.ADFS); err != nil {
			return err
		}
	}
	return nil
}

func validName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
			return false
		}
	}
	return s != "" && len(s) <= 253
}

// tenantURL is Entra ID's v2.0 discovery document for tenant.
func tenantURL(authority, tenant string) string {
	if authority == "" {
		authority = DefaultEntraAuthority
	}
	return strings.TrimSuffix(authority, "/") + "/" + url.PathEscape(tenant) + "/v2.0/.well-known/openid-configuration"
}

// adfsURL is the federation metadata of the AD FS host ("adfs.contoso.com",
// "adfs.contoso.com:8443"; a leading https:// is accepted).
func adfsURL(host string) (string, error) {
	h := strings.TrimSuffix(strings.TrimPrefix(host, "https://"), "/")
	u, err := url.Parse("https://" + h)
	if err != nil || u.Host == "" || u.Host != h || u.User != nil {
		return "", fmt.Errorf("--adfs %q: give the AD FS host name, e.g. adfs.contoso.com", host)
	}
	return "https://" + h + "/federationmetadata/2007-06/federationmetadata.xml", nil
}

// isURL reports whether location is an http(s) URL rather than a file path.
func isURL(location string) bool {
	l := strings.ToLower(location)
	return strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://")
}
