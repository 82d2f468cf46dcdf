package jwk

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"strconv"
)

// readCerts reads x5c, x5t and x5t#S256 into k and checks them against the
// key: the leaf certificate must hold k.Public and the thumbprints must be
// the leaf's.
func readCerts(m members, k *Key) *KeyError {
	chain, err := m.strings("x5c")
	if err != nil {
		return keyErr(ErrMalformed, err.Error())
	}
	if len(chain) > maxCerts {
		return keyErr(ErrMalformed, "x5c holds more than "+strconv.Itoa(maxCerts)+" certificates")
	}
	for i, s := range chain {
		der, err := base64.StdEncoding.Strict().DecodeString(s)
		if err != nil {
			return keyErr(ErrMalformed, "x5c["+strconv.Itoa(i)+"] is not base64")
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return keyErr(ErrMalformed, "x5c["+strconv.Itoa(i)+"]: "+err.Error())
		}
		k.Certs = append(k.Certs, cert)
	}
	if len(k.Certs) > 0 && !equalKeys(k.Public, k.Certs[0].PublicKey) {
		return keyErr(ErrCertMismatch, "x5c leaf holds a different public key")
	}
	if k.X5T, err = m.str("x5t"); err != nil {
		return keyErr(ErrMalformed, err.Error())
	}
	if k.X5TS256, err = m.str("x5t#S256"); err != nil {
		return keyErr(ErrMalformed, err.Error())
	}
	if kerr := checkThumb("x5t", k.X5T, sha1.Size, k.Certs, sha1Sum); kerr != nil {
		return kerr
	}
	return checkThumb("x5t#S256", k.X5TS256, sha256.Size, k.Certs, sha256Sum)
}

func sha1Sum(b []byte) []byte   { s := sha1.Sum(b); return s[:] }
func sha256Sum(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

// checkThumb checks a published thumbprint's form and, with a chain, that it
// is the leaf's.
func checkThumb(name, value string, size int, certs []*x509.Certificate, sum func([]byte) []byte) *KeyError {
	if value == "" {
		return nil
	}
	b, err := decodeB64URL(value)
	if err != nil || len(b) != size {
		return keyErr(ErrMalformed, name+" is not a base64url "+strconv.Itoa(size)+"-byte hash")
	}
	if len(certs) > 0 && !bytes.Equal(b, sum(certs[0].Raw)) {
		return keyErr(ErrCertMismatch, name+" is not the thumbprint of the x5c leaf")
	}
	return nil
}
