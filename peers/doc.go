// Package peers holds tests that run real, unmodified third-party OAuth 2.0,
// OpenID Connect, SAML 2.0 and WS-Federation libraries against keyroll's
// issuer. It is its own module, so that those libraries stay out of
// keyroll's main go.mod:
//
//	cd peers && go test ./...
//
// The Go peers (go-oidc, crewjam/saml) run in process. Two run as child
// processes: a pysaml2 service provider (testdata/pysaml2/sp.py, Debian's
// python3-pysaml2 with xmlsec1) and a passport-wsfed-saml2 relying party
// (testdata/wsfed/rp.js, installed there by npm ci). A test whose peer is
// missing is skipped with a message, and fails under CI=true; .ci/run
// installs them all.
package peers
