package main

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// checkIssuerURL refuses an issuer identifier relying parties could not
// use or trust: it must be an absolute https URL with a host and without
// user info, query or fragment (OpenID Connect Discovery §3, RFC 8414 §2).
// http is accepted for loopback hosts, or for any host with insecureHTTP
// (a development flag the caller logs loudly).
func checkIssuerURL(raw string, insecureHTTP bool) error {
	bad := func(why string) error {
		return fmt.Errorf("--issuer %q: %s; want an absolute https URL such as https://login.example.com", raw, why)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("does not parse")
	}
	switch {
	case !u.IsAbs() || u.Opaque != "":
		return bad("not an absolute URL")
	case u.Host == "" || u.Hostname() == "":
		return bad("no host")
	case u.User != nil:
		return bad("user info is not allowed")
	case u.RawQuery != "" || u.ForceQuery || strings.Contains(raw, "?"):
		return bad("a query is not allowed")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return bad("a fragment is not allowed")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopbackHost(u.Hostname()) || insecureHTTP {
			return nil
		}
		return bad("http is only allowed for a loopback host (or with --insecure-http-issuer, for development)")
	default:
		return bad("scheme " + u.Scheme + " is not https")
	}
}

// isLoopbackHost reports whether host is localhost or a loopback address.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
