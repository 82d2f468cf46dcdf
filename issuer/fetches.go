package issuer

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/keyroll/keyroll/store"
)

// AppIDParam is the query parameter that attributes a fetch of a published
// document to an application: /.well-known/jwks.json?appid=CLIENT_ID. The
// answer is the same with or without it, for any value.
const AppIDParam = "appid"

// Recorder defaults.
const (
	DefaultFetchClients   = 10000            // distinct (application or client, document) pairs counted between rotations
	DefaultFetchFlush     = 10 * time.Second // how often rollups are written
	DefaultFetchRetention = 180 * 24 * time.Hour
)

// FetchRecorder records, per application (?appid=) and for unattributed
// clients per User-Agent and coarsened address, which published documents
// they fetched and which key-set generation they were served: the evidence
// behind readiness and the promotion gate.
//
// Serving never waits for it and never takes a lock: a fetch finds its
// counter in a concurrent map and adds to it atomically (sharded, so
// replicas' cores do not fight over one cache line); the latest time is
// kept to the second. [FetchRecorder.Run] writes the counters as daily
// rollups every flush interval. The number of counters is bounded: past
// it, fetches by new clients are dropped and counted.
type FetchRecorder struct {
	st         fetchStore
	written    func() // after rollups are written: the evidence changed
	now        func() time.Time
	after      func(time.Duration) <-chan time.Time
	flushEach  time.Duration
	retention  time.Duration
	maxClients int64
	onError    func(error)

	live    atomic.Pointer[counters] // where fetches count now
	dropped atomic.Int64

	mu      sync.Mutex // serialises flushes; guards old, pending, pruned
	old     *counters  // the previous counters, drained once more after a rotation
	pending map[fetchKey]*pendingFetch
	pruned  time.Time // the day of the last prune
}

// FetchRecorderConfig configures a FetchRecorder; zero values take the defaults.
type FetchRecorderConfig struct {
	MaxClients    int // distinct counters between rotations (a day, or when full)
	FlushInterval time.Duration
	Retention     time.Duration // rollups older than this are pruned
	OnError       func(error)   // a failed write (the batch is kept for the next)
}

// counters is one generation of live counters.
type counters struct {
	m sync.Map // counterKey → *counter
	n atomic.Int64
}

// counterKey is what a fetch is counted under: its appid (checked when
// written) or, without one, the client's User-Agent and host.
type counterKey struct {
	appID, ua, host string
	doc             store.Document
}

const counterShards = 8

// counter counts the fetches of one key. Counts are sharded; the latest
// fetch's second and snapshot are kept.
type counter struct {
	count [counterShards]paddedInt
	nm    [counterShards]paddedInt
	last  atomic.Int64 // unix seconds of the latest fetch
	snap  atomic.Pointer[Snapshot]
	// ua and host are the first client's, to name the client when the
	// appid turns out to name no application.
	ua, host string
}

type paddedInt struct {
	atomic.Int64
	_ [56]byte
}

// fetchKey is a rollup being written.
type fetchKey struct {
	day              int64
	clientID, client string
	doc              store.Document
}

// fetchStore is what the recorder reads (the applications, to name a
// fetch's client) and writes (the rollups).
type fetchStore interface {
	store.AppStore
	store.EvidenceStore
}

// pendingFetch is a rollup waiting to be written (a failed write keeps it).
type pendingFetch = store.Fetch

// NewFetchRecorder returns a recorder writing to m's store on m's clock.
func NewFetchRecorder(m *Manager, cfg FetchRecorderConfig) *FetchRecorder {
	r := &FetchRecorder{st: m.cfg.Store, written: m.evidenceChanged, now: m.Now, after: m.cfg.Clock.After,
		flushEach: cfg.FlushInterval, retention: cfg.Retention, maxClients: int64(cfg.MaxClients), onError: cfg.OnError,
		pending: map[fetchKey]*pendingFetch{}}
	if r.maxClients <= 0 {
		r.maxClients = DefaultFetchClients
	}
	if r.flushEach <= 0 {
		r.flushEach = DefaultFetchFlush
	}
	if r.retention <= 0 {
		r.retention = DefaultFetchRetention
	}
	r.live.Store(&counters{})
	return r
}

// Dropped returns how many fetches went uncounted because the counters
// were full.
func (r *FetchRecorder) Dropped() int64 { return r.dropped.Load() }

// record counts one answered fetch of doc, served from snap. A nil
// recorder records nothing.
func (r *FetchRecorder) record(req requestInfo, doc store.Document, snap *Snapshot, notModified bool) {
	if r == nil {
		return
	}
	k := counterKey{appID: req.appID, doc: doc}
	if k.appID == "" {
		k.ua, k.host = req.ua, hostOf(req.addr)
	}
	cs := r.live.Load()
	v, ok := cs.m.Load(k)
	if !ok {
		if cs.n.Load() >= r.maxClients {
			r.dropped.Add(1)
			return
		}
		var loaded bool
		if v, loaded = cs.m.LoadOrStore(k, &counter{ua: req.ua, host: hostOf(req.addr)}); !loaded {
			cs.n.Add(1)
		}
	}
	c := v.(*counter)
	shard := rand.N(counterShards)
	c.count[shard].Add(1)
	if notModified {
		c.nm[shard].Add(1)
	}
	if sec := r.now().Unix(); c.last.Load() < sec {
		c.last.Store(sec)
	}
	if c.snap.Load() != snap {
		c.snap.Store(snap)
	}
}

// hostOf strips the port from a RemoteAddr without allocating.
func hostOf(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i > 0 && !strings.HasSuffix(addr[:i], ":") {
		addr = addr[:i]
	}
	return strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]")
}

// requestInfo is what the recorder keeps of a request.
type requestInfo struct{ appID, ua, addr string }

// Run writes the counters every flush interval until ctx ends, then once
// more.
func (r *FetchRecorder) Run(ctx context.Context) {
	for {
		select {
		case <-r.after(r.flushEach):
			r.report(r.Flush(ctx))
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			r.report(r.Flush(final))
			cancel()
			return
		}
	}
}

func (r *FetchRecorder) report(err error) {
	if err != nil && r.onError != nil {
		r.onError(err)
	}
}

// Flush takes the counts so far and writes them as rollups. A failed write
// keeps them for the next flush. An appid that names no application counts
// for the client instead: made-up ids fill no table. The counters are
// replaced when the day changes or they are full.
func (r *FetchRecorder) Flush(ctx context.Context) error {
	apps, err := r.st.Apps(ctx)
	if err != nil {
		return err
	}
	known := make(map[string]bool, len(apps))
	for _, a := range apps {
		known[a.ClientID] = true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	cur := r.live.Load()
	if old := r.old; old != nil {
		r.drain(old, known) // fetches that still counted there after the rotation
		r.old = nil
	}
	r.drain(cur, known)
	if cur.n.Load() >= r.maxClients || r.rotatedDay(cur, now) {
		r.live.Store(&counters{})
		r.old = cur
	}
	if len(r.pending) == 0 {
		return nil
	}
	batch := make([]store.Fetch, 0, len(r.pending))
	for _, f := range r.pending {
		batch = append(batch, *f)
	}
	if err := r.st.RecordFetches(ctx, batch); err != nil {
		return err
	}
	clear(r.pending)
	r.written()
	if day := store.FetchDay(now); !day.Equal(r.pruned) {
		if _, err := r.st.PruneFetches(ctx, day.Add(-r.retention)); err != nil {
			return err
		}
		r.pruned = day
	}
	return nil
}

// rotatedDay reports whether cur holds a count from before today.
func (r *FetchRecorder) rotatedDay(cur *counters, now time.Time) bool {
	today := store.FetchDay(now)
	stale := false
	cur.m.Range(func(_, v any) bool {
		if last := v.(*counter).last.Load(); last != 0 && time.Unix(last, 0).Before(today) {
			stale = true
		}
		return !stale
	})
	return stale
}

// drain moves the counts of cs into pending rollups; r.mu is held.
func (r *FetchRecorder) drain(cs *counters, known map[string]bool) {
	cs.m.Range(func(key, v any) bool {
		k, c := key.(counterKey), v.(*counter)
		var n, nm int64
		for i := range counterShards {
			n += c.count[i].Swap(0)
			nm += c.nm[i].Swap(0)
		}
		snap := c.snap.Load()
		if n == 0 || snap == nil {
			return true
		}
		last := time.Unix(c.last.Load(), 0).UTC()
		fk := fetchKey{day: store.FetchDay(last).Unix(), doc: k.doc}
		if known[k.appID] {
			fk.clientID = k.appID
		} else {
			fk.client = ClientLabel(c.ua, c.host)
		}
		f := r.pending[fk]
		if f == nil {
			f = &pendingFetch{Day: store.FetchDay(last), ClientID: fk.clientID, Client: fk.client, Document: k.doc}
			r.pending[fk] = f
		}
		mergeFetch(f, store.Fetch{Count: n, NotModified: min(nm, n), LastAt: last, Generation: snap.Generation, NextKID: snap.NextKID})
		return true
	})
}

// mergeFetch adds f's counts to m; the later fetch names the generation.
func mergeFetch(m *store.Fetch, f store.Fetch) {
	m.Count += f.Count
	m.NotModified += f.NotModified
	if !f.LastAt.Before(m.LastAt) {
		m.LastAt, m.Generation, m.NextKID = f.LastAt, f.Generation, f.NextKID
	}
}

// ClientLabel names an unattributed client by its User-Agent (printable,
// at most 120 bytes) and its address coarsened to the /24 (IPv4) or /48
// (IPv6) it is in: enough to tell fleets apart, not to single out a host.
func ClientLabel(ua, remoteAddr string) string {
	ua = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, ua)
	if len(ua) > 120 {
		ua = strings.ToValidUTF8(ua[:120], "")
	}
	if ua == "" {
		ua = "(no User-Agent)"
	}
	return ua + " @ " + coarseAddr(remoteAddr)
}

func coarseAddr(remoteAddr string) string {
	ap, err := netip.ParseAddrPort(remoteAddr)
	var a netip.Addr
	if err == nil {
		a = ap.Addr()
	} else if a, err = netip.ParseAddr(remoteAddr); err != nil {
		return "unknown address"
	}
	a = a.Unmap().WithZone("")
	bits := 48
	if a.Is4() {
		bits = 24
	}
	p, _ := a.Prefix(bits)
	return p.String()
}

// appIDOf returns the appid query parameter of a raw query, without
// parsing the rest.
func appIDOf(rawQuery string) string {
	for rawQuery != "" {
		var part string
		part, rawQuery, _ = strings.Cut(rawQuery, "&")
		if v, ok := strings.CutPrefix(part, AppIDParam+"="); ok {
			if len(v) > 200 {
				return ""
			}
			if strings.ContainsAny(v, "%+") {
				return "" // client ids are URL-safe; an encoded one is not one of ours
			}
			return v
		}
	}
	return ""
}
