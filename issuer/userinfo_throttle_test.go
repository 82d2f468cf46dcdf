package issuer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/jws"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

type countingStore struct {
	store.Store
	generations atomic.Int64
}

func (c *countingStore) Generation(ctx context.Context) (int64, error) {
	c.generations.Add(1)
	return c.Store.Generation(ctx)
}

// TestUnknownKidFloodIsThrottled: access tokens naming random kids make
// the replica re-read the store at most once per minMissRefresh.
func TestUnknownKidFloodIsThrottled(t *testing.T) {
	clk := clock.NewFake(start)
	st := openSQLite(t, t.TempDir())
	defer st.Close()
	m := newManager(t, st, testKEK(t), clk, lifecycle.DefaultPolicy())
	cs := &countingStore{Store: st}
	m.cfg.Store = cs
	p := newProvider(m)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	flood := func(n int) {
		for i := 0; i < n; i++ {
			tok, err := jws.Sign(key, jws.Header{Alg: "ES256", Typ: TypeAccessToken, Kid: fmt.Sprintf("random-%d", i)}, []byte(`{}`))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.verifyAccessToken(context.Background(), tok); err == nil {
				t.Fatal("a token with an unknown kid verified")
			}
		}
	}
	flood(100)
	if n := cs.generations.Load(); n != 1 {
		t.Fatalf("100 unknown kids at one instant: %d store reads, want 1", n)
	}
	clk.Advance(minMissRefresh)
	flood(100)
	if n := cs.generations.Load(); n != 2 {
		t.Fatalf("after %s: %d store reads, want 2", minMissRefresh, n)
	}
}
