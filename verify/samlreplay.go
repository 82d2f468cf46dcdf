package verify

import (
	"sync"
	"time"
)

// replayCache remembers accepted assertion IDs until they expire, bounded:
// when full, expired IDs are dropped first, then the oldest.
type replayCache struct {
	mu    sync.Mutex
	max   int
	seen  map[string]time.Time // key → until
	order []string             // insertion order, for eviction
}

func newReplayCache(max int) *replayCache {
	return &replayCache{max: max, seen: make(map[string]time.Time)}
}

// add records key until until and reports whether it was new (or its
// earlier record had expired).
func (r *replayCache) add(key string, until, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t, ok := r.seen[key]; ok && now.Before(t) {
		return false
	}
	for len(r.seen) >= r.max && len(r.order) > 0 {
		old := r.order[0]
		r.order = r.order[1:]
		delete(r.seen, old)
	}
	if _, ok := r.seen[key]; !ok {
		r.order = append(r.order, key)
	}
	r.seen[key] = until
	return true
}
