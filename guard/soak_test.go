package guard

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/keyroll/keyroll/clock"
)

// TestGuardNoGrowthUnderLoad sends thousands of valid and invalid requests
// (bad signatures, expired tokens, random kids, no token) over keep-alive
// connections, and checks that afterwards, with the idle connections
// closed, the guard holds no more goroutines than before, its heap has
// not grown, the key set is unchanged and the random kids caused one fetch.
func TestGuardNoGrowthUnderLoad(t *testing.T) {
	n := 6 * 700
	if testing.Short() {
		n = 6 * 200
	}
	k1, rogue := newKey(t, "ES256", "k1"), newKey(t, "ES256", "rogue")
	iss, up, clk, ev := newFakeIssuer(t, k1), newUpstream(t), clock.NewFake(t0), newEvents()
	g := start(t, config(iss, up, clk, ev))
	toks := mixedTokens(t, iss, k1, rogue, clk.Now())

	load(t, g, toks, 500, 8) // warm up: connections, pools, metrics
	base, heap := settle(t, g, 0)
	statuses := load(t, g, toks, n, 8)
	if statuses[http.StatusOK] != n/3 || statuses[http.StatusUnauthorized] != n-n/3 {
		t.Fatalf("answers %v", statuses)
	}
	after, heapAfter := settle(t, g, base)
	if after > base {
		t.Fatalf("goroutines grew from %d to %d after %d requests", base, after, n)
	}
	if heapAfter > heap+1<<20 {
		t.Fatalf("heap grew from %d to %d bytes after %d requests", heap, heapAfter, n)
	}
	if k := g.keyCount(); k != 1 {
		t.Fatalf("key set has %d keys after %d random kids, want 1", k, n/len(toks))
	}
	// The initial fetch, and one for the first random kid: the fake clock
	// never leaves that unknown-key window.
	if f := iss.jwksHits.Load(); f != 2 {
		t.Fatalf("%d key fetches, want 2 (random kids are throttled)", f)
	}
	t.Logf("%d requests: goroutines %d → %d, heap %d → %d KiB", n, base, after, heap>>10, heapAfter>>10)
}

// mixedTokens returns, in a fixed rotation: two valid tokens, a bad
// signature, an expired token, an unknown key and no token at all.
func mixedTokens(t *testing.T, iss *fakeIssuer, k, rogue testKey, now time.Time) []func(i int) string {
	valid := k.sign(t, stdClaims(iss.URL(), now))
	other := stdClaims(iss.URL(), now)
	other["sub"] = "bob"
	valid2 := k.sign(t, other)
	badSig := rogue.signHeader(t, jwsHeader(rogue, k.kid), stdClaims(iss.URL(), now))
	old := stdClaims(iss.URL(), now.Add(-3*time.Hour))
	expired := k.sign(t, old)
	unknown := rogue.signHeader(t, jwsHeader(rogue, "placeholder"), stdClaims(iss.URL(), now))
	return []func(int) string{
		func(int) string { return valid },
		func(int) string { return valid2 },
		func(int) string { return badSig },
		func(int) string { return expired },
		func(i int) string { return tamperKID(t, unknown, fmt.Sprintf("random-%d", i)) },
		func(int) string { return "" },
	}
}

// load sends n requests from workers goroutines, cycling through toks.
func load(t *testing.T, g *running, toks []func(int) string, n, workers int) map[int]int {
	jobs := make(chan int, n)
	for i := range n {
		jobs <- i
	}
	close(jobs)
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				req, _ := http.NewRequest(http.MethodGet, g.url+"/app", nil)
				if tok := toks[i%len(toks)](i); tok != "" {
					req.Header.Set("Authorization", "Bearer "+tok)
				}
				resp, err := g.client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				drain(resp)
				mu.Lock()
				statuses[resp.StatusCode]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return statuses
}

// settle closes every idle keep-alive connection (client → guard and
// guard → upstream), lets their goroutines exit, and returns the goroutine
// count and the live heap. Connection goroutines end asynchronously once
// their socket is closed, and nothing signals it, so it yields to them
// and looks again (bounded) until the count is at most target (0: until
// it stops falling).
func settle(t *testing.T, g *running, target int) (goroutines int, heap uint64) {
	t.Helper()
	g.client.CloseIdleConnections()
	g.g.CloseIdleConnections()
	prev := -1
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		runtime.GC()
		n := runtime.NumGoroutine()
		if target > 0 && n <= target || target == 0 && n == prev {
			break
		}
		prev = n
		for range 100 {
			runtime.Gosched()
		}
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return runtime.NumGoroutine(), ms.HeapAlloc
}

func drain(resp *http.Response) {
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}
