package issuer

import (
	"context"
	"crypto/x509"
	"net/url"
	"strings"
	"unicode"

	"github.com/keyroll/keyroll/store"
)

// NameID formats a SAML application may register.
var nameIDFormats = map[string]bool{
	"": true, // persistent
	"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent":   true,
	"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress": true,
	"urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified":  true,
	"urn:oasis:names:tc:SAML:2.0:nameid-format:transient":    true,
}

// maxSPCerts bounds the certificates a service provider may register.
const maxSPCerts = 8

// checkFedSpec validates a SAML or WS-Federation registration: an entity
// ID or realm that is an absolute URI and no other application of the
// protocol uses, answer URLs like OIDC redirect URIs (https, or http to
// loopback), parseable SP certificates and known settings.
func checkFedSpec(ctx context.Context, m *Manager, spec AppSpec) error {
	what := "entity ID"
	if spec.Protocol == store.ProtocolWSFed {
		what = "realm"
	}
	id := spec.Audience
	if id == "" || len(id) > maxAudienceLen || strings.IndexFunc(id, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) >= 0 {
		return invalid("%s %q: 1 to %d characters, no spaces or control characters", what, Clip(id), maxAudienceLen)
	}
	if u, err := url.Parse(id); err != nil || u.Scheme == "" {
		return invalid("%s %q is not an absolute URI (a URL or a URN)", what, Clip(id))
	}
	if err := checkFedFields(spec); err != nil {
		return err
	}
	apps, err := m.cfg.Store.Apps(ctx)
	if err != nil {
		return err
	}
	for _, a := range apps {
		if a.Proto() == spec.Protocol && a.Audience == id {
			return invalid("%s %q is already registered by the application %s", what, Clip(id), a.Name)
		}
	}
	return nil
}

// checkFedFields validates what a registration holds besides the
// uniqueness of its entity ID or realm.
func checkFedFields(spec AppSpec) error {
	if len(spec.RedirectURIs) == 0 {
		if spec.Protocol == store.ProtocolWSFed {
			return invalid("a WS-Federation application needs a reply URL (--reply)")
		}
		return invalid("a SAML application needs an assertion consumer service URL (--acs or --sp-metadata)")
	}
	if err := checkRedirectURIs(spec.RedirectURIs); err != nil {
		return err
	}
	for _, u := range spec.RedirectURIs {
		if pu, _ := url.Parse(u); pu == nil || (pu.Scheme != "https" && pu.Scheme != "http") {
			return invalid("answer URL %q: a browser posts the answer there, so it must be https (or http to loopback)", Clip(u))
		}
	}
	f := spec.Fed
	if len(f.SPCerts) > maxSPCerts {
		return invalid("%d SP certificates, at most %d", len(f.SPCerts), maxSPCerts)
	}
	for i, der := range f.SPCerts {
		if _, err := x509.ParseCertificate(der); err != nil {
			return invalid("SP certificate %d does not parse: %v", i+1, err)
		}
	}
	if f.RequestsSigned && len(f.SPCerts) == 0 {
		return invalid("the SP signs its requests but registers no certificate to check them with")
	}
	switch f.Sign {
	case "", "both", "response", "assertion":
	default:
		return invalid("sign %q: want both, response or assertion", f.Sign)
	}
	if !nameIDFormats[f.NameIDFormat] {
		return invalid("NameID format %q: want persistent, emailAddress, unspecified or transient (as a URN)", Clip(f.NameIDFormat))
	}
	switch f.TokenType {
	case "", "saml2":
	case "saml11":
		if spec.Protocol != store.ProtocolWSFed {
			return invalid("SAML 1.1 tokens are for WS-Federation applications")
		}
	default:
		return invalid("token type %q: want saml2 or saml11", f.TokenType)
	}
	if u := f.SPMetadataURL; u != "" {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "https" && !(pu.Scheme == "http" && isLoopback(pu.Hostname()))) {
			return invalid("SP metadata URL %q: https, or http to a loopback address", Clip(u))
		}
	}
	return nil
}

// AppByAudience finds the application of protocol p whose entity ID or
// realm is id, or store.ErrNotFound.
func (m *Manager) AppByAudience(ctx context.Context, p store.Protocol, id string) (store.Application, error) {
	apps, err := m.cfg.Store.Apps(ctx)
	if err != nil {
		return store.Application{}, err
	}
	for _, a := range apps {
		if a.Proto() == p && a.Audience == id {
			return a, nil
		}
	}
	return store.Application{}, store.ErrNotFound
}

// Clip shortens s for an error message or a log line.
func Clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
