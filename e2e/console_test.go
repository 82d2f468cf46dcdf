package e2e

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/issuer/issuertest"
	"github.com/keyroll/keyroll/issuer/server"
	"github.com/keyroll/keyroll/lifecycle"
)

// chromium finds the browser, or skips (fails under CI=true).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but no chromium is installed (apt-get install chromium)")
	}
	t.Skip("no chromium on PATH: install Debian's chromium package to run the browser tests")
	return ""
}

// browser starts headless Chromium with a fresh profile; it closes when
// the test ends.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancel := chromedp.NewContext(actx)
	// Close the browser and wait for it before the profile directory is
	// removed (Cleanup runs in reverse order: this first).
	t.Cleanup(func() {
		if err := chromedp.Cancel(bctx); err != nil {
			t.Logf("closing chromium: %v", err)
		}
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Run(bctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return bctx
}

// keyroll serves an issuer whose clock stands 400 days after its first
// key was made, so the chart has a past rollover and a forecast.
type keyroll struct {
	url string
	m   *issuer.Manager
}

func startKeyroll(t *testing.T) *keyroll {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	clk := clock.NewFake(issuertest.Start.AddDate(-1, 0, 0))
	st := issuertest.OpenSQLite(t, t.TempDir())
	t.Cleanup(func() { st.Close() })
	m := issuertest.NewManager(t, url, st, issuertest.KEK(t), clk, lifecycle.DefaultPolicy(), "")
	for range 40 {
		clk.Advance(10 * 24 * time.Hour)
		if _, err := m.Check(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := m.CreateApp(context.Background(), issuer.AppSpec{Name: "orders"}, "admin"); err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: server.New(m, server.Options{})}}
	srv.Start()
	t.Cleanup(srv.Close)
	return &keyroll{url: url, m: m}
}

func (k *keyroll) primary(t *testing.T) string {
	t.Helper()
	ks := k.m.Snapshot().Keys
	if i := lifecycle.PrimaryIndex(ks); i >= 0 {
		return ks[i].Thumbprint
	}
	t.Fatal("no primary")
	return ""
}

// artifacts is where screenshots go.
func artifacts(t *testing.T) string {
	if d := os.Getenv("KEYROLL_E2E_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// TestConsoleInBrowser: sign in, see the keys and the chart, make an
// urgent rotation through its confirmation and see the new primary, have
// a forged cross-site form refused, sign out.
func TestConsoleInBrowser(t *testing.T) {
	// Every browser step waits on a DOM condition, bounded by this timeout.
	b, cancel := context.WithTimeout(browser(t), 2*time.Minute)
	defer cancel()
	ctx := context.Background()
	kr := startKeyroll(t)
	const password = "correct horse battery"
	if _, err := (&adminapi.Client{BaseURL: kr.url}).CreateAdmin(ctx, "ada", password); err != nil {
		t.Fatalf("admins create through the admin API: %v", err)
	}

	// Sign in: the console sends a browser without a session to its sign-in page.
	var who string
	run(t, b, "sign in",
		chromedp.Navigate(kr.url+"/console/keys"),
		chromedp.WaitVisible("#name", chromedp.ByID),
		chromedp.SendKeys("#name", "ada", chromedp.ByID),
		chromedp.SendKeys("#password", password, chromedp.ByID),
		chromedp.Click("#signin", chromedp.ByID),
		chromedp.WaitVisible("#timeline", chromedp.ByID),
		chromedp.Text("#admin-name", &who, chromedp.ByID),
	)
	if who != "ada" {
		t.Errorf("signed in as %q", who)
	}

	// The keys and the chart.
	old := kr.primary(t)
	var table string
	var bars int
	run(t, b, "read the keys",
		chromedp.Text("#keys", &table, chromedp.ByID),
		chromedp.Evaluate(`document.querySelectorAll("#timeline rect.bar-primary").length`, &bars),
	)
	if !strings.Contains(table, old) || !strings.Contains(table, "retired") {
		t.Errorf("the keys table does not show the primary %s and a retired key:\n%s", old, table)
	}
	if bars < 2 {
		t.Errorf("the chart draws %d primary spans, want the past and the present primary", bars)
	}
	shot := screenshot(t, b, filepath.Join(artifacts(t), "console-keys.png"))
	if os.Getenv("KEYROLL_E2E_UPDATE_DOCS") == "1" {
		if err := os.WriteFile(filepath.Join("..", "docs", "console-keys.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Readable at 320 px: nothing but the scrolling tables and chart is
	// wider than the window.
	var pageWidth int
	run(t, b, "narrow window",
		chromedp.EmulateViewport(320, 800),
		chromedp.WaitVisible("#timeline", chromedp.ByID),
		chromedp.Evaluate(`document.documentElement.scrollWidth`, &pageWidth),
	)
	if pageWidth > 320 {
		t.Errorf("at 320 px the page is %d px wide: it scrolls sideways", pageWidth)
	}
	screenshot(t, b, filepath.Join(artifacts(t), "console-keys-320.png"))
	run(t, b, "wide window", chromedp.EmulateViewport(1280, 900))

	// An urgent rotation through its confirmation page.
	var notice, newTable string
	run(t, b, "urgent rotation",
		chromedp.Click("#urgent", chromedp.ByID),
		chromedp.WaitVisible("#confirm", chromedp.ByID),
		chromedp.Click("#confirm", chromedp.ByID),
		chromedp.WaitVisible("#notice", chromedp.ByID),
		chromedp.Text("#notice", &notice, chromedp.ByID),
		chromedp.Text(`#keys tr[data-state="primary"] .tp`, &newTable, chromedp.ByQuery),
	)
	fresh := kr.primary(t)
	if fresh == old || strings.TrimSpace(newTable) != fresh || !strings.Contains(notice, "primary now") {
		t.Errorf("after the urgent rotation: primary %s (was %s), page shows %q, notice %q", fresh, old, newTable, notice)
	}

	// A forged form on another origin (same site: the cookie goes along)
	// is refused, and nothing changes.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><title>prize</title><form id="f" method="post" action="%s/console/keys/rotate">
<input type="hidden" name="urgent" value="1"><input type="hidden" name="csrf" value="forged"></form>
<button id="go" type="submit" form="f">Claim your prize</button>`, kr.url)
	}))
	defer evil.Close()
	gen := kr.m.Snapshot().Generation
	var refused string
	run(t, b, "forged cross-site POST",
		chromedp.Navigate(evil.URL),
		chromedp.WaitVisible("#go", chromedp.ByID),
		chromedp.Click("#go", chromedp.ByID),
		chromedp.WaitVisible("#error", chromedp.ByID),
		chromedp.Text("#error", &refused, chromedp.ByID),
	)
	if !strings.Contains(refused, "Refused") {
		t.Errorf("the forged POST got %q", refused)
	}
	if err := kr.m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if kr.m.Snapshot().Generation != gen || kr.primary(t) != fresh {
		t.Error("the forged POST changed the keys")
	}

	// Sign out.
	var after string
	run(t, b, "sign out",
		chromedp.Navigate(kr.url+"/console/keys"),
		chromedp.WaitVisible("#signout", chromedp.ByID),
		chromedp.Click("#signout", chromedp.ByID),
		chromedp.WaitVisible("#name", chromedp.ByID),
		chromedp.Text("#notice", &after, chromedp.ByID),
		chromedp.Navigate(kr.url+"/console/keys"),
		chromedp.WaitVisible("#name", chromedp.ByID),
	)
	if !strings.Contains(after, "signed out") {
		t.Errorf("after sign-out the page says %q", after)
	}
}

func run(t *testing.T, ctx context.Context, step string, actions ...chromedp.Action) {
	t.Helper()
	if err := chromedp.Run(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", step, err)
	}
}

// screenshot writes a PNG of the whole page to path, checks it is not
// blank, and returns it.
func screenshot(t *testing.T, ctx context.Context, path string) []byte {
	t.Helper()
	var buf []byte
	run(t, ctx, "screenshot", chromedp.FullScreenshot(&buf, 100))
	img, err := png.Decode(bytes.NewReader(buf))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if n := colours(img); n < 8 {
		t.Errorf("screenshot has %d colours: blank", n)
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the keys page: %s (%dx%d)", path, img.Bounds().Dx(), img.Bounds().Dy())
	return buf
}

// colours counts the distinct colours of a sample of img's pixels.
func colours(img image.Image) int {
	seen := map[[4]uint32]bool{}
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y += 7 {
		for x := r.Min.X; x < r.Max.X; x += 7 {
			c0, c1, c2, c3 := img.At(x, y).RGBA()
			seen[[4]uint32{c0, c1, c2, c3}] = true
		}
	}
	return len(seen)
}
