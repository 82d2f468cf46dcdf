package console

import (
	"math"
	"sync"
	"time"
)

// throttle slows password guessing: after a few free failures, each
// further failure on a key (an account, a client address) makes it wait
// twice as long as the last, up to maxDelay. It keeps no goroutine and
// never sleeps: a throttled attempt is refused with the time left. It is
// per replica; a guesser spreading attempts over replicas gets each
// replica's allowance.
type throttle struct {
	mu   sync.Mutex
	now  func() time.Time
	keys map[string]*tries
}

type tries struct {
	fails int
	until time.Time // no attempt before this
	last  time.Time
}

// Throttle settings: free failures per account and per address, and the
// longest delay.
const (
	freePerAccount = 3
	freePerAddress = 10
	maxDelay       = 15 * time.Minute
	maxKeys        = 10000
)

func newThrottle(now func() time.Time) *throttle {
	return &throttle{now: now, keys: map[string]*tries{}}
}

// wait returns how long the caller must wait before trying any of keys.
func (t *throttle) wait(keys ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var d time.Duration
	for _, k := range keys {
		if x, ok := t.keys[k]; ok && x.until.After(now) {
			d = max(d, x.until.Sub(now))
		}
	}
	return d
}

// fail records a failed attempt on each key; free is each key's number of
// failures before delays start.
func (t *throttle) fail(keys []string, free []int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if len(t.keys) >= maxKeys {
		t.prune(now)
	}
	for i, k := range keys {
		x := t.keys[k]
		if x == nil {
			x = &tries{}
			t.keys[k] = x
		}
		x.fails++
		x.last = now
		if n := x.fails - free[i]; n > 0 {
			x.until = now.Add(delay(n))
		}
	}
}

// delay is 1 s for the first failure past the free ones, doubling each
// time, at most maxDelay.
func delay(n int) time.Duration {
	if n > 20 {
		return maxDelay
	}
	return min(time.Duration(math.Pow(2, float64(n-1)))*time.Second, maxDelay)
}

// reset forgets a key (an account after its password was given).
func (t *throttle) reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, key)
}

// prune drops keys whose delay has passed and that failed more than a
// day ago; if that is not enough, every key whose delay has passed.
func (t *throttle) prune(now time.Time) {
	for k, x := range t.keys {
		if !x.until.After(now) && now.Sub(x.last) > 24*time.Hour {
			delete(t.keys, k)
		}
	}
	if len(t.keys) < maxKeys {
		return
	}
	for k, x := range t.keys {
		if !x.until.After(now) {
			delete(t.keys, k)
		}
	}
}
