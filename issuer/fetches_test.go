package issuer

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// fetchFixture is a manager with one application, its documents served
// with a recorder.
type fetchFixture struct {
	m   *Manager
	clk *clock.Fake
	rec *FetchRecorder
	mux *http.ServeMux
	app store.Application
}

func newFetchFixture(t *testing.T, cfg FetchRecorderConfig) *fetchFixture {
	t.Helper()
	clk := clock.NewFake(start)
	st := openSQLite(t, t.TempDir())
	t.Cleanup(func() { st.Close() })
	m := newManager(t, st, testKEK(t), clk, lifecycle.DefaultPolicy())
	app, _, err := m.CreateApp(t.Context(), AppSpec{Name: "orders"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	f := &fetchFixture{m: m, clk: clk, rec: NewFetchRecorder(m, cfg), mux: http.NewServeMux(), app: app}
	d := NewDocuments(m)
	d.SetRecorder(f.rec)
	d.Register(f.mux)
	return f
}

func (f *fetchFixture) get(t *testing.T, path, ua, addr, inm string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.RemoteAddr = addr
	if ua != "" {
		req.Header.Set("User-Agent", ua)
	}
	if inm != "" {
		req.Header.Set("If-None-Match", inm)
	}
	w := httptest.NewRecorder()
	f.mux.ServeHTTP(w, req)
	return w
}

func TestAppIDSameBytes(t *testing.T) {
	f := newFetchFixture(t, FetchRecorderConfig{})
	for _, p := range []string{JWKSPath, MetadataPath, DiscoveryPath} {
		plain := f.get(t, p, "", "192.0.2.1:1234", "")
		for _, q := range []string{"?appid=" + f.app.ClientID, "?appid=no-such-app", "?appid=%00%ff", "?x=1&appid=" + f.app.ClientID + "&appid=2"} {
			got := f.get(t, p+q, "", "192.0.2.1:1234", "")
			if got.Code != http.StatusOK || !bytes.Equal(got.Body.Bytes(), plain.Body.Bytes()) || got.Header().Get("ETag") != plain.Header().Get("ETag") {
				t.Errorf("%s%s: %d, %d bytes, ETag %s; without appid %d bytes, ETag %s", p, q, got.Code, got.Body.Len(),
					got.Header().Get("ETag"), plain.Body.Len(), plain.Header().Get("ETag"))
			}
		}
	}
}

func TestFetchRecording(t *testing.T) {
	ctx := t.Context()
	f := newFetchFixture(t, FetchRecorderConfig{})
	jwks := JWKSPath + "?appid=" + f.app.ClientID
	first := f.get(t, jwks, "orders/1.0", "192.0.2.7:4000", "")
	if _, err := f.m.Rotate(ctx, false, "test"); err != nil {
		t.Fatal(err)
	}
	next := f.m.Snapshot().NextKID
	f.clk.Advance(time.Hour)
	// The client revalidates with the old ETag: a 200 with the new set.
	f.get(t, jwks, "orders/1.0", "192.0.2.7:4000", first.Header().Get("ETag"))
	// Then with the new one: a 304 proves it holds the generation.
	cur := f.m.Snapshot().JWKSETag
	f.clk.Advance(time.Minute)
	if w := f.get(t, jwks, "orders/1.0", "192.0.2.7:4000", cur); w.Code != http.StatusNotModified {
		t.Fatalf("revalidation: %d", w.Code)
	}
	// Unattributed fetches, and a made-up appid, go by client.
	f.get(t, MetadataPath+"?appid=made-up", "", "[2001:db8:1:2::5]:443", "")
	f.get(t, MetadataPath, "", "[2001:db8:1:ffff::9]:443", "")
	if err := f.rec.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := f.m.Store().Fetches(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var app, anon *store.Fetch
	for i := range got {
		switch {
		case got[i].ClientID == f.app.ClientID && got[i].Document == store.DocJWKS:
			app = &got[i]
		case got[i].Client != "" && got[i].Document == store.DocMetadata:
			anon = &got[i]
		}
	}
	if len(got) != 2 || app == nil || anon == nil {
		t.Fatalf("rollups: %+v", got)
	}
	if app.Count != 3 || app.NotModified != 1 || app.NextKID != next || app.Generation != f.m.Snapshot().Generation ||
		!app.LastAt.Equal(f.clk.Now()) {
		t.Errorf("application rollup %+v; want 3 fetches, 1 not modified, next %s, generation %d", *app, next, f.m.Snapshot().Generation)
	}
	if anon.Client != "(no User-Agent) @ 2001:db8:1::/48" || anon.Count != 2 {
		t.Errorf("unattributed rollup %+v", *anon)
	}
}

func TestFetchRecorderBounded(t *testing.T) {
	f := newFetchFixture(t, FetchRecorderConfig{MaxClients: 2})
	for i := range 5 {
		f.get(t, JWKSPath, fmt.Sprintf("client-%d", i), "192.0.2.1:1", "") // one counter each
		f.get(t, JWKSPath, "client-0", "192.0.2.1:2", "")                  // an existing counter
	}
	if d := f.rec.Dropped(); d != 3 {
		t.Fatalf("dropped %d with room for 2 clients after 5, want 3", d)
	}
	if err := f.rec.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, _ := f.m.Store().Fetches(t.Context(), time.Time{})
	if len(got) != 2 || got[0].Count+got[1].Count != 7 {
		t.Fatalf("rollups %+v", got)
	}
	// Full counters are replaced at the flush: new clients count again.
	f.get(t, JWKSPath, "client-9", "192.0.2.1:1", "")
	if d := f.rec.Dropped(); d != 3 {
		t.Fatalf("dropped %d after the flush", d)
	}
}

func TestFetchRecorderRun(t *testing.T) {
	f := newFetchFixture(t, FetchRecorderConfig{FlushInterval: time.Minute})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { f.rec.Run(ctx); close(done) }()
	f.clk.BlockUntil(1)
	f.get(t, JWKSPath+"?appid="+f.app.ClientID, "", "192.0.2.1:1", "")
	cancel() // the final flush writes what is queued
	<-done
	got, _ := f.m.Store().Fetches(t.Context(), time.Time{})
	if len(got) != 1 || got[0].ClientID != f.app.ClientID {
		t.Fatalf("after Run ended: %+v", got)
	}
}

func TestClientLabel(t *testing.T) {
	for _, c := range []struct{ ua, addr, want string }{
		{"curl/8.5", "203.0.113.77:5555", "curl/8.5 @ 203.0.113.0/24"},
		{"x\x00y\n", "[::ffff:198.51.100.9]:80", "xy @ 198.51.100.0/24"},
		{"", "[fe80::1%eth0]:80", "(no User-Agent) @ fe80::/48"},
		{"a", "garbage", "a @ unknown address"},
	} {
		if got := ClientLabel(c.ua, c.addr); got != c.want {
			t.Errorf("ClientLabel(%q, %q) = %q, want %q", c.ua, c.addr, got, c.want)
		}
	}
}

// jwksHandlers returns the JWKS served without and with fetch recording
// (the recorder running as in serve) and a request attributed by ?appid=.
func jwksHandlers(b testing.TB) (off, on http.Handler, req *http.Request) {
	st := openSQLite(b, b.TempDir())
	b.Cleanup(func() { st.Close() })
	m := newManager(b, st, testKEK(b), clock.Real{}, lifecycle.DefaultPolicy())
	app, _, err := m.CreateApp(context.Background(), AppSpec{Name: "bench"}, "test")
	if err != nil {
		b.Fatal(err)
	}
	mk := func(record bool) http.Handler {
		mux := http.NewServeMux()
		d := NewDocuments(m)
		if record {
			rec := NewFetchRecorder(m, FetchRecorderConfig{})
			ctx, cancel := context.WithCancel(context.Background())
			b.Cleanup(cancel)
			go rec.Run(ctx)
			d.SetRecorder(rec)
		}
		d.Register(mux)
		return mux
	}
	req = httptest.NewRequest(http.MethodGet, JWKSPath+"?appid="+app.ClientID, nil)
	req.Header.Set("User-Agent", "bench/1.0")
	req.RemoteAddr = "192.0.2.1:4321"
	return mk(false), mk(true), req
}

func serveParallel(h http.Handler, req *http.Request) func(*testing.B) {
	return func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			w := &discardWriter{h: http.Header{}}
			for pb.Next() {
				clear(w.h)
				h.ServeHTTP(w, req)
			}
		})
	}
}

// httpParallel fetches the JWKS over loopback HTTP (keep-alive), as
// relying parties do.
func httpParallel(h http.Handler, path string) func(*testing.B) {
	return func(b *testing.B) {
		srv := httptest.NewServer(h)
		defer srv.Close()
		tr := &http.Transport{MaxIdleConnsPerHost: 64}
		defer tr.CloseIdleConnections()
		hc := &http.Client{Transport: tr}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				resp, err := hc.Get(srv.URL + path)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}

// BenchmarkJWKSRecording serves the JWKS with and without fetch recording:
//
//	go test -run '^$' -bench JWKSRecording -count 5 ./issuer/
func BenchmarkJWKSRecording(b *testing.B) {
	off, on, req := jwksHandlers(b)
	b.Run("handler/recording=off", serveParallel(off, req))
	b.Run("handler/recording=on", serveParallel(on, req))
	b.Run("http/recording=off", httpParallel(off, req.URL.RequestURI()))
	b.Run("http/recording=on", httpParallel(on, req.URL.RequestURI()))
}

// BenchmarkJWKSRecordingPaired alternates blocks of JWKS requests served
// without and with fetch recording on one goroutine and reports their time
// ratio (x-without-recording), so what else runs on a shared machine
// touches both sides alike:
//
//	go test -run '^$' -bench JWKSRecordingPaired -benchtime 200000x ./issuer/
func BenchmarkJWKSRecordingPaired(b *testing.B) {
	off, on, req := jwksHandlers(b)
	w := &discardWriter{h: http.Header{}}
	serve := func(h http.Handler, n int) time.Duration {
		start := time.Now()
		for range n {
			clear(w.h)
			h.ServeHTTP(w, req)
		}
		return time.Since(start)
	}
	const block = 256
	var tOff, tOn time.Duration
	b.ReportAllocs()
	for n := 0; b.Loop(); n++ {
		if n%block == 0 {
			tOff += serve(off, block)
			tOn += serve(on, block)
		}
	}
	if tOff > 0 {
		b.ReportMetric(float64(tOn)/float64(tOff), "x-without-recording")
	}
}

type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}
