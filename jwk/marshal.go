package jwk

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
)

// MarshalJSON renders k as a public JWK with members in this order: kty,
// use, kid, alg (if set), n/e | crv/x/y | crv/x, x5c, x5t, x5t#S256 (each if
// set), issuer (if set). A key without use is written with use "sig", the
// only use keyroll publishes; kid is omitted when empty. Kty is derived from
// Public. A key ParseKey would refuse (weak RSA, alg not fitting the key, an
// x5c leaf for another key) is an error, so keyroll never publishes one.
func (k Key) MarshalJSON() ([]byte, error) {
	if kerr := checkAlg(k); kerr != nil {
		return nil, fmt.Errorf("jwk: cannot marshal key %s: %w", quoteShort(k.KID), kerr)
	}
	if len(k.Certs) > 0 && !equalKeys(k.Public, k.Certs[0].PublicKey) {
		return nil, fmt.Errorf("jwk: cannot marshal key %s: %w", quoteShort(k.KID), ErrCertMismatch)
	}
	use := k.Use
	if use == "" {
		use = "sig"
	}
	var w writer
	w.member("kty", kty(k))
	w.member("use", use)
	w.optional("kid", k.KID)
	w.optional("alg", k.Alg)
	if err := w.material(k); err != nil {
		return nil, err
	}
	if len(k.Certs) > 0 {
		chain := make([]string, len(k.Certs))
		for i, c := range k.Certs {
			chain[i] = base64.StdEncoding.EncodeToString(c.Raw)
		}
		w.value("x5c", chain)
	}
	w.optional("x5t", k.X5T)
	w.optional("x5t#S256", k.X5TS256)
	w.optional("issuer", k.Issuer)
	return w.close(), nil
}

// UnmarshalJSON parses one key with [ParseKey]'s rules, so decoding a [Set]
// with encoding/json fails on the first unusable key; use [ParseSet] to skip
// such keys instead.
func (k *Key) UnmarshalJSON(data []byte) error {
	key, err := ParseKey(data)
	if err != nil {
		return err
	}
	*k = key
	return nil
}

// FromCertificate makes the public JWK that publishes cert under kid for alg,
// with use "sig", x5c holding cert, x5t and x5t#S256. An empty alg means
// [DefaultAlg] of the certificate's key; the key must fit alg (see
// [jws.CheckKey]).
func FromCertificate(cert *x509.Certificate, kid, alg string) (Key, error) {
	if cert == nil {
		return Key{}, errors.New("jwk: nil certificate")
	}
	k := Key{KID: kid, Alg: alg, Use: "sig", Public: cert.PublicKey, Certs: []*x509.Certificate{cert}}
	k.Kty = kty(k)
	if k.Kty == "" {
		return Key{}, fmt.Errorf("jwk: certificate key: %w", ErrUnsupported)
	}
	if k.Alg == "" {
		k.Alg = DefaultAlg(k)
	}
	if kerr := checkAlg(k); kerr != nil {
		kerr.KID = kid
		return Key{}, kerr
	}
	s1, s256 := sha1.Sum(cert.Raw), sha256.Sum256(cert.Raw)
	k.X5T = b64url.EncodeToString(s1[:])
	k.X5TS256 = b64url.EncodeToString(s256[:])
	return k, nil
}

// kty names the JWK key type of k.Public; "" if unsupported.
func kty(k Key) string {
	switch k.Public.(type) {
	case *rsa.PublicKey:
		return "RSA"
	case *ecdsa.PublicKey:
		return "EC"
	case ed25519.PublicKey:
		return "OKP"
	}
	return ""
}

// writer builds a JSON object member by member, in call order.
type writer struct{ buf []byte }

func (w *writer) value(name string, v any) {
	if len(w.buf) == 0 {
		w.buf = append(w.buf, '{')
	} else {
		w.buf = append(w.buf, ',')
	}
	n, _ := json.Marshal(name) // strings and []string cannot fail
	b, _ := json.Marshal(v)
	w.buf = append(append(append(w.buf, n...), ':'), b...)
}

func (w *writer) member(name, v string) { w.value(name, v) }

func (w *writer) optional(name, v string) {
	if v != "" {
		w.value(name, v)
	}
}

func (w *writer) close() []byte { return append(w.buf, '}') }

// material writes n/e, crv/x/y or crv/x.
func (w *writer) material(k Key) error {
	switch pub := k.Public.(type) {
	case *rsa.PublicKey:
		w.member("n", b64url.EncodeToString(pub.N.Bytes()))
		w.member("e", b64url.EncodeToString(big.NewInt(int64(pub.E)).Bytes()))
	case *ecdsa.PublicKey:
		point, err := pub.Bytes() // 0x04 || x || y, each full length
		if err != nil {
			return fmt.Errorf("jwk: EC key: %w", err)
		}
		size := (len(point) - 1) / 2
		w.member("crv", pub.Curve.Params().Name)
		w.member("x", b64url.EncodeToString(point[1:1+size]))
		w.member("y", b64url.EncodeToString(point[1+size:]))
	case ed25519.PublicKey:
		w.member("crv", "Ed25519")
		w.member("x", b64url.EncodeToString(pub))
	default:
		return fmt.Errorf("jwk: %w: %T", ErrUnsupported, k.Public)
	}
	return nil
}
