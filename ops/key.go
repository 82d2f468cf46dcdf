package ops

import (
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"sort"
	"strings"
	"time"

	"github.com/keyroll/keyroll/jwk"
)

// SourceJWKS is the Sources entry of a key listed in a JWKS.
const SourceJWKS = "JWKS"

// Key is one published signing key.
type Key struct {
	KID string // kid; for a metadata certificate, its x5t (base64url SHA-1), as Entra ID names it
	Kty string // RSA, EC or OKP
	Alg string // as published, or the default for the key type
	Use string

	// Thumbprint is the SHA-1 of the certificate's DER, upper-case hex, as
	// Microsoft tools print it; "" when the key has no certificate.
	Thumbprint string
	// SHA256 is the SHA-256 of the certificate's DER, upper-case hex; "" without a certificate.
	SHA256 string
	// JWKThumbprint is the RFC 7638 thumbprint of the public key (base64url SHA-256).
	JWKThumbprint string

	Subject   string    // certificate subject; "" without a certificate
	NotBefore time.Time // certificate validity; zero without a certificate
	NotAfter  time.Time

	// Sources says where the key was listed: "JWKS", or the metadata
	// descriptors ("RoleDescriptor/SecurityTokenServiceType", "IDPSSODescriptor", ...).
	Sources []string

	Cert   *x509.Certificate // leaf certificate; nil when none was published
	Public crypto.PublicKey
	// JWK is the key as a JWK, for writing it into a JWKS. Its Public is nil
	// when the key cannot be published as a JWK (for example a weak RSA key
	// in metadata).
	JWK jwk.Key
}

// HasCert reports whether the key came with a certificate.
func (k Key) HasCert() bool { return k.Cert != nil }

// ID is a stable name for the key: its certificate thumbprint, or
// "jwk:"+RFC 7638 thumbprint for a key without a certificate.
func (k Key) ID() string {
	if k.Thumbprint != "" {
		return k.Thumbprint
	}
	if k.JWKThumbprint != "" {
		return "jwk:" + k.JWKThumbprint
	}
	return "kid:" + k.KID
}

// Source joins Sources for display.
func (k Key) Source() string { return strings.Join(k.Sources, ", ") }

// ExpiredAt reports whether the certificate has expired at t.
func (k Key) ExpiredAt(t time.Time) bool { return k.HasCert() && !t.Before(k.NotAfter) }

// fromJWK describes a key read from a JWKS.
func fromJWK(k jwk.Key) Key {
	out := Key{KID: k.KID, Kty: k.Kty, Alg: k.Alg, Use: k.Use, Public: k.Public, JWK: k, Sources: []string{SourceJWKS}}
	if out.Alg == "" {
		out.Alg = jwk.DefaultAlg(k)
	}
	out.JWKThumbprint, _ = jwk.Thumbprint(k.Public)
	if len(k.Certs) > 0 {
		setCert(&out, k.Certs[0])
	}
	return out
}

// fromCert describes a certificate read from federation metadata.
func fromCert(c *x509.Certificate, sources []string) Key {
	out := Key{Public: c.PublicKey, Sources: sources}
	setCert(&out, c)
	out.KID = x5t(c.Raw)
	if k, err := jwk.FromCertificate(c, out.KID, ""); err == nil {
		out.JWK = k
		out.Kty, out.Alg, out.Use = k.Kty, k.Alg, k.Use
	} else {
		out.Alg = jwk.DefaultAlg(jwk.Key{Public: c.PublicKey})
	}
	out.JWKThumbprint, _ = jwk.Thumbprint(c.PublicKey)
	return out
}

func setCert(k *Key, c *x509.Certificate) {
	k.Cert = c
	k.Thumbprint = jwk.SHA1Thumbprint(c.Raw)
	k.SHA256 = jwk.SHA256Thumbprint(c.Raw)
	k.Subject = c.Subject.String()
	k.NotBefore, k.NotAfter = c.NotBefore.UTC(), c.NotAfter.UTC()
}

// x5t is the base64url SHA-1 of der (the JWK x5t member and Entra ID's kid).
func x5t(der []byte) string {
	h, _ := hex.DecodeString(jwk.SHA1Thumbprint(der))
	return base64.RawURLEncoding.EncodeToString(h)
}

// Latest returns the key with the newest NotBefore, or false when no key has
// a certificate.
func Latest(keys []Key) (Key, bool) {
	var best Key
	found := false
	for _, k := range keys {
		if k.HasCert() && (!found || k.NotBefore.After(best.NotBefore)) {
			best, found = k, true
		}
	}
	return best, found
}

// SortByNotBefore orders keys oldest certificate first; keys without a
// certificate go last, by kid.
func SortByNotBefore(keys []Key) {
	sort.SliceStable(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.HasCert() != b.HasCert() {
			return a.HasCert()
		}
		if !a.NotBefore.Equal(b.NotBefore) {
			return a.NotBefore.Before(b.NotBefore)
		}
		return a.ID() < b.ID()
	})
}
