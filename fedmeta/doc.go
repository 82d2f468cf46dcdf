// Package fedmeta builds, signs, parses and verifies WS-Federation / SAML 2.0
// federation metadata: the FederationMetadata.xml document that AD FS and
// Entra ID publish and that relying parties read their token-signing
// certificates from.
//
// # Shape
//
// [Build] writes the shape AD FS and Entra emit: an md:EntityDescriptor holding a
// RoleDescriptor of xsi:type fed:SecurityTokenServiceType (the WS-Federation
// view) and, when an SSO URL is configured, an IDPSSODescriptor (the SAML
// view), each with one KeyDescriptor use="signing" per published certificate.
// [Sign] adds an enveloped XML-DSig signature as the first child of the root.
//
// # Reading
//
// [Parse] is strict: it refuses documents over [MaxSize], any DTD (so no
// external entities and no entity expansion; checked on the raw bytes before
// an XML parser runs), non-UTF-8 input, nesting deeper than [MaxDepth],
// duplicate attributes, more than [MaxElements] elements, more than one
// top-level element, and any root other than a SAML 2.0 EntityDescriptor
// (the guard is internal/xmlsafe). EntitiesDescriptor aggregates (InCommon,
// eduGAIN) are refused: they carry many entities under one aggregator's
// signature, which is a different trust model from one issuer's metadata.
//
// Signing certificates are the KeyDescriptors with use="signing" or no use
// attribute directly under a RoleDescriptor, IDPSSODescriptor or
// SPSSODescriptor; use="encryption" is skipped, as GetSigningCertificates in
// the WIF documentation does. As there, the first X509Certificate of a
// KeyDescriptor is the key (later ones in the same X509Data are chain).
//
// # Verifying
//
// [Verify] checks the enveloped signature against pinned certificates only:
// the certificate inside the signature's KeyInfo selects which pinned
// certificate to use and is never trusted on its own. The document must hold
// exactly one ds:Signature, as a direct child of the root, with exactly one
// Reference whose URI is the root's ID (or "", the whole document) and which
// uses the enveloped-signature transform; this rules out signature wrapping.
// The certificate validity window is not checked: the pin is the trust
// anchor, and the returned certificate lets the caller apply its own policy.
// RSA-SHA1 is accepted because Okta still signs metadata with it.
//
// A relying party checks and reads the same bytes:
//
//	signer, err := fedmeta.Verify(body, pinned) // the signature covers the whole root
//	...
//	md, err := fedmeta.Parse(body)
//
// ECDSA SignatureValues are the raw r||s concatenation XML-DSig 1.1 specifies
// (and xmlsec1 produces and expects), not ASN.1 DER.
package fedmeta

import "errors"

// MaxSize is the largest metadata document accepted, in bytes (1 MiB). The
// largest real document in the fixtures (AD FS 2016 with 63 claim types) is
// about 70 KB; Entra tenant metadata is about 25 KB.
const MaxSize = 1 << 20

// MaxDepth is the deepest element nesting accepted. Real metadata nests about
// eight levels deep.
const MaxDepth = 64

// MaxElements is the most elements a document may hold; the raw bytes are
// counted before a tree is built. The largest real document has a few
// thousand.
const MaxElements = 20_000

// Sentinel errors. Returned errors wrap one of these (test with errors.Is) and
// add what exactly was wrong.
var (
	// ErrTooLarge: the document is larger than MaxSize.
	ErrTooLarge = errors.New("fedmeta: document too large")
	// ErrDTD: the document contains a DOCTYPE or other markup declaration.
	ErrDTD = errors.New("fedmeta: DTD or markup declaration not allowed")
	// ErrMalformed: not well-formed XML, or not federation metadata of the
	// accepted shape.
	ErrMalformed = errors.New("fedmeta: malformed metadata")
	// ErrBadCertificate: a published certificate does not decode or parse;
	// see CertError for which one.
	ErrBadCertificate = errors.New("fedmeta: bad certificate")
	// ErrNoSigningCerts: the metadata publishes no signing certificate.
	ErrNoSigningCerts = errors.New("fedmeta: no signing certificates")
	// ErrNoSignature: Verify found no ds:Signature.
	ErrNoSignature = errors.New("fedmeta: document is not signed")
	// ErrUntrustedSigner: the signature names a certificate that is not pinned,
	// or it verifies under none of the pinned certificates.
	ErrUntrustedSigner = errors.New("fedmeta: signer is not a pinned certificate")
	// ErrInvalidSignature: the signature is present but wrong (digest
	// mismatch, bad signature value, disallowed algorithm, wrapping).
	ErrInvalidSignature = errors.New("fedmeta: invalid signature")
	// ErrUnsupportedKey: Sign was given a key type it cannot sign with.
	ErrUnsupportedKey = errors.New("fedmeta: unsupported signing key")
)

// XML namespaces used in federation metadata.
const (
	NSMetadata   = "urn:oasis:names:tc:SAML:2.0:metadata"
	NSDSig       = "http://www.w3.org/2000/09/xmldsig#"
	NSFed        = "http://docs.oasis-open.org/wsfed/federation/200706"
	NSAddressing = "http://www.w3.org/2005/08/addressing"
	NSXSI        = "http://www.w3.org/2001/XMLSchema-instance"
	// NSSAMLProtocol is the protocolSupportEnumeration of SAML 2.0 roles.
	NSSAMLProtocol = "urn:oasis:names:tc:SAML:2.0:protocol"
	// BindingHTTPRedirect is the SAML HTTP-Redirect binding.
	BindingHTTPRedirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
	// BindingHTTPPOST is the SAML HTTP-POST binding.
	BindingHTTPPOST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
)
