package main

import (
	"bufio"
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyroll/keyroll/jws"
	"github.com/keyroll/keyroll/keys"
	"github.com/keyroll/keyroll/store/sqlite"
)

const guardAudience = "api://guard-e2e"

// issuerKey is one of keyroll serve's signing keys, opened from its store
// and KEK file (the private keys are not reachable over HTTP).
type issuerKey struct {
	kid, alg, x5t string
	pub           crypto.PublicKey
	signer        crypto.Signer
}

// serveKeys opens the SQLite store and KEK file of a keyroll serve using
// dir and returns its published keys by kid.
func serveKeys(t *testing.T, dir string) map[string]issuerKey {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(dir, "keyroll.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	kek, _, err := keys.LoadKEK(func(string) string { return "" }, filepath.Join(dir, "keyroll.kek"), false)
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := keys.NewSealer(kek)
	if err != nil {
		t.Fatal(err)
	}
	ks, _, err := st.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]issuerKey{}
	for _, k := range ks {
		if !k.State.Published() {
			continue
		}
		sealed, err := st.Sealed(ctx, k.KID)
		if err != nil {
			t.Fatal(err)
		}
		signer, cert, err := sealer.OpenPrivate(k.KID, k.Cert, sealed)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha1.Sum(cert.Raw)
		out[k.KID] = issuerKey{kid: k.KID, alg: k.Alg, x5t: base64.RawURLEncoding.EncodeToString(sum[:]),
			pub: cert.PublicKey, signer: signer}
	}
	return out
}

// mint signs a token as the issuer at iss would: kid and x5t in the header.
func (k issuerKey) mint(t *testing.T, iss string, mod func(map[string]any)) string {
	t.Helper()
	now := time.Now()
	c := map[string]any{"iss": iss, "aud": guardAudience, "sub": "alice@example.com",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	if mod != nil {
		mod(c)
	}
	payload, _ := json.Marshal(c)
	tok, err := jws.Sign(k.signer, jws.Header{Alg: k.alg, Kid: k.kid, X5t: k.x5t, Typ: "JWT"}, payload)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// toyApp is the application behind the guard.
type toyApp struct {
	srv     *httptest.Server
	hits    atomic.Int32
	mu      sync.Mutex
	subject string
}

func newToyApp(t *testing.T) *toyApp {
	a := &toyApp{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.hits.Add(1)
		a.mu.Lock()
		a.subject = r.Header.Get("X-Keyroll-Subject")
		a.mu.Unlock()
		fmt.Fprint(w, "app ok")
	}))
	t.Cleanup(a.srv.Close)
	return a
}

// guardProc is a "keyroll guard" running in this process.
type guardProc struct {
	t          *testing.T
	url, admin string
	stop       func() int
	client     *http.Client
}

// startGuard runs "keyroll guard" with args on free ports and returns once
// it listens.
func startGuard(t *testing.T, args ...string) *guardProc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var errb syncBuffer
	done := make(chan int, 1)
	e := &env{stdin: strings.NewReader(""), stdout: pw, stderr: &errb, getenv: func(string) string { return "" }}
	go func() {
		code := run(ctx, e, append([]string{"guard", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"}, args...))
		pw.Close()
		done <- code
	}()
	g := &guardProc{t: t, client: &http.Client{Transport: &http.Transport{}}}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "keyroll guard "); ok {
			g.url, _, _ = strings.Cut(rest, " ")
		}
		if rest, ok := strings.CutPrefix(line, "  admin:    "); ok {
			g.admin, _, _ = strings.Cut(rest, " ")
			break
		}
	}
	if g.url == "" || g.admin == "" {
		cancel()
		t.Fatalf("guard did not start: exit %d\n%s", <-done, errb.String())
	}
	go io.Copy(io.Discard, pr)
	var once sync.Once
	code := -1
	g.stop = func() int {
		once.Do(func() {
			cancel()
			code = <-done
			g.client.CloseIdleConnections()
		})
		return code
	}
	t.Cleanup(func() { g.stop() })
	return g
}

// call sends a request with tok ("" for none) and returns status and challenge.
func (g *guardProc) call(tok string) (int, string) {
	g.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, g.url+"/orders/42", nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := g.client.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate")
}

func (g *guardProc) mustPass(what, tok string) {
	g.t.Helper()
	if code, ch := g.call(tok); code != http.StatusOK {
		g.t.Fatalf("%s: %d %s", what, code, ch)
	}
}

func (g *guardProc) mustReject(what, tok, reason string) {
	g.t.Helper()
	code, ch := g.call(tok)
	if code != http.StatusUnauthorized || !strings.Contains(ch, `error="invalid_token"`) || !strings.Contains(ch, reason) {
		g.t.Fatalf("%s: %d %q, want 401 invalid_token saying %q", what, code, ch, reason)
	}
}

// fetches is how many times the guard fetched the keys, from its /metrics.
func (g *guardProc) fetches() int {
	g.t.Helper()
	n := 0
	for _, line := range strings.Split(string(get(g.t, g.admin+"/metrics")), "\n") {
		if strings.HasPrefix(line, "keyroll_verify_fetches_total{") {
			v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			if err != nil {
				g.t.Fatalf("metric line %q: %v", line, err)
			}
			n += int(v)
		}
	}
	return n
}

func (g *guardProc) wantFetches(n int) {
	g.t.Helper()
	if got := g.fetches(); got != n {
		g.t.Fatalf("guard fetched the keys %d times, want %d", got, n)
	}
}

// primaryAndNext returns the kids of the issuer's primary and next keys.
func primaryAndNext(t *testing.T, base string) (primary, next string) {
	t.Helper()
	for _, k := range listKeys(t, func(string) string { return "" }, base) {
		switch k.State {
		case "primary":
			primary = k.KID
		case "next":
			next = k.KID
		}
	}
	return primary, next
}

// TestGuardInFrontOfServe runs keyroll guard in front of a toy app against
// keyroll serve (both in this process) through a rollover: next key with no
// fetch, urgent rotation with exactly one, revocation, attacks, and the
// issuer down, also across a guard restart with --cache-file.
func TestGuardInFrontOfServe(t *testing.T) {
	dir := t.TempDir()
	noenv := func(string) string { return "" }
	s := startServe(t, noenv, "--store", "sqlite:"+filepath.Join(dir, "keyroll.db"))
	if _, errs, code := runCmd(t, noenv, "keys", "rotate", "--server", s.url); code != 0 {
		t.Fatalf("keys rotate: %s", errs)
	}
	primary, next := primaryAndNext(t, s.url)
	app := newToyApp(t)
	cache := filepath.Join(dir, "guard-keys.json")
	args := []string{"--issuer", s.url, "--audience", guardAudience, "--upstream", app.srv.URL,
		"--cache-file", cache, "--min-refresh-interval", "1ms"}
	g := startGuard(t, args...)
	ks := serveKeys(t, dir)

	g.mustPass("primary key", ks[primary].mint(t, s.url, nil))
	if app.subject != "alice@example.com" {
		t.Fatalf("X-Keyroll-Subject = %q", app.subject)
	}
	g.wantFetches(1)
	g.mustPass("next key published in advance", ks[next].mint(t, s.url, nil))
	g.wantFetches(1)

	if out, errs, code := runCmd(t, noenv, "keys", "rotate", "--urgent", "--server", s.url); code != 0 {
		t.Fatalf("keys rotate --urgent: %s %s", out, errs)
	}
	fresh, _ := primaryAndNext(t, s.url)
	ks = serveKeys(t, dir)
	g.mustPass("urgent rotation", ks[fresh].mint(t, s.url, nil))
	g.wantFetches(2)
	g.mustPass("urgent rotation, again", ks[fresh].mint(t, s.url, nil))
	g.wantFetches(2)

	revoked := ks[primary]
	if out, errs, code := runCmd(t, noenv, "keys", "revoke", "--server", s.url, "--", primary); code != 0 {
		t.Fatalf("keys revoke: %s %s", out, errs)
	}
	g.mustPass("revoked key, until the guard refreshes", revoked.mint(t, s.url, nil))
	g.mustReject("unknown kid (makes the guard refresh)", tamperedKID(t, ks[fresh], s.url), "unknown key")
	g.mustReject("revoked key after the refresh", revoked.mint(t, s.url, nil), "unknown key")

	hits := app.hits.Load()
	guardAttacks(t, g, ks[fresh], s.url)
	if app.hits.Load() != hits {
		t.Fatal("a rejected request reached the app")
	}
	if code := s.stop(); code != 0 {
		t.Fatalf("serve exited %d", code)
	}
	g.mustPass("issuer down", ks[fresh].mint(t, s.url, nil))
	if code := g.stop(); code != 0 {
		t.Fatalf("guard exited %d", code)
	}
	g = startGuard(t, args...)
	if code, body := getStatus(t, g.admin+"/readyz"); code != http.StatusOK {
		t.Fatalf("restarted guard not ready from its cache file while the issuer is down: %d %s", code, body)
	}
	g.mustPass("issuer down, guard restarted", ks[fresh].mint(t, s.url, nil))
	g.mustPass("issuer down, next key", ks[next].mint(t, s.url, nil))
	if n := app.hits.Load(); n != hits+3 {
		t.Fatalf("app saw %d requests since the attacks, want 3", n-hits)
	}
}

// tamperedKID is a token signed by k but naming a kid nobody publishes.
func tamperedKID(t *testing.T, k issuerKey, iss string) string {
	k.kid = "no-such-key"
	k.x5t = ""
	return k.mint(t, iss, nil)
}

// guardAttacks sends the classic forged tokens; none may reach the app.
func guardAttacks(t *testing.T, g *guardProc, k issuerKey, iss string) {
	t.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	valid := k.mint(t, iss, nil)
	payload := strings.Split(valid, ".")[1]
	none := enc([]byte(`{"alg":"none","kid":"`+k.kid+`"}`)) + "." + payload + "."
	der, _ := x509.MarshalPKIXPublicKey(k.pub)
	mac := hmac.New(sha256.New, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	hsInput := enc([]byte(`{"alg":"HS256","kid":"`+k.kid+`","typ":"JWT"}`)) + "." + payload
	mac.Write([]byte(hsInput))
	hs := hsInput + "." + enc(mac.Sum(nil))
	expired := k.mint(t, iss, func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() })
	wrongAud := k.mint(t, iss, func(c map[string]any) { c["aud"] = "api://someone-else" })

	g.mustReject("alg none", none, "none")
	g.mustReject("HS256 keyed with the public key", hs, "HS256")
	g.mustReject("expired", expired, "expired")
	g.mustReject("wrong audience", wrongAud, "aud")
	if code, ch := g.call(""); code != http.StatusUnauthorized || !strings.HasPrefix(ch, "Bearer") {
		t.Fatalf("no token: %d %q", code, ch)
	}
}

func getStatus(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestGuardCommandUsage(t *testing.T) {
	noenv := func(string) string { return "" }
	for name, args := range map[string][]string{
		"no issuer":         {"guard", "--audience", "a", "--upstream", "http://127.0.0.1:1"},
		"no audience":       {"guard", "--issuer", "https://i.example", "--upstream", "http://127.0.0.1:1"},
		"no upstream":       {"guard", "--issuer", "https://i.example", "--audience", "a"},
		"relative upstream": {"guard", "--issuer", "https://i.example", "--audience", "a", "--upstream", "127.0.0.1:3000"},
		"bad duration":      {"guard", "--issuer", "https://i.example", "--audience", "a", "--upstream", "http://x", "--refresh-interval", "soon"},
		"stray argument":    {"guard", "--issuer", "https://i.example", "--audience", "a", "--upstream", "http://x", "extra"},
		"min above refresh": {"guard", "--issuer", "https://i.example", "--audience", "a", "--upstream", "http://x", "--refresh-interval", "1m", "--min-refresh-interval", "1h"},
	} {
		if _, errs, code := runCmd(t, noenv, args...); code != exitUsage || errs == "" {
			t.Errorf("%s: exit %d, %q; want 2 and a reason", name, code, errs)
		}
	}
	out, _, code := runCmd(t, noenv, "guard", "-h")
	if code != 0 || !strings.Contains(out, "Examples:") || !strings.Contains(out, "--min-refresh-interval") {
		t.Fatalf("help: %d\n%s", code, out)
	}
}

// TestGuardAudienceFlagReplacesEnv: --audience on the command line replaces
// KEYROLL_AUDIENCE instead of adding to it.
func TestGuardAudienceFlagReplacesEnv(t *testing.T) {
	var f guardFlags
	c := &command{name: "guard"}
	fs := newFlags(c)
	fs.Var(&f.audiences, "audience", "")
	env := &env{getenv: func(k string) string {
		if k == "KEYROLL_AUDIENCE" {
			return "api://from-env"
		}
		return ""
	}}
	if err := applyEnv(fs, env, "audience"); err != nil {
		t.Fatal(err)
	}
	f.audiences.fromEnv = true
	if err := fs.Parse([]string{"--audience", "api://a", "--audience", "api://b"}); err != nil {
		t.Fatal(err)
	}
	if got := f.audiences.String(); got != "api://a,api://b" {
		t.Fatalf("audiences %q, want only the command line's", got)
	}
}
