package pkcs11_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/issuer/issuertest"
	"github.com/keyroll/keyroll/keys"
	"github.com/keyroll/keyroll/keys/pkcs11"
	"github.com/keyroll/keyroll/keys/pkcs11/softhsmtest"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// These tests run the issuer's Manager on a real token: the rollover, the
// destruction of ended keys, a generation that loses the race, a token
// that fails while running, and the move from software keys.

var start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func openStore(t *testing.T, dir string) store.Store {
	t.Helper()
	st := issuertest.OpenSQLite(t, dir)
	t.Cleanup(func() { st.Close() })
	return st
}

func newManager(t *testing.T, cfg issuer.Config) (*issuer.Manager, error) {
	t.Helper()
	cfg.Issuer = "https://issuer.test"
	cfg.Policy = lifecycle.DefaultPolicy()
	cfg.PollInterval = time.Second
	if cfg.KeySpec.Alg == "" {
		cfg.KeySpec = keys.Spec{Alg: "ES256"}
	}
	m, err := issuer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m, m.Open(context.Background())
}

func mustManager(t *testing.T, cfg issuer.Config) *issuer.Manager {
	t.Helper()
	m, err := newManager(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// kids returns the kids of ks, sorted, optionally only those in a state.
func kids(ks []lifecycle.Key, states ...lifecycle.State) []string {
	var out []string
	for _, k := range ks {
		if len(states) == 0 || slices.Contains(states, k.State) {
			out = append(out, k.KID)
		}
	}
	slices.Sort(out)
	return out
}

func storedKeys(t *testing.T, st store.Store) []lifecycle.Key {
	t.Helper()
	ks, _, err := st.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func labels(t *testing.T, tok *pkcs11.Token) []string {
	t.Helper()
	l, err := tok.Labels()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// mustSign signs with kid through the manager and checks the signature
// against the key's published certificate.
func mustSign(t *testing.T, m *issuer.Manager, k lifecycle.Key) {
	t.Helper()
	s, err := m.Signer(context.Background(), k.KID)
	if err != nil {
		t.Fatalf("key %s cannot sign: %v", k.KID, err)
	}
	digest := sha256.Sum256([]byte("token"))
	sig, err := s.Sign(nil, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatalf("sign with %s: %v", k.KID, err)
	}
	if !ecdsa.VerifyASN1(m.Snapshot().Certs[k.KID].PublicKey.(*ecdsa.PublicKey), digest[:], sig) {
		t.Fatalf("signature of %s does not verify with its certificate", k.KID)
	}
}

func TestRolloverInTheToken(t *testing.T) {
	ctx := context.Background()
	h := softhsmtest.New(t)
	cfg := newToken(h, "keyroll")
	tok := open(t, cfg)
	dir := t.TempDir()
	st := openStore(t, dir)
	clk := clock.NewFake(start)
	m := mustManager(t, issuer.Config{Store: st, Backend: tok, Clock: clk})
	first := *m.Snapshot().Primary
	mustSign(t, m, first)

	if _, err := m.Rotate(ctx, false, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Rotate(ctx, true, "test"); err != nil {
		t.Fatal(err)
	}
	primary := *m.Snapshot().Primary
	if primary.KID == first.KID {
		t.Fatal("urgent rotation kept the primary")
	}
	mustSign(t, m, primary)
	if _, err := m.Revoke(ctx, first.Thumbprint, "test"); err != nil {
		t.Fatal(err)
	}
	all := storedKeys(t, st)
	if len(all) != 3 || !slices.Equal(labels(t, tok), kids(all)) {
		t.Fatalf("token holds %v, store %v", labels(t, tok), kids(all))
	}
	// The store holds a reference for each key and nothing else.
	for _, k := range all {
		rec, err := st.Sealed(ctx, k.KID)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := keys.ParseReference(rec)
		if err != nil || ref.KID != k.KID || ref.Token != "keyroll" || len(rec) > 256 {
			t.Fatalf("key %s is stored as %q (%v), want only a reference", k.KID, rec, err)
		}
	}

	// The revoked key's object lives until the grace is over (a replica
	// could still hold the old snapshot), then it is destroyed; its record stays.
	if _, err := m.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(labels(t, tok), first.KID) {
		t.Fatal("revoked key destroyed before the grace")
	}
	clk.Advance(2*time.Minute + time.Second)
	if _, err := m.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(labels(t, tok), first.KID) || len(labels(t, tok)) != 2 {
		t.Fatalf("after the grace the token holds %v; revoked %s", labels(t, tok), first.KID)
	}
	if got := storedKeys(t, st); len(got) != 3 || got[0].State != lifecycle.Revoked {
		t.Fatalf("the revoked key's record changed: %+v", got[0])
	}

	// A restart (new manager, token reopened) publishes the same JWKS and signs.
	jwks := m.Snapshot().JWKS
	tok.Close()
	tok = open(t, cfg)
	m2 := mustManager(t, issuer.Config{Store: st, Backend: tok, Clock: clk})
	if !bytes.Equal(m2.Snapshot().JWKS, jwks) {
		t.Fatalf("JWKS changed across a restart:\n%s\n%s", jwks, m2.Snapshot().JWKS)
	}
	mustSign(t, m2, *m2.Snapshot().Primary)
}

// racingStore lets another replica win: before its first update it runs
// the other replica's rollover check.
type racingStore struct {
	store.Store
	other func()
}

func (r *racingStore) Update(ctx context.Context, fn store.UpdateFunc) (int64, bool, error) {
	if r.other != nil {
		other := r.other
		r.other = nil
		other()
	}
	return r.Store.Update(ctx, fn)
}

func TestLostRaceDestroysOrphan(t *testing.T) {
	ctx := context.Background()
	h := softhsmtest.New(t)
	tok := open(t, newToken(h, "keyroll"))
	dir := t.TempDir()
	clk := clock.NewFake(start)
	b := mustManager(t, issuer.Config{Store: openStore(t, dir), Backend: tok, Clock: clk})
	race := &racingStore{Store: openStore(t, dir)}
	a := mustManager(t, issuer.Config{Store: race, Backend: tok, Clock: clk})

	// The next key falls due; a generates one, but b commits its own first.
	p := lifecycle.DefaultPolicy()
	clk.Set(a.Snapshot().Primary.NotAfter.Add(-p.GenerationThreshold))
	race.other = func() {
		if ev, err := b.Check(ctx); err != nil || len(ev) != 1 {
			t.Errorf("the other replica's check: %v %v", ev, err)
		}
	}
	if ev, err := a.Check(ctx); err != nil || len(ev) != 0 {
		t.Fatalf("the losing replica: %v %v", ev, err)
	}
	all := storedKeys(t, race)
	if len(all) != 2 || !slices.Equal(labels(t, tok), kids(all)) {
		t.Fatalf("token holds %v, store %v: the loser's key was not destroyed", labels(t, tok), kids(all))
	}
}

func TestTokenFailingWhileRunning(t *testing.T) {
	ctx := context.Background()
	h := softhsmtest.New(t)
	tok, err := pkcs11.Open(newToken(h, "keyroll"))
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	st := openStore(t, t.TempDir())
	clk := clock.NewFake(start)
	m := mustManager(t, issuer.Config{Store: st, Backend: tok, Clock: clk})
	mux := http.NewServeMux()
	issuer.NewDocuments(m).Register(mux)
	health := func() int {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", issuer.HealthPath, nil))
		return rec.Code
	}
	if code := health(); code != http.StatusOK {
		t.Fatalf("healthy token: /healthz %d", code)
	}
	before, gen, _ := st.Keys(ctx)

	tok.Close() // the token goes away under the running issuer
	clk.Advance(2 * time.Second)
	if code := health(); code != http.StatusServiceUnavailable {
		t.Fatalf("failed token: /healthz %d", code)
	}
	clk.Set(before[0].NotAfter.Add(-lifecycle.DefaultPolicy().GenerationThreshold))
	if _, err := m.Check(ctx); err == nil {
		t.Fatal("a generation succeeded without the token")
	}
	after, gen2, _ := st.Keys(ctx)
	if gen2 != gen || !reflect.DeepEqual(after, before) {
		t.Fatalf("keys changed while the token failed: %v → %v", before, after)
	}
}

func TestMigrationFromSoftwareKeys(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := openStore(t, dir)
	clk := clock.NewFake(start)
	sealer := kek(t)
	sw := mustManager(t, issuer.Config{Store: st, Sealer: sealer, Clock: clk})
	if _, err := sw.Rotate(ctx, false, "test"); err != nil {
		t.Fatal(err)
	}
	old := storedKeys(t, st)

	h := softhsmtest.New(t)
	tok := open(t, newToken(h, "keyroll"))
	gen, _ := st.Generation(ctx)
	// Without the KEK the old keys cannot be opened: a clear refusal, nothing written.
	if _, err := newManager(t, issuer.Config{Store: st, Backend: keys.Mixed{HSM: tok}, Clock: clk}); !errors.Is(err, keys.ErrNoKEK) {
		t.Fatalf("software keys without a KEK: %v", err)
	}
	if g, _ := st.Generation(ctx); g != gen || len(labels(t, tok)) != 0 {
		t.Fatalf("a refused start wrote: generation %d → %d, token %v", gen, g, labels(t, tok))
	}

	m := mustManager(t, issuer.Config{Store: st, Sealer: sealer, Backend: keys.Mixed{HSM: tok, Software: keys.Software{Sealer: sealer}}, Clock: clk})
	for _, k := range old {
		mustSign(t, m, k)
	}
	if _, err := m.Rotate(ctx, true, "test"); err != nil {
		t.Fatal(err)
	}
	all := storedKeys(t, st)
	fresh := all[len(all)-1]
	if len(all) != 3 || m.Snapshot().Primary.KID != fresh.KID || !slices.Equal(labels(t, tok), []string{fresh.KID}) {
		t.Fatalf("after the urgent rotation: store %v, primary %s, token %v", kids(all), m.Snapshot().Primary.KID, labels(t, tok))
	}
	mustSign(t, m, fresh)
	for _, k := range all {
		rec, _ := st.Sealed(ctx, k.KID)
		if keys.IsReference(rec) != (k.KID == fresh.KID) {
			t.Errorf("key %s: reference %v", k.KID, keys.IsReference(rec))
		}
	}
	// Revoking an old software key destroys nothing and keeps its sealed key.
	if _, err := m.Revoke(ctx, old[0].KID, "test"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	if _, err := m.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if rec, err := st.Sealed(ctx, old[0].KID); err != nil || len(rec) == 0 || !slices.Equal(labels(t, tok), []string{fresh.KID}) {
		t.Fatalf("after revoking a software key: sealed %d bytes (%v), token %v", len(rec), err, labels(t, tok))
	}
}

func kek(t *testing.T) *keys.Sealer {
	t.Helper()
	s, err := keys.NewSealer(bytes.Repeat([]byte{7}, keys.KEKSize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
