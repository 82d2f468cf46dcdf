// Package tlsreload serves a TLS certificate from files and picks up a
// renewed certificate (certbot, cert-manager, an operator's copy) without
// a restart: the files are looked at again at most once per interval, and
// a pair that does not load keeps the previous certificate in service.
package tlsreload

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Checks are at most this often.
const interval = 5 * time.Second

// Loader holds the certificate of a cert/key file pair.
type Loader struct {
	certFile, keyFile string
	now               func() time.Time
	log               *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   string // mod times and sizes of the files the certificate came from
	checked time.Time
}

// New loads the pair once; an error here is the operator's to fix before
// start. now nil: the wall clock.
func New(certFile, keyFile string, now func() time.Time, log *slog.Logger) (*Loader, error) {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Loader{certFile: certFile, keyFile: keyFile, now: now, log: log}
	stamp, err := l.stampOf()
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate %s and key %s: %w", certFile, keyFile, err)
	}
	l.cert, l.stamp, l.checked = &cert, stamp, now()
	return l, nil
}

func (l *Loader) stampOf() (string, error) {
	var s string
	for _, f := range []string{l.certFile, l.keyFile} {
		st, err := os.Stat(f)
		if err != nil {
			return "", fmt.Errorf("TLS: %w", err)
		}
		s += fmt.Sprintf("%d/%d;", st.ModTime().UnixNano(), st.Size())
	}
	return s, nil
}

// Certificate returns the certificate to serve, reloading it first when the
// files changed since it was loaded (looked at once per interval).
func (l *Loader) Certificate() *tls.Certificate {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.checked) < interval && !now.Before(l.checked) {
		return l.cert
	}
	l.checked = now
	stamp, err := l.stampOf()
	if err != nil || stamp == l.stamp {
		return l.cert
	}
	cert, err := tls.LoadX509KeyPair(l.certFile, l.keyFile)
	if err != nil {
		// Half-written files (the key replaced before the certificate) fail
		// here: keep serving the old pair and look again next time.
		l.log.Warn("TLS certificate files changed but do not load; serving the previous certificate", "cert", l.certFile, "err", err)
		return l.cert
	}
	l.cert, l.stamp = &cert, stamp
	l.log.Info("TLS certificate reloaded", "cert", l.certFile)
	return l.cert
}

// Config is a server TLS configuration (TLS 1.2 or later) serving the
// loader's certificate.
func (l *Loader) Config() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
		return l.Certificate(), nil
	}}
}
