package peers

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/guard"
	"github.com/keyroll/keyroll/internal/testissuer"
	"github.com/keyroll/keyroll/jwk"
	"github.com/keyroll/keyroll/verify"
)

const rolloverAudience = "api://rollover"

// eagerProvider is a test double of an OpenID Connect provider that, like
// Dex, signs with a new key the moment it publishes it. Its JWKS carries
// the current and the previous key and Cache-Control max-age until the next
// rotation.
type eagerProvider struct {
	t      *testing.T
	srv    *httptest.Server
	clk    *clock.Fake
	maxAge int

	mu      sync.Mutex
	keys    []testissuer.Key // newest first
	serial  int
	fetches atomic.Int32
}

func newEagerProvider(t *testing.T, clk *clock.Fake, maxAge int) *eagerProvider {
	p := &eagerProvider{t: t, clk: clk, maxAge: maxAge}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	p.rotate()
	return p
}

// rotate publishes a fresh key and makes it the signing key at once.
func (p *eagerProvider) rotate() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.serial++
	k := testissuer.NewKey(p.t, "ES256", fmt.Sprintf("%s-eager-%d", p.t.Name(), p.serial))
	p.keys = append([]testissuer.Key{k}, p.keys...)
	if len(p.keys) > 2 {
		p.keys = p.keys[:2]
	}
}

// token signs a token with the current key, valid at the clock's now.
func (p *eagerProvider) token() string {
	p.mu.Lock()
	k := p.keys[0]
	p.mu.Unlock()
	return k.Sign(p.t, testissuer.StdClaims(p.srv.URL, rolloverAudience, p.clk.Now()))
}

func (p *eagerProvider) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, p.srv.URL, p.srv.URL+"/keys")
	case "/keys":
		p.fetches.Add(1)
		p.mu.Lock()
		js := make([]jwk.Key, len(p.keys))
		for i, k := range p.keys {
			js[i] = k.JWK()
		}
		p.mu.Unlock()
		w.Header().Set("Cache-Control", fmt.Sprintf("max-age=%d", p.maxAge))
		w.Write(testissuer.JWKS(p.t, js...))
	default:
		http.NotFound(w, r)
	}
}

// guardFor runs a keyroll guard (defaults unless cfg changes them) in
// front of a toy application, against p.
func guardFor(t *testing.T, p *eagerProvider, change func(*guard.Config)) string {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello "+r.Header.Get(guard.SubjectHeader))
	}))
	t.Cleanup(app.Close)
	up, _ := url.Parse(app.URL)
	cfg := guard.Config{Issuer: p.srv.URL, Audience: []string{rolloverAudience}, Upstream: up, Clock: p.clk}
	if change != nil {
		change(&cfg)
	}
	g, err := guard.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(g.Handler())
	t.Cleanup(front.Close)
	return front.URL
}

// call sends tok through the guard and returns the status and, for a
// refusal, the WWW-Authenticate challenge.
func call(t *testing.T, front, tok string) (int, string) {
	req, _ := http.NewRequest(http.MethodGet, front+"/orders", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate")
}

// rotations drives 12 rotations, one every 20 s of fake time (Dex's test
// setting), with a valid token every second and a burst of 8 concurrent
// ones right after each rotation, and returns how many were refused.
func rotations(t *testing.T, p *eagerProvider, front string) (refused, total int) {
	var first string
	for step := 1; step <= 12*20; step++ {
		p.clk.Advance(time.Second)
		n := 1
		if step%20 == 0 {
			p.rotate()
			n = 8
		}
		var wg sync.WaitGroup
		var bad atomic.Int32
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if code, ch := call(t, front, p.token()); code != http.StatusOK {
					if bad.Add(1) == 1 && first == "" {
						first = ch
					}
				}
			}()
		}
		wg.Wait()
		refused += int(bad.Load())
		total += n
	}
	if first != "" {
		t.Logf("first refusal: %s", first)
	}
	return refused, total
}

// With defaults, keyroll guard in front of a provider that signs with a
// new key the moment it publishes it refuses no valid token across
// repeated rotations.
func TestGuardDefaultsRejectNoValidTokenAcrossEagerRotations(t *testing.T) {
	p := newEagerProvider(t, clock.NewFake(testissuer.T0), 20)
	front := guardFor(t, p, nil)
	refused, total := rotations(t, p, front)
	if refused != 0 {
		t.Fatalf("guard with defaults refused %d of %d valid tokens", refused, total)
	}
	t.Logf("%d valid tokens, 0 refused, %d key fetches", total, p.fetches.Load())
}

// Microsoft's guidance (24 h, unknown-key refresh at most every 5 min)
// stays configurable; against this provider it refuses valid tokens, which
// is why it is not the default.
func TestGuardMicrosoftGuidanceRefusesEagerRotations(t *testing.T) {
	p := newEagerProvider(t, clock.NewFake(testissuer.T0), 20)
	front := guardFor(t, p, func(c *guard.Config) {
		c.RefreshInterval = verify.MicrosoftRefreshInterval
		c.MinRefreshInterval = verify.MicrosoftMinRefreshInterval
	})
	refused, total := rotations(t, p, front)
	if refused == 0 {
		t.Fatalf("Microsoft's 24h/5m refused none of %d tokens; the default would not need to differ", total)
	}
	t.Logf("Microsoft's guidance: %d of %d valid tokens refused", refused, total)
}

// A flood of random kids costs at most one key fetch per unknown-key
// window, never delays tokens with known keys, and a genuine new key
// published during the flood is accepted once the window ends.
func TestGuardRandomKidFloodOneFetchPerWindow(t *testing.T) {
	clk := clock.NewFake(testissuer.T0)
	p := newEagerProvider(t, clk, 3600)
	front := guardFor(t, p, nil)
	if code, ch := call(t, front, p.token()); code != http.StatusOK {
		t.Fatalf("first token: %d %s", code, ch)
	}
	good := p.token()
	for window := range 3 {
		clk.Advance(verify.DefaultMinRefreshInterval)
		before := p.fetches.Load()
		var wg sync.WaitGroup
		var known atomic.Int32
		for i := range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tok := good
				if i%4 != 0 {
					tok = forgeKid(good, fmt.Sprintf("random-%d-%d", window, i))
				}
				code, ch := call(t, front, tok)
				switch {
				case tok == good && code == http.StatusOK:
					known.Add(1)
				case tok != good && (code != http.StatusUnauthorized || !strings.Contains(ch, "unknown key")):
					t.Errorf("random kid: %d %s", code, ch)
				}
			}()
		}
		wg.Wait()
		if n := p.fetches.Load() - before; n != 1 {
			t.Fatalf("window %d: %d key fetches for 150 random kids, want 1", window, n)
		}
		if known.Load() != 50 {
			t.Fatalf("window %d: %d of 50 known-key tokens accepted", window, known.Load())
		}
	}
	// A genuine new key arriving inside the flood's window waits for it to end, no longer.
	clk.Advance(time.Second)
	p.rotate()
	tok := p.token()
	if code, ch := call(t, front, tok); code != http.StatusUnauthorized || !strings.Contains(ch, "throttled until") {
		t.Fatalf("new key inside the flood's window: %d %s", code, ch)
	}
	clk.Advance(verify.DefaultMinRefreshInterval - time.Second)
	if code, ch := call(t, front, tok); code != http.StatusOK {
		t.Fatalf("new key once the window ended: %d %s", code, ch)
	}
}

// forgeKid replaces the kid of a compact token's header (the signature no
// longer matches, which does not matter for a kid nobody knows).
func forgeKid(tok, kid string) string {
	head := fmt.Sprintf(`{"alg":"ES256","kid":%q,"typ":"JWT"}`, kid)
	_, rest, _ := strings.Cut(tok, ".")
	return b64(head) + "." + rest
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
