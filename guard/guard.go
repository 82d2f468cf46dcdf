package guard

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/keyroll/keyroll/verify"
)

// Guard is a configured reverse proxy: a verifier with its key cache, the
// protected proxy handler and the admin handler. Serve runs it.
type Guard struct {
	cfg      Config
	v        *verify.Verifier
	log      *slog.Logger
	reg      *prometheus.Registry
	requests requestMetrics
	rejects  rejectLog
	handler  http.Handler
	admin    http.Handler
}

// New checks cfg and builds a guard. With a CacheFile it loads the
// persisted keys at once; otherwise keys are fetched by Serve (or by the
// first request).
func New(cfg Config) (*Guard, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if err := cfg.checkIntervals(); err != nil {
		return nil, err
	}
	g := &Guard{cfg: cfg, log: cfg.Logger, reg: prometheus.NewRegistry()}
	g.rejects = rejectLog{log: cfg.Logger, now: cfg.Clock.Now}
	metrics, err := g.registerMetrics()
	if err != nil {
		return nil, err
	}
	opts := []verify.Option{
		verify.WithAudience(cfg.Audience...),
		verify.WithRefreshInterval(cfg.RefreshInterval),
		verify.WithMinRefreshInterval(cfg.MinRefreshInterval),
		verify.WithClock(cfg.Clock),
		verify.WithObserver(fanout{metrics, logObserver{g.log}, cfg.Observer}),
	}
	if cfg.CacheFile != "" {
		opts = append(opts, verify.WithCacheFile(cfg.CacheFile))
	}
	if cfg.KeyClient != nil {
		opts = append(opts, verify.WithHTTPClient(cfg.KeyClient))
	}
	src := verify.Discovery(cfg.Issuer)
	if cfg.Metadata != "" {
		src = verify.FederationMetadataSignedBy(cfg.Metadata, cfg.MetadataSigner)
	}
	if g.v, err = verify.New(cfg.Issuer, src, opts...); err != nil {
		return nil, err
	}
	if err := metrics.Watch(g.v.Cache()); err != nil {
		return nil, err
	}
	g.handler = g.protect(g.newProxy(cfg.Upstream))
	g.admin = g.adminMux()
	return g, nil
}

// Handler returns the protecting proxy: verified requests go upstream,
// others get 401.
func (g *Guard) Handler() http.Handler { return g.handler }

// AdminHandler returns the admin endpoints: /metrics, /healthz, /readyz.
func (g *Guard) AdminHandler() http.Handler { return g.admin }

// Verifier returns the guard's token verifier (and, through it, the key cache).
func (g *Guard) Verifier() *verify.Verifier { return g.v }

// Serve runs the proxy on ln and, when admin is not nil, the admin
// endpoints on admin, and keeps the keys fresh, until ctx ends; then it
// shuts the servers down gracefully (at most 10s) and closes the idle
// upstream connections. It returns the first server error, or nil.
func (g *Guard) Serve(ctx context.Context, ln, admin net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { g.v.Cache().Run(ctx) })
	servers, errc := g.start(&wg, ln, admin)
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	cancel()
	if e := shutdown(servers); err == nil {
		err = e
	}
	wg.Wait()
	g.CloseIdleConnections()
	return err
}

// start serves the proxy on ln and the admin endpoints on admin (if not
// nil); a server that fails reports on the returned channel.
func (g *Guard) start(wg *sync.WaitGroup, ln, admin net.Listener) ([]*http.Server, <-chan error) {
	servers := []*http.Server{g.server(g.handler)}
	listeners := []net.Listener{ln}
	if admin != nil {
		servers = append(servers, g.server(g.admin))
		listeners = append(listeners, admin)
	}
	errc := make(chan error, len(servers))
	for i, s := range servers {
		wg.Go(func() {
			if err := s.Serve(listeners[i]); !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		})
	}
	return servers, errc
}

// shutdown stops the servers, letting requests in progress finish for up
// to 10 seconds.
func shutdown(servers []*http.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	for _, s := range servers {
		if e := s.Shutdown(ctx); e != nil && err == nil && !errors.Is(e, context.DeadlineExceeded) {
			err = e
		}
	}
	return err
}

// CloseIdleConnections closes the upstream transport's idle keep-alive
// connections.
func (g *Guard) CloseIdleConnections() {
	if t, ok := g.cfg.Transport.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
}

func (g *Guard) server(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		MaxHeaderBytes:    g.cfg.MaxHeaderBytes,
		ReadHeaderTimeout: g.cfg.ReadHeaderTimeout,
		ReadTimeout:       g.cfg.ReadTimeout,
		WriteTimeout:      g.cfg.WriteTimeout,
		IdleTimeout:       g.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelDebug),
	}
}
