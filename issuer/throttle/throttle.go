// Package throttle slows down password and client-secret guessing: after a
// few free failures for one key (an account, a client id, a network
// address) every further attempt must wait, and the wait doubles with each
// failure up to a cap. It never sleeps: callers ask how long a key must
// wait and answer at once (HTTP 429, or the sign-in form with the wait).
// Time comes from an injected clock.
package throttle

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Policy says how one kind of key is throttled.
type Policy struct {
	Free   int           // failures allowed before any wait
	Base   time.Duration // wait after the first failure beyond Free; doubles after each
	Max    time.Duration // longest wait
	Forget time.Duration // failures older than this (since the last one) are forgotten
}

// maxKeys bounds the memory a flood of distinct keys can take.
const maxKeys = 100_000

type entry struct {
	fails int
	last  time.Time // last failure
	until time.Time // no attempt before this
}

// Limiter counts failures per key. It is safe for concurrent use.
type Limiter struct {
	p   Policy
	now func() time.Time
	mu  sync.Mutex
	m   map[string]*entry
}

// NewLimiter returns a limiter with policy p and clock now.
func NewLimiter(p Policy, now func() time.Time) *Limiter {
	return &Limiter{p: p, now: now, m: map[string]*entry{}}
}

// Wait returns how long key must wait before its next attempt (0: now).
func (l *Limiter) Wait(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.get(key)
	if e == nil {
		return 0
	}
	return max(e.until.Sub(l.now()), 0)
}

// Fail records a failure of key and returns the wait it now has, and
// whether this failure started the throttling of key.
func (l *Limiter) Fail(key string) (wait time.Duration, started bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e := l.get(key)
	if e == nil {
		if len(l.m) >= maxKeys {
			l.sweep(now)
		}
		e = &entry{}
		l.m[key] = e
	}
	e.fails++
	e.last = now
	if over := e.fails - l.p.Free; over > 0 {
		d := l.p.Max
		if over <= 30 && l.p.Base<<(over-1) < l.p.Max {
			d = l.p.Base << (over - 1)
		}
		e.until = now.Add(d)
		return d, over == 1
	}
	return 0, false
}

// Reset forgets the failures of key (after a success).
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, key)
}

// get returns key's entry, dropping it when it has been forgotten.
func (l *Limiter) get(key string) *entry {
	e := l.m[key]
	if e != nil && l.now().Sub(e.last) > max(l.p.Forget, l.p.Max) {
		delete(l.m, key)
		return nil
	}
	return e
}

// sweep drops forgotten entries and, if the map is still full, the
// entries that are not throttled now.
func (l *Limiter) sweep(now time.Time) {
	for k, e := range l.m {
		if now.Sub(e.last) > max(l.p.Forget, l.p.Max) {
			delete(l.m, k)
		}
	}
	if len(l.m) < maxKeys {
		return
	}
	for k, e := range l.m {
		if !now.Before(e.until) {
			delete(l.m, k)
		}
	}
}

// Default policies: an account (or client id) waits after 5 failures, a
// network address (which NAT may share) after 20; waits start at a second
// and double up to 15 minutes; an hour without failures forgets them.
var (
	AccountPolicy = Policy{Free: 5, Base: time.Second, Max: 15 * time.Minute, Forget: time.Hour}
	AddressPolicy = Policy{Free: 20, Base: time.Second, Max: 15 * time.Minute, Forget: time.Hour}
)

// Guard throttles one kind of credential check by account and by the
// client's network address, and audits when throttling starts.
type Guard struct {
	what      string // "sign-in", "client authentication"
	accounts  *Limiter
	addresses *Limiter
	audit     func(ctx context.Context, reason string)
}

// NewGuard returns a guard with the default policies. audit, if not nil,
// is called once each time an account or address starts to be throttled.
func NewGuard(what string, now func() time.Time, audit func(ctx context.Context, reason string)) *Guard {
	return &Guard{what: what, accounts: NewLimiter(AccountPolicy, now), addresses: NewLimiter(AddressPolicy, now), audit: audit}
}

// SetAudit sets the audit hook.
func (g *Guard) SetAudit(audit func(ctx context.Context, reason string)) { g.audit = audit }

// Wait returns how long an attempt for account from addr must wait (0: now).
func (g *Guard) Wait(account, addr string) time.Duration {
	return max(g.accounts.Wait(account), g.addresses.Wait(addr))
}

// Failed records a failed attempt and returns the wait it causes.
func (g *Guard) Failed(ctx context.Context, account, addr string) time.Duration {
	wa, startedA := g.accounts.Fail(account)
	wb, startedB := g.addresses.Fail(addr)
	if g.audit != nil && startedA {
		g.audit(ctx, fmt.Sprintf("%s throttled for account %q after %d failures (last from %s)", g.what, clip(account), AccountPolicy.Free+1, addr))
	}
	if g.audit != nil && startedB {
		g.audit(ctx, fmt.Sprintf("%s throttled for address %s after %d failures", g.what, addr, AddressPolicy.Free+1))
	}
	return max(wa, wb)
}

// Succeeded forgets the failures of account (the address keeps its count:
// a success on one's own account must not reset a guessing address).
func (g *Guard) Succeeded(account string) { g.accounts.Reset(account) }

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// WaitText says how long to wait in words, rounded up to the second.
func WaitText(d time.Duration) string {
	s := int((d + time.Second - 1) / time.Second)
	if s == 1 {
		return "1 second"
	}
	return fmt.Sprintf("%d seconds", s)
}
