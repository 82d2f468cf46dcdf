package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/keyroll/keyroll/internal/tlsreload"
)

// logFlags are --log-format and --log-level of the long-running commands.
type logFlags struct{ format, level string }

func (f *logFlags) define(fs *flag.FlagSet) []string {
	fs.StringVar(&f.format, "log-format", "text", "log format: text or json (one JSON object a line)")
	fs.StringVar(&f.level, "log-level", "info", "least severe level logged: debug, info, warn or error")
	return []string{"log-format", "log-level"}
}

// logger returns the logger the flags ask for, writing to w.
func (f *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(f.level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", f.level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch f.format {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", f.format)
}

// tlsFlags are --tls-cert and --tls-key: serve https, picking up renewed
// files without a restart.
type tlsFlags struct{ cert, key string }

func (f *tlsFlags) define(fs *flag.FlagSet) []string {
	fs.StringVar(&f.cert, "tls-cert", "", "serve https with this PEM certificate `FILE` (chain first to last; reloaded when it changes)")
	fs.StringVar(&f.key, "tls-key", "", "the PEM private key `FILE` of --tls-cert")
	return []string{"tls-cert", "tls-key"}
}

// on reports whether TLS is configured.
func (f *tlsFlags) on() bool { return f.cert != "" || f.key != "" }

// wrap returns ln serving TLS when configured, and the scheme it serves.
func (f *tlsFlags) wrap(ln net.Listener, log *slog.Logger) (net.Listener, string, error) {
	if !f.on() {
		return ln, "http", nil
	}
	if f.cert == "" || f.key == "" {
		return nil, "", errors.New("--tls-cert and --tls-key go together")
	}
	l, err := tlsreload.New(f.cert, f.key, nil, log)
	if err != nil {
		return nil, "", err
	}
	return tls.NewListener(ln, l.Config()), "https", nil
}

// proxyWarning wraps h for an https issuer served over plain http: a
// request that did not come through a TLS proxy (no X-Forwarded-Proto:
// https or Forwarded: proto=https) is logged as a warning, at most once
// every ten minutes, because its users' browsers see the issuer on http.
func proxyWarning(h http.Handler, log *slog.Logger, now func() time.Time) http.Handler {
	var last atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !viaTLSProxy(r) {
			t := now().UnixNano()
			if prev := last.Load(); t-prev >= int64(10*time.Minute) && last.CompareAndSwap(prev, t) {
				log.Warn("the issuer URL is https but this request came over plain http without a TLS proxy's X-Forwarded-Proto: https; "+
					"put keyroll serve behind a TLS proxy or give it --tls-cert and --tls-key", "path", r.URL.Path, "remote", r.RemoteAddr)
			}
		}
		h.ServeHTTP(w, r)
	})
}

func viaTLSProxy(r *http.Request) bool {
	if strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		return true
	}
	for _, part := range strings.Split(r.Header.Get("Forwarded"), ";") {
		if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok && strings.EqualFold(k, "proto") && strings.EqualFold(strings.Trim(v, `"`), "https") {
			return true
		}
	}
	return false
}
