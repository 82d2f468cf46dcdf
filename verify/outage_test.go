package verify

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyroll/keyroll/jwk"
)

// TestIssuerDown48h: while the issuer is down for 48 hours, every valid
// token signed with a cached key is accepted, both by the running process
// and by one restarted from the persisted cache.
func TestIssuerDown48h(t *testing.T) {
	k1, k2 := rsaKey(t, "k1"), rsaKey(t, "k2")
	iss := newFakeIssuer(t, k1, k2)
	file := filepath.Join(t.TempDir(), "keys.json")
	h := newHarness(t, iss, WithCacheFile(file))
	h.mustVerify(h.token(k1))
	h.log.next(t) // the save happens after waiters are released
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("cache file not written: %v", err)
	}
	iss.set(503, []byte("down"))

	restarted := h.restart(WithCacheFile(file))
	for hour := 1; hour <= 48; hour++ {
		h.clk.Advance(time.Hour)
		for _, k := range []testKey{k1, k2} {
			h.mustVerify(h.token(k))
			restarted.mustVerify(h.token(k))
		}
	}
	if err := h.v.Cache().Ready(); err != nil {
		t.Fatalf("Ready after 48h down: %v", err)
	}
	st := h.v.Cache().Status()
	if st.Failures == 0 || st.LastError == nil {
		t.Fatalf("status does not report the outage: %+v", st)
	}
	if age, _ := h.v.Cache().Age(); age < 47*time.Hour {
		t.Fatalf("Age = %s, want about 48h", age)
	}
	// Retries are spaced out (backoff capped at the hourly schedule): at
	// most one per cache per hour, not one per verification (192).
	if n := iss.jwksHits.Load(); n > 2*48+2 {
		t.Fatalf("%d fetches during a 48h outage", n)
	}
}

func TestRestartWhileIssuerDownUsesPersistedCache(t *testing.T) {
	k1 := rsaKey(t, "k1")
	iss := newFakeIssuer(t, k1)
	file := filepath.Join(t.TempDir(), "keys.json")
	h := newHarness(t, iss, WithCacheFile(file))
	h.mustVerify(h.token(k1))
	h.log.next(t)
	iss.set(500, nil)

	h2 := newHarness(t, iss, WithCacheFile(file))
	if err := h2.v.Cache().Ready(); err != nil {
		t.Fatalf("restarted cache not ready: %v", err)
	}
	ev := h2.log.next(t)
	if ev.Trigger != TriggerLoad || ev.Outcome != OutcomeUpdated || ev.Keys != 1 {
		t.Fatalf("load event = %+v", ev)
	}
	before := iss.jwksHits.Load()
	h2.mustVerify(h2.token(k1))
	if iss.jwksHits.Load() != before {
		t.Fatal("a restarted process with fresh persisted keys fetched anyway")
	}
}

func TestPersistedCacheRejectedWhenForeignOrCorrupt(t *testing.T) {
	k1 := rsaKey(t, "k1")
	a, b := newFakeIssuer(t, k1), newFakeIssuer(t, k1)
	file := filepath.Join(t.TempDir(), "keys.json")
	h := newHarness(t, a, WithCacheFile(file))
	h.mustVerify(h.token(k1))
	h.log.next(t)

	// Another source must not load a's keys.
	hb := newHarness(t, b, WithCacheFile(file))
	ev := hb.log.next(t)
	if ev.Outcome != OutcomeRejected || ev.Err == nil || !strings.Contains(ev.Err.Error(), "belongs to source") {
		t.Fatalf("foreign cache event = %+v", ev)
	}
	if hb.v.Cache().KeySet() != nil {
		t.Fatal("foreign persisted keys were loaded")
	}
	for _, garbage := range [][]byte{[]byte("{"), []byte(`{"format":"other"}`), bytes.Repeat([]byte("x"), 10)} {
		os.WriteFile(file, garbage, 0o600)
		hc := newHarness(t, a, WithCacheFile(file))
		if ev := hc.log.next(t); ev.Outcome != OutcomeRejected {
			t.Fatalf("corrupt cache %q: event %+v", garbage, ev)
		}
	}
}

func TestFileStoreAtomicSave(t *testing.T) {
	dir := t.TempDir()
	s := &FileStore{Path: filepath.Join(dir, "c.json")}
	ctx := context.Background()
	if got, err := s.Load(ctx); got != nil || err != nil {
		t.Fatalf("Load of a missing file = %q, %v", got, err)
	}
	for _, data := range []string{"one", "two"} {
		if err := s.Save(ctx, []byte(data)); err != nil {
			t.Fatal(err)
		}
		got, err := s.Load(ctx)
		if err != nil || string(got) != data {
			t.Fatalf("Load = %q, %v; want %q", got, err, data)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
	if fi, _ := os.Stat(s.Path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, want 0600", fi.Mode().Perm())
	}
	bad := &FileStore{Path: filepath.Join(dir, "missing-dir", "c.json")}
	if err := bad.Save(ctx, []byte("x")); err == nil {
		t.Fatal("Save into a missing directory succeeded")
	}
}

// TestBrokenRefreshKeepsGoodKeys: no kind of bad answer drops the keys.
func TestBrokenRefreshKeepsGoodKeys(t *testing.T) {
	k1 := rsaKey(t, "k1")
	enc := k1.jwk()
	enc.KID, enc.Use = "enc-only", "enc"
	cases := []struct {
		name   string
		status int
		body   []byte
	}{
		{"http error", 503, []byte("maintenance")},
		{"garbage", 200, []byte("<html>proxy login</html>")},
		{"empty set", 200, []byte(`{"keys":[]}`)},
		{"no keys member", 200, []byte(`{}`)},
		{"only an encryption key", 200, jwksOf(t, enc)},
		{"only a weak key", 200, []byte(`{"keys":[` + weakJWK(t, "weak") + `]}`)},
		{"too large", 200, append([]byte(`{"keys":[],"x":"`), bytes.Repeat([]byte("a"), jwk.MaxSetSize)...)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			iss := newFakeIssuer(t, k1)
			h := newHarness(t, iss)
			h.mustVerify(h.token(k1))
			h.log.next(t)
			iss.set(tc.status, tc.body)
			h.clk.Advance(time.Hour)
			err := h.v.Cache().Refresh(h.ctx)
			if err == nil {
				t.Fatal("Refresh accepted a broken answer")
			}
			ev := h.log.next(t)
			if ev.Outcome != OutcomeRejected && ev.Outcome != OutcomeFailed || ev.Keys != 1 {
				t.Fatalf("event = %+v", ev)
			}
			h.mustVerify(h.token(k1))
		})
	}
}

// weakJWK renders a 1024-bit RSA key by hand (jwk refuses to marshal it).
func weakJWK(t *testing.T, kid string) string {
	pub := signerFor(t, "RSA1024", kid).Public().(*rsa.PublicKey)
	n := base64.RawURLEncoding.EncodeToString(pub.N.Bytes())
	e := base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes())
	return fmt.Sprintf(`{"kty":"RSA","kid":%q,"use":"sig","n":%q,"e":%q}`, kid, n, e)
}

func TestRevokedKeyRejectedAfterNextRefresh(t *testing.T) {
	k1, k2 := rsaKey(t, "k1"), rsaKey(t, "k2")
	iss := newFakeIssuer(t, k1, k2)
	h := newHarness(t, iss)
	h.mustVerify(h.token(k1))
	h.log.next(t)
	iss.publish(k2) // k1 revoked

	// Until the next refresh the cached k1 still verifies...
	h.clk.Advance(23 * time.Hour)
	h.mustVerify(h.token(k1))
	// ...the scheduled refresh is started by the next verification...
	h.clk.Advance(2 * time.Hour)
	h.mustVerify(h.token(k2))
	if ev := h.log.next(t); ev.Trigger != TriggerScheduled || ev.Outcome != OutcomeUpdated {
		t.Fatalf("scheduled refresh event = %+v", ev)
	}
	// ...and from then on k1 is refused.
	if err := h.verifyErr(h.token(k1)); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("revoked key: err = %v, want ErrUnknownKey", err)
	}
}

func TestMaxStaleFailsClosed(t *testing.T) {
	k1 := rsaKey(t, "k1")
	iss := newFakeIssuer(t, k1)
	h := newHarness(t, iss, WithMaxStale(12*time.Hour))
	h.mustVerify(h.token(k1))
	iss.set(503, nil)
	h.clk.Advance(11 * time.Hour)
	h.mustVerify(h.token(k1))
	h.clk.Advance(2 * time.Hour)
	err := h.verifyErr(h.token(k1))
	if !errors.Is(err, ErrStale) || ResultOf(err) != ResultStale {
		t.Fatalf("err = %v, want ErrStale", err)
	}
	if err := h.v.Cache().Ready(); !errors.Is(err, ErrStale) {
		t.Fatalf("Ready = %v, want ErrStale", err)
	}
	// Let the retry started by that verification finish, still failing...
	if err := h.v.Cache().Refresh(h.ctx); err == nil {
		t.Fatal("refresh succeeded while the issuer is down")
	}
	// ...then the issuer comes back and the next refresh restores service.
	iss.publish(k1)
	h.clk.Advance(time.Hour)
	if err := h.v.Cache().Refresh(h.ctx); err != nil {
		t.Fatal(err)
	}
	h.mustVerify(h.token(k1))
}

func TestETagAndCacheControl(t *testing.T) {
	k1 := rsaKey(t, "k1")
	cases := []struct {
		cacheControl string
		next         time.Duration
	}{
		{"", DefaultRefreshInterval},
		{"max-age=3600", time.Hour},
		{"public, max-age=10", DefaultMinRefreshInterval},
		{"max-age=604800", DefaultRefreshInterval},
		{"no-cache", DefaultMinRefreshInterval},
	}
	for _, tc := range cases {
		t.Run(tc.cacheControl, func(t *testing.T) {
			iss := newFakeIssuer(t, k1)
			iss.useETag(tc.cacheControl)
			h := newHarness(t, iss)
			h.mustVerify(h.token(k1))
			ev := h.log.next(t)
			if got := ev.NextRefresh.Sub(t0); got != tc.next {
				t.Fatalf("next refresh in %s, want %s", got, tc.next)
			}
			h.clk.Advance(tc.next)
			h.mustVerify(h.token(k1)) // starts the due refresh
			ev = h.log.next(t)
			if ev.Outcome != OutcomeUnchanged || iss.condHits.Load() != 1 {
				t.Fatalf("revalidation: event %+v, conditional requests %d", ev, iss.condHits.Load())
			}
			if age, _ := h.v.Cache().Age(); age != 0 {
				t.Fatalf("a 304 did not refresh the age: %s", age)
			}
		})
	}
}

// memStore is a user-supplied CacheStore.
type memStore struct {
	mu   sync.Mutex
	data []byte
	fail error
}

func (m *memStore) Load(context.Context) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return bytes.Clone(m.data), nil
}

func (m *memStore) Save(_ context.Context, d []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.data = bytes.Clone(d)
	return nil
}

func TestCustomCacheStore(t *testing.T) {
	st := &memStore{}
	k1 := rsaKey(t, "k1")
	iss := newFakeIssuer(t, k1)
	h := newHarness(t, iss, WithCacheStore(st))
	h.mustVerify(h.token(k1))
	h.log.next(t)
	iss.set(503, nil)
	h.restart(WithCacheStore(st)).mustVerify(h.token(k1))

	// A store that fails does not stop the new keys from being served.
	st.mu.Lock()
	st.fail = errors.New("disk full")
	st.mu.Unlock()
	iss.publish(k1)
	h.clk.Advance(time.Hour)
	if err := h.v.Cache().Refresh(h.ctx); err != nil {
		t.Fatal(err)
	}
	if ev := h.log.next(t); ev.StoreErr == nil || ev.Outcome != OutcomeUnchanged {
		t.Fatalf("event = %+v, want a StoreErr", ev)
	}
	h.mustVerify(h.token(k1))
}
