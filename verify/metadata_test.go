package verify

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/fedmeta"
	"github.com/keyroll/keyroll/jws"
)

// metadataServer serves a federation metadata document tests replace.
type metadataServer struct {
	mu   sync.Mutex
	body []byte
	srv  *httptest.Server
}

func newMetadataServer(t testing.TB, body []byte) *metadataServer {
	m := &metadataServer{body: body}
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		defer m.mu.Unlock()
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		w.Write(m.body)
	}))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *metadataServer) set(body []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.body = body
}

// metadataDoc builds metadata publishing keys' certificates, signed by
// signer unless it is nil.
func metadataDoc(t testing.TB, signer *testKey, cfg fedmeta.Config, keys ...testKey) []byte {
	t.Helper()
	cfg.EntityID, cfg.ID = "https://issuer.example/", "_root"
	for _, k := range keys {
		cfg.Certs = append(cfg.Certs, k.cert)
	}
	doc, err := fedmeta.Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if signer == nil {
		return doc
	}
	signed, err := fedmeta.Sign(doc, signer.signer, signer.cert)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

func metadataHarness(t *testing.T, m *metadataServer, pinned []*x509.Certificate, opts ...Option) *harness {
	t.Helper()
	h := &harness{t: t, issuer: "https://issuer.example/", clk: clock.NewFake(t0), log: newRefreshLog(), ctx: context.Background()}
	base := []Option{WithClock(h.clk), WithAudience(testAudience), WithObserver(h.log.observer())}
	v, err := New(h.issuer, FederationMetadata(m.srv.URL, pinned...), append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	h.v = v
	return h
}

func TestFederationMetadataKeySelection(t *testing.T) {
	a, b := rsaKey(t, "meta-a").withCert(t), rsaKey(t, "meta-b").withCert(t)
	signing := rsaKey(t, "meta-signer").withCert(t)
	m := newMetadataServer(t, metadataDoc(t, &signing, fedmeta.Config{}, a, b))
	h := metadataHarness(t, m, []*x509.Certificate{signing.cert})
	c := stdClaims(h.issuer, h.clk.Now())
	hexTP := strings.ToUpper(hex.EncodeToString(sha1Sum(a.cert.Raw)))
	for name, hdr := range map[string]jws.Header{
		"kid = x5t":         {Alg: "RS256", Kid: a.x5t()},
		"kid = hex sha1":    {Alg: "RS256", Kid: hexTP},
		"x5t only":          {Alg: "RS256", X5t: a.x5t()},
		"kid and x5t agree": {Alg: "RS256", Kid: a.x5t(), X5t: a.x5t()},
		"no kid, no x5t":    {Alg: "RS256"},
	} {
		if _, err := h.v.Verify(h.ctx, a.signHeader(t, hdr, c)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	tok := a.signHeader(t, jws.Header{Alg: "RS256", Kid: a.x5t(), X5t: b.x5t()}, c)
	if err := h.verifyErr(tok); !errors.Is(err, ErrKeyMismatch) {
		t.Errorf("kid/x5t disagree: %v, want ErrKeyMismatch", err)
	}
	tok = a.signHeader(t, jws.Header{Alg: "PS256", Kid: a.x5t()}, c)
	if err := h.verifyErr(tok); !errors.Is(err, ErrKeyMismatch) {
		t.Errorf("PS256 with a metadata (RS256) key: %v, want ErrKeyMismatch", err)
	}
}

func TestFederationMetadataPinnedSignature(t *testing.T) {
	a, b := rsaKey(t, "meta-a").withCert(t), rsaKey(t, "meta-b").withCert(t)
	signing := rsaKey(t, "meta-signer").withCert(t)
	rogue := rsaKey(t, "meta-rogue").withCert(t)
	m := newMetadataServer(t, metadataDoc(t, &signing, fedmeta.Config{}, a))
	h := metadataHarness(t, m, []*x509.Certificate{signing.cert})
	good := a.signHeader(t, jws.Header{Alg: "RS256", Kid: a.x5t()}, stdClaims(h.issuer, h.clk.Now()))
	h.mustVerify(good)
	h.log.next(t)

	for name, tc := range map[string]struct {
		doc  []byte
		want error
	}{
		"unsigned":          {metadataDoc(t, nil, fedmeta.Config{}, b), fedmeta.ErrNoSignature},
		"signed by a rogue": {metadataDoc(t, &rogue, fedmeta.Config{}, b), fedmeta.ErrUntrustedSigner},
		"tampered":          {[]byte(strings.Replace(string(metadataDoc(t, &signing, fedmeta.Config{}, a)), "https://issuer.example/", "https://issuer.example/x", 1)), fedmeta.ErrInvalidSignature},
	} {
		m.set(tc.doc)
		h.clk.Advance(time.Hour)
		if err := h.v.Cache().Refresh(h.ctx); !errors.Is(err, tc.want) {
			t.Errorf("%s: Refresh = %v, want %v", name, err, tc.want)
		}
		h.log.next(t)
		h.mustVerify(a.signHeader(t, jws.Header{Alg: "RS256", Kid: a.x5t()}, stdClaims(h.issuer, h.clk.Now())))
	}
}

func TestFederationMetadataValidUntilAndCacheDuration(t *testing.T) {
	a := rsaKey(t, "meta-a").withCert(t)
	signing := rsaKey(t, "meta-signer").withCert(t)
	cfg := fedmeta.Config{ValidUntil: t0.Add(10 * time.Hour), CacheDuration: time.Hour}
	m := newMetadataServer(t, metadataDoc(t, &signing, cfg, a))
	h := metadataHarness(t, m, []*x509.Certificate{signing.cert})
	tok := func() string {
		return a.signHeader(t, jws.Header{Alg: "RS256", Kid: a.x5t()}, stdClaims(h.issuer, h.clk.Now()))
	}
	h.mustVerify(tok())
	if ev := h.log.next(t); ev.NextRefresh.Sub(t0) != time.Hour {
		t.Fatalf("cacheDuration not honoured: next refresh %s", ev.NextRefresh)
	}
	// The issuer goes down: the cached document serves until validUntil...
	m.set([]byte("<oops"))
	h.clk.Advance(9 * time.Hour)
	h.mustVerify(tok())
	// ...and not after it.
	h.clk.Advance(2 * time.Hour)
	err := h.verifyErr(tok())
	if !errors.Is(err, ErrStale) || !errors.Is(err, ErrMetadataExpired) {
		t.Fatalf("past validUntil: %v, want ErrStale and ErrMetadataExpired", err)
	}
	// A fetched document already past its validUntil is refused (after the
	// retry that verification started has failed on the broken document).
	if err := h.v.Cache().Refresh(h.ctx); err == nil {
		t.Fatal("refresh of a broken document succeeded")
	}
	m.set(metadataDoc(t, &signing, fedmeta.Config{ValidUntil: t0.Add(time.Hour)}, a))
	if err := h.v.Cache().Refresh(h.ctx); !errors.Is(err, ErrMetadataExpired) {
		t.Fatalf("expired document: Refresh = %v", err)
	}
}

func TestRealEntraMetadataFixture(t *testing.T) {
	data, err := os.ReadFile("testdata/entra-tenant-8b966979.xml")
	if err != nil {
		t.Fatal(err)
	}
	md, err := fedmeta.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	var signer *x509.Certificate
	for _, s := range md.Signing {
		if fedmeta.Thumbprint(s.Cert) == "FD482A5C6FED30B76E489D53F1C687C54EDC3AD7" {
			signer = s.Cert
		}
	}
	m := newMetadataServer(t, data)
	h := metadataHarness(t, m, []*x509.Certificate{signer})
	if err := h.v.Cache().Refresh(h.ctx); err != nil {
		t.Fatal(err)
	}
	ks := h.v.Cache().KeySet()
	if ks.Issuer() != "https://sts.windows.net/8b966979-910b-487c-a604-69229b1ac75c/" {
		t.Errorf("Issuer = %q", ks.Issuer())
	}
	var kids []string
	for _, k := range ks.Keys() {
		kids = append(kids, k.KID)
	}
	want := []string{"FD482A5C6FED30B76E489D53F1C687C54EDC3AD7", "6B740DD01652EECE2737E05DAE36C5D18FCB74C3", "D92E120951ACF1283D2D2E80A8B22AE83A56FA0F"}
	if len(kids) != len(want) {
		t.Fatalf("kids = %v, want the x5t of %v", kids, want)
	}
	for i, tp := range want {
		raw, _ := hex.DecodeString(tp)
		if x5t := base64.RawURLEncoding.EncodeToString(raw); kids[i] != x5t {
			t.Errorf("key %d kid = %s, want %s (x5t of %s)", i, kids[i], x5t, tp)
		}
		if _, ok := ks.byKID[tp]; !ok {
			t.Errorf("hex thumbprint %s is not a kid alias", tp)
		}
	}
}

func TestRealEntraJWKSFixture(t *testing.T) {
	h := staticHarness(t, StaticFile("testdata/entra-common-discovery-keys-2020.json"))
	ks := h.v.Cache().KeySet()
	if ks.Usable() != 3 {
		t.Fatalf("usable = %d, want 3 (skipped: %v)", ks.Usable(), ks.Skipped())
	}
	for _, kid := range []string{"SsZsBNhZcF3Q9S4trpQBTByNRRI", "huN95IvPfehq34GzBDZ1GXGirnM", "M6pX7RHoraLsprfJeRCjSxuURhc"} {
		if ks.byKID[kid] == nil || ks.byX5T[kid] == nil {
			t.Errorf("kid/x5t %s not indexed", kid)
		}
	}
}
