// Package ops is keyroll's operator toolkit for any identity provider: it
// loads the signing keys a provider publishes and describes them the way
// operators compare them by hand.
//
// # Loading
//
// [Loader.Load] reads a [Source]: an issuer URL (OIDC discovery, then its
// jwks_uri), a JWKS URL, a federation metadata URL, or a local file, with the
// shortcuts [Source.Tenant] (Entra ID's v2.0 discovery document) and
// [Source.ADFS] (an AD FS farm's federation metadata). The document type is
// detected from the content. Every read is bounded by [MaxDocumentSize] and a
// timeout; plain http is refused except to loopback hosts.
//
// # Keys
//
// A [Published] set holds one [Key] per signing key, with the certificate
// thumbprints Microsoft tools print (SHA-1, upper-case hex) and SHA-256, the
// RFC 7638 JWK thumbprint (the only stable name of a JWKS key published
// without a certificate), the certificate subject and dates, and where the
// key was listed. [Published.Signer] estimates which key signs now.
//
// Subpackages hold the commands' logic: timeline (AD FS rollover dates),
// trust (what a relying party trusts against what is published), watch
// (change monitoring), keysync (writing keys into relying-party files) and
// webconfig (Web.config issuerNameRegistry).
package ops
