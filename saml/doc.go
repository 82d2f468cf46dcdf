// Package saml is the identity-provider side of SAML 2.0 Web Browser SSO and
// WS-Federation passive sign-in, as messages only: it builds signed
// responses and assertions and reads authentication requests and service
// provider metadata. It serves no HTTP and stores nothing; the issuer's
// handlers call it with the keys and times they hold.
//
// # Building
//
// [BuildResponse] writes a samlp:Response holding one saml:Assertion and
// signs the response, the assertion or both. [BuildAssertion20] and
// [BuildAssertion11] write standalone signed assertions for WS-Federation,
// which [BuildWSFedResponse] wraps in a WS-Trust 1.3
// RequestSecurityTokenResponseCollection without changing a byte of them.
// Signatures are enveloped, use exclusive C14N, RSA-SHA256 (RSA keys of 2048
// bits or more) or ECDSA-SHA256 (P-256, r||s as XML-DSig 1.1 specifies), sit
// where each schema puts them (after Issuer in SAML 2.0, last in SAML 1.1)
// and carry the signing certificate in KeyInfo. The trees are canonicalised
// by a small exclusive C14N for the element-and-text trees this package
// builds (tests check it gives goxmldsig's bytes, and xmlsec1 verifies the
// results); goxmldsig verifies incoming signatures. Times are written in UTC to
// the second. AttributeValues carry no xsi:type (a plain string), which
// avoids a namespace declaration exclusive C14N would not cover.
//
// # Reading
//
// [ParseRedirectRequest] and [ParsePostRequest] read AuthnRequests of the
// HTTP-Redirect and HTTP-POST bindings and [ParseSPMetadata] reads an SP's
// EntityDescriptor. All incoming XML passes internal/xmlsafe first (size,
// DTD, depth and element-count limits). Signatures are verified only against
// the certificates the caller gives (a certificate inside a message is never
// trusted) and only with SHA-256 or stronger: RSA-SHA1 is refused because the
// sender picks the algorithm and SHA-1 collisions are practical, while every
// current SP stack signs with SHA-256 by default. A signed POST request is
// read from the element the signature verifier returns, never from the
// original tree, and must carry exactly one signature, a child of the root,
// referencing the root's unique ID.
package saml

// XML namespaces.
const (
	NSAssertion   = "urn:oasis:names:tc:SAML:2.0:assertion"
	NSProtocol    = "urn:oasis:names:tc:SAML:2.0:protocol"
	NSMetadata    = "urn:oasis:names:tc:SAML:2.0:metadata"
	NSAssertion11 = "urn:oasis:names:tc:SAML:1.0:assertion"
	NSDSig        = "http://www.w3.org/2000/09/xmldsig#"
	NSTrust13     = "http://docs.oasis-open.org/ws-sx/ws-trust/200512"
	NSPolicy      = "http://schemas.xmlsoap.org/ws/2004/09/policy"
	NSAddressing  = "http://www.w3.org/2005/08/addressing"
	NSUtility     = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
)

// NameID formats.
const (
	NameIDPersistent  = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
	NameIDTransient   = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
	NameIDEmail       = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
	NameIDUnspecified = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
)

// Bindings.
const (
	BindingHTTPPost     = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
	BindingHTTPRedirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
)

// Top-level status codes (SAML core 3.2.2.2). Second-level codes such as
// StatusAuthnFailed go in Response.SubStatus.
const (
	StatusSuccess         = "urn:oasis:names:tc:SAML:2.0:status:Success"
	StatusRequester       = "urn:oasis:names:tc:SAML:2.0:status:Requester"
	StatusResponder       = "urn:oasis:names:tc:SAML:2.0:status:Responder"
	StatusVersionMismatch = "urn:oasis:names:tc:SAML:2.0:status:VersionMismatch"
	StatusAuthnFailed     = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"
	StatusNoPassive       = "urn:oasis:names:tc:SAML:2.0:status:NoPassive"
	StatusRequestDenied   = "urn:oasis:names:tc:SAML:2.0:status:RequestDenied"
)

// Authentication context classes.
const (
	AuthnContextPasswordProtectedTransport = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
	AuthnContextPassword                   = "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"
	AuthnContextUnspecified                = "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified"
)

// WS-Trust token types of the assertion a WS-Federation response carries, as
// AD FS writes them.
const (
	TokenTypeSAML11 = "urn:oasis:names:tc:SAML:1.0:assertion"
	TokenTypeSAML20 = "urn:oasis:names:tc:SAML:2.0:assertion"
)

// Limits on incoming messages.
const (
	// MaxEncodedSize bounds the raw query of a redirect request and the
	// base64 SAMLRequest of a POST request, in bytes.
	MaxEncodedSize = 64 << 10
	// MaxRequestSize bounds a request's XML after decoding and inflating.
	// Real AuthnRequests are under 4 KB.
	MaxRequestSize = 128 << 10
	// MaxMetadataSize bounds SP metadata.
	MaxMetadataSize = 1 << 20
)
