package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/issuer/admin"
	"github.com/keyroll/keyroll/issuer/console"
	"github.com/keyroll/keyroll/issuer/oidc"
	"github.com/keyroll/keyroll/issuer/samlidp"
	issuerhttp "github.com/keyroll/keyroll/issuer/server"
	"github.com/keyroll/keyroll/keys"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/ops/watch"
)

func init() {
	register(&command{
		name:    "serve",
		summary: "run the issuer: roll signing keys and publish them",
		usage: `Usage: keyroll serve [--listen ADDR] [--issuer URL] [--store sqlite:PATH | postgres://...]
                     [--key-backend software | pkcs11 --pkcs11-module PATH --pkcs11-token LABEL] [policy flags]

Runs the issuer. It keeps its signing keys in the store (encrypted under the
key-encryption key from KEYROLL_KEK or KEYROLL_KEK_FILE; the embedded SQLite
default creates keyroll.kek beside the database), rolls them by the AD FS-style
policy below, and publishes them before they sign:

  /.well-known/openid-configuration   OIDC discovery
  /.well-known/jwks.json              JWKS
  /federationmetadata/2007-06/federationmetadata.xml   signed WS-Fed/SAML metadata
  /oauth2/authorize, /oauth2/token, /oauth2/userinfo   OAuth 2.0 / OIDC for registered apps
  /saml2, /saml2/init                 SAML 2.0 sign-on (SP- and IdP-initiated)
  /wsfed                              WS-Federation passive sign-in and sign-out
  /console/                           the web console (keyroll admins create NAME)
  /healthz, /metrics, /admin/ (KEYROLL_ADMIN_TOKEN; loopback only without one)

--readiness-webhook URL posts a JSON event (kind app_at_risk or
app_not_ready, with app, verdict, reason and promote_at) when an
application's verdict (keyroll readiness) becomes AT RISK or NOT READY,
judged after each rollover check, drill and write of key-fetch rollups;
failed posts are retried with backoff as keyroll watch --webhook does.

With --key-backend pkcs11 every new key is generated inside an HSM token
(never extractable, labelled with its kid) and the store keeps only a
reference to it; the PIN comes from KEYROLL_PKCS11_PIN or
KEYROLL_PKCS11_PIN_FILE. Keys made before in software keep working (with
their KEK). A key's HSM object is destroyed a grace period after it is
revoked or expired.

Every flag can also be set by its environment variable: KEYROLL_ and the flag
name in capitals, e.g. KEYROLL_GENERATION_THRESHOLD=20d. Durations take 20d,
12h or 720m. Several replicas on one PostgreSQL database form a cluster.

Examples:
  keyroll serve
  keyroll serve --listen :8443 --issuer https://login.example.com --key-alg ES256
  KEYROLL_KEK_FILE=/etc/keyroll/kek keyroll serve --store postgres://keyroll@db/keyroll
  KEYROLL_PKCS11_PIN_FILE=/etc/keyroll/pin keyroll serve --key-backend pkcs11 \
      --pkcs11-module /usr/lib/softhsm/libsofthsm2.so --pkcs11-token keyroll
`,
		run: runServe,
	})
}

// policyFlags defines the rollover policy flags on fs and returns the policy
// they fill and the flag names (for applyEnv).
func policyFlags(fs *flag.FlagSet) (*lifecycle.Policy, []string) {
	p := lifecycle.DefaultPolicy()
	pol := &p
	fs.BoolVar(&pol.AutoRollover, "auto-rollover", p.AutoRollover, "generate and promote keys automatically (AD FS AutoCertificateRollover)")
	durationFlag(fs, &pol.CertificateDuration, "certificate-duration", p.CertificateDuration, "validity of new certificates (CertificateDuration)")
	durationFlag(fs, &pol.GenerationThreshold, "generation-threshold", p.GenerationThreshold, "generate the next key this long before the primary expires (CertificateGenerationThreshold)")
	durationFlag(fs, &pol.PromotionThreshold, "promotion-threshold", p.PromotionThreshold, "promote the next key this long after it is generated (CertificatePromotionThreshold)")
	durationFlag(fs, &pol.CriticalThreshold, "critical-threshold", p.CriticalThreshold, "generate and promote at once this long before the primary expires (CertificateCriticalThreshold)")
	durationFlag(fs, &pol.RolloverInterval, "rollover-interval", p.RolloverInterval, "how often the rollover check runs (CertificateRolloverInterval)")
	durationFlag(fs, &pol.MaxTokenLifetime, "max-token-lifetime", p.MaxTokenLifetime, "longest lifetime of a token the issuer signs")
	durationFlag(fs, &pol.RefreshInterval, "refresh-interval", p.RefreshInterval, "how long relying parties may cache the keys")
	durationFlag(fs, &pol.ClockSkew, "clock-skew", p.ClockSkew, "clock skew relying parties tolerate")
	return pol, []string{"auto-rollover", "certificate-duration", "generation-threshold", "promotion-threshold",
		"critical-threshold", "rollover-interval", "max-token-lifetime", "refresh-interval", "clock-skew"}
}

type serveConfig struct {
	listen, issuer, store, keyAlg string
	gate, readinessWebhook        string
	insecureHTTPIssuer            bool
	poll                          time.Duration
	policy                        *lifecycle.Policy
	backend                       *backendConfig
	log                           logFlags
	tls                           tlsFlags
	metricsListen                 string
}

func runServe(ctx context.Context, e *env, args []string) int {
	c := commands["serve"]
	fs := newFlags(c)
	var cfg serveConfig
	fs.StringVar(&cfg.listen, "listen", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&cfg.issuer, "issuer", "", "issuer URL: absolute https, no query or fragment (default http://LISTEN, for a loopback LISTEN)")
	fs.BoolVar(&cfg.insecureHTTPIssuer, "insecure-http-issuer", false, "DEVELOPMENT ONLY: allow an http issuer URL on a non-loopback host")
	fs.StringVar(&cfg.store, "store", defaultStore, "sqlite:PATH or postgres://...")
	fs.StringVar(&cfg.keyAlg, "key-alg", "RS256", "algorithm of new keys: RS256, RS256:3072, RS256:4096, PS256, ES256, EdDSA")
	fs.StringVar(&cfg.gate, "promotion-gate", "off", "off, or evidence: promote the next key only once every application that fetched keys in the last 30 days has fetched it or passed a drill with it (the critical threshold always wins)")
	fs.StringVar(&cfg.readinessWebhook, "readiness-webhook", "", "`URL` to POST a JSON event to when an application becomes AT RISK or NOT READY for the next rollover (keyroll watch's retry rules)")
	durationFlag(fs, &cfg.poll, "poll-interval", 10*time.Second, "how often a replica looks for changes made by others (PostgreSQL notifies at once)")
	fs.StringVar(&cfg.metricsListen, "metrics-listen", "", "serve /metrics on this address instead of the public one (e.g. 127.0.0.1:9090)")
	var names, backendNames []string
	cfg.policy, names = policyFlags(fs)
	names = append(names, cfg.log.define(fs)...)
	names = append(names, cfg.tls.define(fs)...)
	cfg.backend, backendNames = backendFlags(fs)
	names = append(names, backendNames...)
	if err := applyEnv(fs, e, append(names, "listen", "issuer", "store", "key-alg", "poll-interval", "promotion-gate", "metrics-listen", "readiness-webhook")...); err != nil {
		fmt.Fprintf(e.stderr, "keyroll serve: %v\n", err)
		return exitUsage
	}
	if _, code := parseFlags(fs, c, e, args); code >= 0 {
		return code
	}
	if err := serve(ctx, e, cfg); err != nil {
		fmt.Fprintf(e.stderr, "keyroll serve: %v\n", err)
		return exitFail
	}
	return exitOK
}

func serve(ctx context.Context, e *env, cfg serveConfig) error {
	spec, err := keys.ParseSpec(cfg.keyAlg)
	if err != nil {
		return err
	}
	logger, err := cfg.log.logger(e.stderr)
	if err != nil {
		return err
	}
	if err := cfg.policy.Validate(); err != nil {
		return err
	}
	gate := issuer.GateOff
	switch cfg.gate {
	case "off", "":
	case "evidence":
		gate = issuer.GateEvidence
	default:
		return fmt.Errorf("--promotion-gate %q: want off or evidence", cfg.gate)
	}
	if cfg.readinessWebhook != "" {
		if err := watch.ValidateWebhook(cfg.readinessWebhook); err != nil {
			return fmt.Errorf("--readiness-webhook: %w", err)
		}
	}
	if err := cfg.backend.check(spec); err != nil {
		return err
	}
	// The token is opened first: a missing module or token or a wrong PIN
	// stops serve before the store is created or written.
	var hsm keys.Backend
	if cfg.backend.kind == "pkcs11" {
		var closeHSM func() error
		if hsm, closeHSM, err = openHSM(cfg.backend, e.getenv); err != nil {
			return err
		}
		defer closeHSM()
	}
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return err
	}
	defer ln.Close()
	ln, scheme, err := cfg.tls.wrap(ln, logger)
	if err != nil {
		return err
	}
	if cfg.issuer == "" {
		cfg.issuer = scheme + "://" + displayAddr(ln.Addr())
	}
	if err := checkIssuerURL(cfg.issuer, cfg.insecureHTTPIssuer); err != nil {
		return err
	}
	if u, _ := url.Parse(cfg.issuer); u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		fmt.Fprintf(e.stderr, "WARNING: --insecure-http-issuer: the issuer %s is plain http on a network host; tokens, codes and sign-in cookies travel unencrypted. Never use this outside development.\n", cfg.issuer)
	}
	st, kekFile, err := openStore(ctx, cfg.store)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	fresh, err := issuer.StoreIsNew(ctx, st)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	sealer, backend, err := keyBackend(e, hsm, kekFile, fresh)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	clk := clock.Real{}
	m, err := issuer.New(issuer.Config{
		Issuer: cfg.issuer, Store: st, Sealer: sealer, Backend: backend, Policy: *cfg.policy, KeySpec: spec,
		Clock: clk, Logger: logger, PollInterval: cfg.poll,
		Metrics: issuer.NewMetrics(reg, clk.Now), PromotionGate: gate,
	})
	if err != nil {
		return err
	}
	if err := m.Open(ctx); err != nil {
		return err
	}
	token := e.getenv("KEYROLL_ADMIN_TOKEN")
	fetches := issuer.NewFetchRecorder(m, issuer.FetchRecorderConfig{
		OnError: func(err error) { logger.Warn("recording key fetches failed", "err", err) }})
	opts := issuerhttp.Options{AdminToken: token, Gatherer: reg, Registerer: reg, Fetches: fetches,
		Console: console.Options{Readiness: console.IssuerReadiness(m, fetches, admin.DefaultWithin), Drills: console.StoreHistory(m)}}
	var metricsLn net.Listener
	if cfg.metricsListen != "" {
		if metricsLn, err = net.Listen("tcp", cfg.metricsListen); err != nil {
			return err
		}
		defer metricsLn.Close()
		opts.Gatherer = nil
	}
	var srv http.Handler = issuerhttp.New(m, opts)
	behindProxy := strings.HasPrefix(cfg.issuer, "https://") && !cfg.tls.on()
	if behindProxy {
		srv = proxyWarning(srv, logger, clk.Now)
	}
	printStartup(e, m, cfg, token != "")
	if behindProxy {
		fmt.Fprintln(e.stdout, "  warning: the issuer URL is https and this listener is plain http: run it behind a TLS proxy that sets X-Forwarded-Proto (or give --tls-cert/--tls-key)")
	}
	if metricsLn != nil {
		fmt.Fprintf(e.stdout, "  metrics:   http://%s%s (not on the public listener)\n", displayAddr(metricsLn.Addr()), issuerhttp.MetricsPath)
		mux := http.NewServeMux()
		mux.Handle("GET "+issuerhttp.MetricsPath, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		ms := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go ms.Serve(metricsLn)
		defer ms.Close()
	}

	// The rotation loop stops, and is waited for, before the store closes.
	loopCtx, stopLoop := context.WithCancel(ctx)
	loopDone := make(chan struct{})
	spDone := make(chan struct{})
	fetchesDone := make(chan struct{})
	go func() { m.Run(loopCtx); close(loopDone) }()
	go func() { fetches.Run(loopCtx); close(fetchesDone) }()
	go func() { samlidp.RunSPRefresh(loopCtx, m, clk, m.SPRefreshInterval(), logger); close(spDone) }()
	readinessDone := startReadinessWatch(loopCtx, m, cfg.readinessWebhook, clk, logger)
	defer func() { stopLoop(); <-loopDone; <-spDone; <-fetchesDone; readinessDone() }()
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// keyBackend loads the KEK and returns the backend of the issuer's keys:
// software keys sealed under the KEK (created beside a new SQLite store,
// and only beside a new, empty one: newStore), or the HSM for new keys
// with the KEK, if there is one, for older software keys.
func keyBackend(e *env, hsm keys.Backend, kekFile string, newStore bool) (*keys.Sealer, keys.Backend, error) {
	if hsm != nil {
		sealer, _, err := optionalKEK(e.getenv, kekFile)
		if err != nil {
			return nil, nil, err
		}
		return sealer, keys.Mixed{HSM: hsm, Software: keys.Software{Sealer: sealer}}, nil
	}
	kek, src, err := keys.LoadKEK(e.getenv, kekFile, newStore)
	if err != nil {
		if !newStore {
			return nil, nil, fmt.Errorf("refusing to start: the store was created under a key-encryption key and none was found (%s): %w; "+
				"restore the KEK from its backup (a new one cannot open the stored keys); nothing was written", kekSearched(e.getenv, kekFile), err)
		}
		return nil, nil, err
	}
	if src.Created {
		fmt.Fprintf(e.stdout, "created a new key-encryption key in %s (mode 0600): back it up; without it the keys cannot be opened\n", src.From[len("file "):])
	}
	sealer, err := keys.NewSealer(kek)
	if err != nil {
		return nil, nil, err
	}
	return sealer, keys.Software{Sealer: sealer}, nil
}

func printStartup(e *env, m *issuer.Manager, cfg serveConfig, hasToken bool) {
	snap := m.Snapshot()
	w := e.stdout
	fmt.Fprintf(w, "keyroll issuer %s\n  store: %s\n", cfg.issuer, redactDSN(cfg.store))
	if cfg.backend.kind == "pkcs11" {
		fmt.Fprintf(w, "  keys: new keys generated in PKCS #11 token %q (%s); older software keys opened with the KEK if present\n", cfg.backend.token, cfg.backend.module)
	}
	for _, ep := range []struct{ name, path string }{
		{"discovery", issuer.DiscoveryPath}, {"jwks", issuer.JWKSPath}, {"metadata", issuer.MetadataPath},
		{"authorize", oidc.AuthorizePath}, {"token", oidc.TokenPath}, {"userinfo", oidc.UserInfoPath},
		{"saml sso", samlidp.SSOPath}, {"ws-fed", samlidp.PassivePath},
	} {
		fmt.Fprintf(w, "  %-10s %s%s\n", ep.name+":", cfg.issuer, ep.path)
	}
	fmt.Fprintf(w, "  %-10s %s%s (sign in as an administrator: keyroll admins create NAME)\n", "console:", cfg.issuer, console.Path)
	if hasToken {
		fmt.Fprintln(w, "  admin API: /admin/ with KEYROLL_ADMIN_TOKEN")
	} else {
		fmt.Fprintln(w, "  admin API: no KEYROLL_ADMIN_TOKEN set, so it answers loopback clients only")
	}
	if snap.MetadataErr != nil {
		fmt.Fprintf(w, "  warning: federation metadata is served unsigned: %v\n", snap.MetadataErr)
	}
	fmt.Fprintln(w, "published keys:")
	t := newTable(w, "  STATE", "THUMBPRINT", "KID", "ALG", "NOT AFTER")
	for _, k := range snap.Published {
		t.row("  "+string(k.State), k.Thumbprint, k.KID, k.Alg, day(k.NotAfter))
	}
	t.flush()
	if a, at := nextAction(m); !at.IsZero() {
		fmt.Fprintf(w, "next scheduled change: %s, %s\n", at.UTC().Format(time.RFC3339), a)
	}
}

// nextAction describes what the policy does next and when.
func nextAction(m *issuer.Manager) (string, time.Time) {
	snap := m.Snapshot()
	ev := lifecycle.ForecastHeld(snap.Keys, m.Policy(), m.Now(), m.Now().AddDate(2, 0, 0), m.Hold())
	if len(ev) == 0 {
		return "", time.Time{}
	}
	e := ev[0]
	from := string(e.From)
	if from == "" {
		from = "new"
	}
	return fmt.Sprintf("%s %s→%s (%s)", e.KID, from, e.To, e.Reason), e.Time
}

func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || tcp.IP.IsUnspecified() {
		if ok {
			return fmt.Sprintf("localhost:%d", tcp.Port)
		}
		return a.String()
	}
	return tcp.String()
}

// kekSearched says where LoadKEK looked for the KEK, for an error message.
func kekSearched(getenv func(string) string, kekFile string) string {
	if getenv("KEYROLL_KEK") != "" {
		return "KEYROLL_KEK"
	}
	if f := getenv("KEYROLL_KEK_FILE"); f != "" {
		return "looked in KEYROLL_KEK_FILE=" + f
	}
	if kekFile == "" {
		return "KEYROLL_KEK and KEYROLL_KEK_FILE are not set"
	}
	return "KEYROLL_KEK and KEYROLL_KEK_FILE are not set; looked in " + kekFile
}
