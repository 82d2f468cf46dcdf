package console

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/issuer/admin"
)

// Path is where the console is served.
const Path = "/console/"

// Default timeouts of a session.
const (
	DefaultIdleTimeout     = 30 * time.Minute
	DefaultAbsoluteTimeout = 12 * time.Hour
)

// Options configures the console.
type Options struct {
	// Tokens mints test tokens for the API drill; nil: the Drill page
	// cannot run drills.
	Tokens admin.TokenMinter
	// IdleTimeout ends a session after this long without a request;
	// AbsoluteTimeout ends it this long after sign-in whatever the
	// activity. 0: the defaults.
	IdleTimeout, AbsoluteTimeout time.Duration
	// Readiness supplies readiness verdicts for the Applications page
	// (keyroll serve: [IssuerReadiness]); nil: the page has no readiness
	// column.
	Readiness Readiness
	// Drills keeps finished drills (keyroll serve: [StoreHistory]); nil:
	// the last few, in memory.
	Drills DrillHistory
	// DrillHTTP is the client the API drill calls applications with;
	// nil: a client with a 30 s timeout.
	DrillHTTP *http.Client
}

// Handler is the console.
type Handler struct {
	m      *issuer.Manager
	opts   Options
	log    *slog.Logger
	secure bool   // https issuer: __Host- cookie, Secure
	origin string // the issuer's origin, scheme://host
	cookie string // session cookie name
	mux    *http.ServeMux
	gate   *throttle
	runs   *drillRuns
	hash   chan struct{} // bounds concurrent password hashing
}

// New returns the console of m, to be served under [Path].
func New(m *issuer.Manager, opts Options) *Handler {
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.AbsoluteTimeout <= 0 {
		opts.AbsoluteTimeout = DefaultAbsoluteTimeout
	}
	if opts.Drills == nil {
		opts.Drills = NewMemoryHistory(20)
	}
	h := &Handler{m: m, opts: opts, log: m.Logger(), mux: http.NewServeMux(),
		gate: newThrottle(m.Now), runs: newDrillRuns(), hash: make(chan struct{}, 2)}
	if u, err := url.Parse(m.Issuer()); err == nil {
		h.secure = u.Scheme == "https"
		h.origin = u.Scheme + "://" + u.Host
	}
	h.cookie = cookieName(h.secure)
	h.routes()
	return h
}

func (h *Handler) routes() {
	h.mux.HandleFunc("GET /console/static/console.css", serveCSS)
	h.mux.HandleFunc("GET /console/signin", h.signInPage)
	h.mux.HandleFunc("POST /console/signin", h.post(h.signIn))
	h.mux.HandleFunc("POST /console/signout", h.action(h.signOut))
	h.mux.HandleFunc("GET /console/{$}", h.page(func(w http.ResponseWriter, r *http.Request, s *session) {
		http.Redirect(w, r, "/console/keys", http.StatusSeeOther)
	}))
	h.mux.HandleFunc("GET /console/keys", h.page(h.keysPage))
	h.mux.HandleFunc("GET /console/keys/rotate", h.page(h.rotateConfirm))
	h.mux.HandleFunc("POST /console/keys/rotate", h.action(h.rotate))
	h.mux.HandleFunc("GET /console/keys/revoke", h.page(h.revokeConfirm))
	h.mux.HandleFunc("POST /console/keys/revoke", h.action(h.revoke))
	h.mux.HandleFunc("GET /console/apps", h.page(h.appsPage))
	h.mux.HandleFunc("GET /console/apps/{app}/override", h.page(h.overrideConfirm))
	h.mux.HandleFunc("POST /console/apps/{app}/override", h.action(h.override))
	h.mux.HandleFunc("GET /console/apps/{app}/restore", h.page(h.restoreConfirm))
	h.mux.HandleFunc("POST /console/apps/{app}/restore", h.action(h.restore))
	h.mux.HandleFunc("GET /console/events", h.page(h.eventsPage))
	h.mux.HandleFunc("GET /console/drill", h.page(h.drillPage))
	h.mux.HandleFunc("POST /console/drill", h.action(h.startDrill))
	h.mux.HandleFunc("GET /console/drill/runs/{id}", h.page(h.drillRunPage))
}

// csp allows the console's own stylesheet and forms, and nothing else:
// no script at all, no framing.
const csp = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// ServeHTTP sets the security headers every console answer carries.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", csp)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cache-Control", "no-store")
	h.mux.ServeHTTP(w, r)
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/console.css
var consoleCSS []byte

func serveCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "max-age=3600")
	w.Write(consoleCSS)
}

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"day":          func(t time.Time) string { return dayOf(t) },
	"when":         func(t time.Time) string { return whenOf(t) },
	"abbrev":       abbrev,
	"kindLabel":    kindLabel,
	"verdictClass": func(v any) string { return strings.ReplaceAll(strings.ToLower(fmt.Sprint(v)), " ", "-") },
}).ParseFS(templateFS, "templates/*.html"))

func dayOf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

func whenOf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// abbrev shortens a thumbprint for people: 3A38…049B.
func abbrev(tp string) string {
	if len(tp) <= 12 {
		return tp
	}
	return tp[:4] + "…" + tp[len(tp)-4:]
}

// view is what every page template gets.
type view struct {
	Title   string
	Nav     string // the current section: keys, apps, events, drill
	Admin   string // signed-in administrator; "" on the sign-in page
	CSRF    string
	Notice  string // the outcome of the last action
	Error   string
	Refresh int // seconds; 0: no automatic refresh
	Data    any
}

// render writes a page; on a template error it answers 500.
func (h *Handler) render(w http.ResponseWriter, code int, name string, v view) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, v); err != nil {
		h.log.Error("console template failed", "page", name, "err", err)
		http.Error(w, "page template failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

// fail shows an error page inside the console's layout.
func (h *Handler) fail(w http.ResponseWriter, code int, s *session, msg string) {
	v := view{Title: "Not done", Error: msg}
	if s != nil {
		v.Admin, v.CSRF = s.admin, s.csrf
	}
	h.render(w, code, "error.html", v)
}

func (h *Handler) actor(s *session) string { return "console:" + s.admin }
