// Package keys makes and protects signing-key material: key pairs with their
// self-signed certificates, and the AES-256-GCM envelope that keeps private
// keys encrypted at rest under a key-encryption key (KEK).
package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"

	"github.com/keyroll/keyroll/jwk"
	"github.com/keyroll/keyroll/lifecycle"
)

// Spec says what kind of key to generate.
type Spec struct {
	Alg     string // RS256 (default), PS256, ES256 or EdDSA
	RSABits int    // 2048 (default), 3072 or 4096; RSA algorithms only
}

// Algs lists the signing algorithms keyroll's issuer can generate keys for.
var Algs = []string{"RS256", "PS256", "ES256", "EdDSA"}

// ParseSpec parses "RS256", "RS256:3072", "PS256:4096", "ES256" or "EdDSA".
func ParseSpec(s string) (Spec, error) {
	alg, bits, _ := strings.Cut(s, ":")
	spec := Spec{Alg: alg}
	if bits != "" {
		if _, err := fmt.Sscanf(bits, "%d", &spec.RSABits); err != nil {
			return Spec{}, fmt.Errorf("key spec %q: %q is not a number of bits", s, bits)
		}
	}
	return spec, spec.Validate()
}

// Validate reports whether the spec names a supported algorithm and size,
// filling in defaults.
func (s *Spec) Validate() error {
	switch s.Alg {
	case "":
		s.Alg = "RS256"
		fallthrough
	case "RS256", "PS256":
		switch s.RSABits {
		case 0:
			s.RSABits = 2048
		case 2048, 3072, 4096:
		default:
			return fmt.Errorf("key spec: RSA keys are 2048, 3072 or 4096 bits, not %d", s.RSABits)
		}
	case "ES256", "EdDSA":
		if s.RSABits != 0 {
			return fmt.Errorf("key spec: %s takes no size", s.Alg)
		}
	default:
		return fmt.Errorf("key spec: unsupported algorithm %q (supported: %s)", s.Alg, strings.Join(Algs, ", "))
	}
	return nil
}

func (s Spec) String() string {
	if s.RSABits != 0 {
		return fmt.Sprintf("%s:%d", s.Alg, s.RSABits)
	}
	return s.Alg
}

// Material is a freshly generated signing key.
type Material struct {
	Key    lifecycle.Key // public record, state not yet set
	Signer crypto.Signer
	Cert   *x509.Certificate
}

// Generate makes a new key pair of spec and a self-signed certificate valid
// from notBefore to notAfter (whole seconds), named after subject (usually
// the issuer's URL). Callers backdate notBefore by the clock skew they
// tolerate, so a replica whose clock is a little behind can sign with a key
// made a moment ago. The kid
// is the RFC 7638 JWK thumbprint of the public key, so it is fresh whenever
// the key material is.
func Generate(spec Spec, subject string, notBefore, notAfter time.Time, random io.Reader) (*Material, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if random == nil {
		random = rand.Reader
	}
	var signer crypto.Signer
	var err error
	switch spec.Alg {
	case "RS256", "PS256":
		signer, err = rsa.GenerateKey(random, spec.RSABits)
	case "ES256":
		signer, err = ecdsa.GenerateKey(elliptic.P256(), random)
	case "EdDSA":
		_, signer, err = ed25519.GenerateKey(random)
	}
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", spec, err)
	}
	return Certify(spec.Alg, signer, subject, notBefore, notAfter, random)
}

// Certify makes the self-signed certificate and public record of a key
// pair made elsewhere (in an HSM: signer signs the certificate there) for
// the algorithm alg, valid from notBefore to notAfter (whole seconds).
func Certify(alg string, signer crypto.Signer, subject string, notBefore, notAfter time.Time, random io.Reader) (*Material, error) {
	if random == nil {
		random = rand.Reader
	}
	serial, err := rand.Int(random, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	notBefore, notAfter = notBefore.UTC().Truncate(time.Second), notAfter.UTC().Truncate(time.Second)
	if !notAfter.After(notBefore) {
		return nil, fmt.Errorf("certify %s key: validity %s..%s is empty", alg, notBefore, notAfter)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "keyroll token signing - " + subject, Organization: []string{"keyroll"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(random, tmpl, tmpl, signer.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("self-sign %s certificate: %w", alg, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	kid, err := jwk.Thumbprint(signer.Public())
	if err != nil {
		return nil, err
	}
	return &Material{
		Key: lifecycle.Key{
			KID: kid, Alg: alg, Thumbprint: jwk.SHA1Thumbprint(der), Cert: der,
			NotBefore: cert.NotBefore, NotAfter: cert.NotAfter,
		},
		Signer: signer,
		Cert:   cert,
	}, nil
}
