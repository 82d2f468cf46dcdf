package verify

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/keyroll/keyroll/fedmeta"
	"github.com/keyroll/keyroll/jwk"
)

// maxDiscoverySize limits an OpenID Connect discovery document.
const maxDiscoverySize = 256 << 10

// JWKSURL is a source that fetches a JSON Web Key Set from url.
func JWKSURL(url string) Source { return &jwksSource{url: url} }

type jwksSource struct{ url string }

func (s *jwksSource) Name() string { return s.url }

func (s *jwksSource) Fetch(ctx context.Context, req FetchRequest) (Document, error) {
	return httpGet(ctx, req, s.url, "application/jwk-set+json, application/json", jwk.MaxSetSize)
}

func (s *jwksSource) Decode(body []byte) (Decoded, error) { return decodeJWKS(body) }

// Discovery is a source that reads issuer's OpenID Connect discovery
// document at issuer + "/.well-known/openid-configuration", checks that
// its "issuer" is exactly issuer, and fetches the key set at its jwks_uri.
// The discovery document is read again on every refresh, so a moved
// jwks_uri is followed.
func Discovery(issuer string) Source {
	return DiscoveryAt(strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration", issuer)
}

// DiscoveryAt is [Discovery] for a document that does not live under the
// issuer, such as Entra ID's multi-tenant endpoint
// (https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration,
// whose issuer is the template https://login.microsoftonline.com/{tenantid}/v2.0).
func DiscoveryAt(configURL, issuer string) Source {
	return &discoverySource{configURL: configURL, issuer: issuer}
}

type discoverySource struct{ configURL, issuer string }

func (s *discoverySource) Name() string { return s.configURL }

func (s *discoverySource) Decode(body []byte) (Decoded, error) {
	d, err := decodeJWKS(body)
	d.Issuer = s.issuer
	return d, err
}

// Fetch reads the discovery document, then the key set. The validators it
// returns are "jwks_uri\nvalue", so an ETag or Last-Modified is only
// replayed to the URL it came from.
func (s *discoverySource) Fetch(ctx context.Context, req FetchRequest) (Document, error) {
	jwksURI, err := s.jwksURI(ctx, req)
	if err != nil {
		return Document{}, err
	}
	inner := req
	inner.ETag, inner.LastModified = scoped(req.ETag, jwksURI), scoped(req.LastModified, jwksURI)
	doc, err := httpGet(ctx, inner, jwksURI, "application/jwk-set+json, application/json", jwk.MaxSetSize)
	if err != nil {
		return Document{}, err
	}
	doc.ETag, doc.LastModified = scope(doc.ETag, jwksURI), scope(doc.LastModified, jwksURI)
	return doc, nil
}

// scope ties a validator to the URL it came from ("" stays "").
func scope(v, uri string) string {
	if v == "" {
		return ""
	}
	return uri + "\n" + v
}

// scoped returns the validator v holds for uri, or "".
func scoped(v, uri string) string {
	if u, val, ok := strings.Cut(v, "\n"); ok && u == uri {
		return val
	}
	return ""
}

func (s *discoverySource) jwksURI(ctx context.Context, req FetchRequest) (string, error) {
	req.ETag = ""
	doc, err := httpGet(ctx, req, s.configURL, "application/json", maxDiscoverySize)
	if err != nil {
		return "", err
	}
	return parseDiscovery(doc.Body, s.configURL, s.issuer)
}

// parseDiscovery reads the jwks_uri of a discovery document fetched from
// configURL, which must name issuer.
func parseDiscovery(body []byte, configURL, issuer string) (string, error) {
	var d struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &d); err != nil {
		return "", fmt.Errorf("%w: %s: %v", ErrDiscovery, configURL, err)
	}
	if d.Issuer != issuer {
		return "", fmt.Errorf("%w: issuer is %s, want %s", ErrDiscovery, clip(d.Issuer), clip(issuer))
	}
	if err := checkJWKSURI(configURL, d.JWKSURI); err != nil {
		return "", err
	}
	return d.JWKSURI, nil
}

// checkJWKSURI accepts an absolute http(s) URL, and http only when the
// discovery document itself was fetched over http (a test or a local
// issuer): https discovery must not lead to plain-text keys.
func checkJWKSURI(configURL, uri string) error {
	u, err := url.Parse(uri)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return fmt.Errorf("%w: jwks_uri %s is not an absolute URL", ErrDiscovery, clip(uri))
	}
	if u.Scheme != "https" && (u.Scheme != "http" || strings.HasPrefix(configURL, "https:")) {
		return fmt.Errorf("%w: jwks_uri %s is not https", ErrDiscovery, clip(uri))
	}
	return nil
}

// FederationMetadata is a source that fetches WS-Federation/SAML metadata
// from url and takes the signing certificates of its RoleDescriptor and
// IDPSSODescriptor KeyDescriptors (use="signing" or no use) as keys. Each
// key's kid is the certificate's x5t (base64url SHA-1); a token naming the
// upper-case hex SHA-1 thumbprint as kid finds it too. A document past its
// validUntil is unusable and cacheDuration bounds the refresh interval.
// With pinned certificates, a document is only accepted with a valid
// enveloped signature by one of them (see [FederationMetadataSignedBy]).
// Without, a signed document must verify under one of its own
// certificates, which catches damage but is no trust decision: trust then
// rests on the connection (use https).
func FederationMetadata(url string, pinned ...*x509.Certificate) Source {
	return FederationMetadataSignedBy(url, fedmeta.Pin{Certs: pinned})
}

// FederationMetadataSignedBy is [FederationMetadata] with a pinned
// signer: certificates, or SHA-1/SHA-256 thumbprints of a certificate the
// document publishes. Unsigned metadata, or metadata signed by any other
// key, is refused and the last good set keeps serving.
func FederationMetadataSignedBy(url string, pin fedmeta.Pin) Source {
	return &metadataSource{url: url, pin: pin}
}

type metadataSource struct {
	url string
	pin fedmeta.Pin
}

func (s *metadataSource) Name() string { return s.url }

func (s *metadataSource) Fetch(ctx context.Context, req FetchRequest) (Document, error) {
	return httpGet(ctx, req, s.url, "application/samlmetadata+xml, application/xml, text/xml", fedmeta.MaxSize)
}

func (s *metadataSource) Decode(body []byte) (Decoded, error) { return decodeMetadata(body, s.pin) }

// StaticFile is a source that reads path on every refresh: a JWKS (JSON),
// federation metadata (XML) or PEM certificates ("-----BEGIN CERTIFICATE").
// Certificates get the same kid as metadata certificates.
func StaticFile(path string) Source { return &staticSource{name: "file:" + path, path: path} }

// StaticBytes is [StaticFile] for a document held in memory; name
// identifies it in events.
func StaticBytes(name string, data []byte) Source {
	return &staticSource{name: name, data: bytes.Clone(data)}
}

type staticSource struct {
	name, path string
	data       []byte
}

func (s *staticSource) Name() string { return s.name }

func (s *staticSource) Fetch(ctx context.Context, req FetchRequest) (Document, error) {
	if s.path == "" {
		return Document{Body: bytes.Clone(s.data)}, nil
	}
	f, err := os.Open(s.path)
	if err != nil {
		return Document{}, fmt.Errorf("verify: %w", err)
	}
	defer f.Close()
	limit := int64(max(jwk.MaxSetSize, fedmeta.MaxSize))
	if req.MaxSize > 0 {
		limit = req.MaxSize
	}
	body, err := readLimited(f, limit)
	if err != nil {
		return Document{}, fmt.Errorf("verify: %s: %w", s.path, err)
	}
	return Document{Body: body}, nil
}

func (s *staticSource) Decode(body []byte) (Decoded, error) {
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")), " \t\r\n")
	switch {
	case bytes.HasPrefix(trimmed, []byte("{")):
		return decodeJWKS(body)
	case bytes.HasPrefix(trimmed, []byte("<")):
		return decodeMetadata(body, fedmeta.Pin{})
	case bytes.HasPrefix(trimmed, []byte("-----BEGIN")):
		return decodePEM(trimmed)
	}
	return Decoded{}, fmt.Errorf("verify: %s: neither JWKS, metadata XML nor PEM", s.name)
}

func decodeJWKS(body []byte) (Decoded, error) {
	keys, skipped, err := jwk.ParseSet(body)
	if err != nil {
		return Decoded{}, err
	}
	return Decoded{Keys: keys, Skipped: skipped}, nil
}

// decodeMetadata reads metadata keys. With a pin the signature must verify
// under it; without, a signature present must verify under one of the
// document's own certificates (integrity only).
func decodeMetadata(body []byte, pin fedmeta.Pin) (Decoded, error) {
	m, err := fedmeta.Parse(body)
	if err != nil {
		return Decoded{}, err
	}
	certs := make([]*x509.Certificate, len(m.Signing))
	for i, sc := range m.Signing {
		certs[i] = sc.Cert
	}
	switch {
	case !pin.IsZero():
		if _, err := pin.Check(body, certs); err != nil {
			return Decoded{}, fmt.Errorf("verify: metadata signature: %w", err)
		}
	case m.Signed:
		if _, err := fedmeta.Verify(body, certs); err != nil {
			return Decoded{}, fmt.Errorf("verify: metadata signature does not verify under its own certificates: %w", err)
		}
	}
	d := Decoded{Issuer: m.EntityID, ValidUntil: m.ValidUntil, CacheDuration: m.CacheDuration}
	for _, c := range certs {
		d.addCert(c)
	}
	return d, nil
}

func decodePEM(data []byte) (Decoded, error) {
	var d Decoded
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			d.Skipped = append(d.Skipped, fmt.Errorf("verify: PEM block %q is not a certificate", b.Type))
			continue
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			d.Skipped = append(d.Skipped, fmt.Errorf("verify: PEM certificate: %w", err))
			continue
		}
		d.addCert(cert)
	}
	if len(d.Keys) == 0 && len(d.Skipped) == 0 {
		return d, fmt.Errorf("verify: no PEM certificate found")
	}
	return d, nil
}

// addCert adds cert as a key whose kid is its x5t, once.
func (d *Decoded) addCert(cert *x509.Certificate) {
	sum := sha1.Sum(cert.Raw)
	kid := base64.RawURLEncoding.EncodeToString(sum[:])
	for _, k := range d.Keys {
		if k.KID == kid {
			return
		}
	}
	k, err := jwk.FromCertificate(cert, kid, "")
	if err != nil {
		d.Skipped = append(d.Skipped, fmt.Errorf("verify: certificate %s: %w", kid, err))
		return
	}
	if k.Alg == "" {
		k.Alg = jwk.DefaultAlg(k)
	}
	d.Keys = append(d.Keys, k)
}
