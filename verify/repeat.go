package verify

import (
	"context"
	"crypto"
	"crypto/sha256"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// Bounds of the repeat-token cache ([WithRepeatCache]).
const (
	// DefaultRepeatCacheSize is how many verified tokens a Verifier
	// remembers by default.
	DefaultRepeatCacheSize = 4096
	// repeatCacheBytes bounds the tokens remembered, by their length, so
	// that large tokens cannot make the cache large: 8 MiB.
	repeatCacheBytes = 8 << 20
	// repeatEntryOverhead approximates an entry's memory besides the token.
	repeatEntryOverhead = 512
)

// repeatCache remembers tokens that verified, keyed by the SHA-256 of the
// whole token, so that a client reusing its token for its lifetime pays
// one signature check, not one per request. Only successes enter it. It
// is bounded by entry count and by bytes and evicts in insertion order.
// Readers take one shard's read lock.
//
// A hit is not blind: the key set must still be usable (not stale), the
// key that verified the token must still be in it (an entry whose key
// left the set is dropped), and exp, nbf and iat are checked against the
// clock on every call. iss and aud are properties of the token and of the
// verifier, checked once.
type repeatCache struct {
	shards [repeatShards]repeatShard

	mu    sync.Mutex // guards the insertion order below; taken only to insert
	order []repeatSlot
	head  int // oldest slot
	n     int // slots in use
	bytes int
}

// repeatShards spreads the entries over independently locked maps so that
// parallel readers rarely share a lock's cache line.
const repeatShards = 16

type repeatShard struct {
	mu sync.RWMutex
	m  map[[32]byte]*repeatEntry
	_  [40]byte // keep shards on separate cache lines
}

func (r *repeatCache) shard(sum *[32]byte) *repeatShard { return &r.shards[sum[0]%repeatShards] }

func (r *repeatCache) load(sum *[32]byte) *repeatEntry {
	sh := r.shard(sum)
	sh.mu.RLock()
	e := sh.m[*sum]
	sh.mu.RUnlock()
	return e
}

// drop removes sum's entry if it is still e.
func (r *repeatCache) drop(sum *[32]byte, e *repeatEntry) {
	sh := r.shard(sum)
	sh.mu.Lock()
	if cur := sh.m[*sum]; cur == e || e == nil {
		delete(sh.m, *sum)
	}
	sh.mu.Unlock()
}

func (r *repeatCache) store(sum *[32]byte, e *repeatEntry) {
	sh := r.shard(sum)
	sh.mu.Lock()
	if sh.m == nil {
		sh.m = make(map[[32]byte]*repeatEntry)
	}
	sh.m[*sum] = e
	sh.mu.Unlock()
}

// repeatEntry is one remembered verification; never modified.
type repeatEntry struct {
	claims Claims
	digest [32]byte  // of the key document whose key verified it
	key    *keyEntry // that key
}

type repeatSlot struct {
	sum  [32]byte
	size int
}

func newRepeatCache(n int) *repeatCache {
	if n <= 0 {
		return nil
	}
	return &repeatCache{order: make([]repeatSlot, n)}
}

func tokenSum(token string) [32]byte {
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(token), len(token)))
}

// tokenSums returns the SHA-256 of the whole token and, on the way, of its
// signing input (everything before the last '.'), which RS256, PS256 and
// ES256 verification would otherwise hash again; hasInput is false for a
// token without a '.'.
func tokenSums(token string) (whole, input [32]byte, hasInput bool) {
	i := strings.LastIndexByte(token, '.')
	if i < 0 {
		return tokenSum(token), input, false
	}
	h := sha256.New()
	h.Write(unsafe.Slice(unsafe.StringData(token), i))
	h.Sum(input[:0])
	h.Write(unsafe.Slice(unsafe.StringData(token[i:]), len(token)-i))
	h.Sum(whole[:0])
	return whole, input, true
}

// lookup returns the claims of a token verified before, copied, and
// whether the answer is final: hit is false when the token must be
// verified in full (never seen, or its key left the set), otherwise err
// is the verdict (nil, stale keys, or expired or not yet valid).
func (v *Verifier) lookup(ctx context.Context, sum *[32]byte, now time.Time) (c *Claims, hit bool, err error) {
	e := v.repeat.load(sum)
	if e == nil {
		return nil, false, nil
	}
	ks, _, err := v.cache.keys(ctx, now)
	if err != nil {
		return nil, true, err
	}
	if ks.digest != e.digest && !ks.holds(e.key) {
		v.repeat.drop(sum, e)
		return nil, false, nil
	}
	if err := v.checkTimes(&e.claims, now); err != nil {
		if _, late := err.(*ExpiredError); late {
			v.repeat.drop(sum, e)
		}
		return nil, true, err
	}
	return e.claims.clone(), true, nil
}

// remember adds a token that key e of set ks verified. c is copied, so
// the caller's claims stay the caller's; tokenLen bounds its memory.
func (r *repeatCache) remember(sum *[32]byte, c *Claims, e *keyEntry, ks *KeySet, tokenLen int) {
	size := tokenLen + repeatEntryOverhead
	entry := &repeatEntry{digest: ks.digest, key: e}
	c.copyTo(&entry.claims)
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.n > 0 && (r.n == len(r.order) || r.bytes+size > repeatCacheBytes) {
		old := r.order[r.head]
		r.drop(&old.sum, nil)
		r.head = (r.head + 1) % len(r.order)
		r.n--
		r.bytes -= old.size
	}
	r.order[(r.head+r.n)%len(r.order)] = repeatSlot{sum: *sum, size: size}
	r.n++
	r.bytes += size
	r.store(sum, entry)
}

// holds reports whether the set still has e's key, usable.
func (ks *KeySet) holds(e *keyEntry) bool {
	pub, ok := e.key.Public.(interface{ Equal(crypto.PublicKey) bool })
	if !ok {
		return false
	}
	ids := ks.byKID[e.key.KID]
	if e.key.KID == "" {
		ids = ks.byFamily[e.fam]
	}
	for _, id := range ids {
		if c := &ks.entries[id]; c.unusable == nil && pub.Equal(c.key.Public) {
			return true
		}
	}
	return false
}

// clone returns a copy of c that shares nothing mutable with it.
func (c *Claims) clone() *Claims {
	d := new(Claims)
	c.copyTo(d)
	return d
}

// copyTo makes *d a copy of c that shares nothing mutable with it.
func (c *Claims) copyTo(d *Claims) {
	*d = *c
	switch n := len(c.Audience); {
	case n > 0 && n <= len(c.audBuf) && &c.Audience[0] == &c.audBuf[0]:
		d.Audience = d.audBuf[:n]
	case n > 0:
		d.Audience = append([]string(nil), c.Audience...)
	}
	if c.Header.Crit != nil {
		d.Header.Crit = append([]string(nil), c.Header.Crit...)
	}
}
