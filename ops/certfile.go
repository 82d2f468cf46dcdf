package ops

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// ErrNoCertificate: a file meant to hold certificates holds none.
var ErrNoCertificate = errors.New("no certificate found (expected PEM, DER, or the base64 text of a .cer)")

// ReadCertificates reads certificates from a PEM bundle, a DER certificate,
// or the base64 text of a .cer as Microsoft's manual rollover steps save it.
func ReadCertificates(data []byte) ([]*x509.Certificate, error) {
	if len(data) > MaxDocumentSize {
		return nil, ErrTooLarge
	}
	switch {
	case IsDER(data):
		c, err := x509.ParseCertificate(data)
		if err != nil {
			return nil, fmt.Errorf("DER certificate: %w", err)
		}
		return []*x509.Certificate{c}, nil
	case strings.Contains(string(data), "-----BEGIN"):
		return readPEM(data)
	}
	der, ok := Base64Cert(data)
	if !ok {
		return nil, ErrNoCertificate
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("base64 certificate: %w", err)
	}
	return []*x509.Certificate{c}, nil
}

func readPEM(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for n := 1; ; n++ {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: %w", n, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, ErrNoCertificate
	}
	return out, nil
}

// IsDER reports whether data starts like a DER certificate: a SEQUENCE with
// a long-form length (a certificate is longer than 127 bytes). Text never
// starts so: its second byte is below 0x80.
func IsDER(data []byte) bool {
	return len(data) > 1 && data[0] == 0x30 && data[1]&0x80 != 0
}

// Base64Cert decodes base64 text (possibly wrapped) that holds a DER
// certificate.
func Base64Cert(data []byte) ([]byte, bool) {
	s := strings.Join(strings.Fields(strings.TrimPrefix(string(data), "\ufeff")), "")
	if len(s) < 100 {
		return nil, false
	}
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil || !IsDER(der) {
		return nil, false
	}
	return der, true
}

// TrustRoots makes the loader's HTTPS client trust the CA certificates in
// pemData in addition to the system's (for an AD FS farm behind an internal CA).
func (l *Loader) TrustRoots(pemData []byte) error {
	certs, err := readPEM(pemData)
	if err != nil {
		return fmt.Errorf("CA file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	for _, c := range certs {
		pool.AddCert(c)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	l.Client = &http.Client{Transport: tr, Timeout: l.Timeout}
	return nil
}
