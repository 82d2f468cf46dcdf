package testissuer

import (
	"crypto/ed25519"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/keyroll/keyroll/jws"
)

func get(t *testing.T, url, etag string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func TestIssuerServesDiscoveryAndKeys(t *testing.T) {
	k := NewKey(t, "ES256", "k1")
	f := New(t, k)
	status, _, body := get(t, f.URL()+DiscoveryPath, "")
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || status != 200 || doc.Issuer != f.URL() || doc.JWKSURI != f.URL()+KeysPath {
		t.Fatalf("discovery %d %s (%v)", status, body, err)
	}
	if _, _, body = get(t, f.URL()+KeysPath, ""); string(body) != string(JWKS(t, k.JWK())) {
		t.Fatalf("keys = %s", body)
	}
	if f.DiscHits.Load() != 1 || f.JWKSHits.Load() != 1 {
		t.Fatalf("hits: discovery %d, keys %d", f.DiscHits.Load(), f.JWKSHits.Load())
	}
}

func TestIssuerDownAnswers503AndStillCounts(t *testing.T) {
	f := New(t)
	f.SetDown(true)
	for _, p := range []string{DiscoveryPath, KeysPath} {
		if status, _, _ := get(t, f.URL()+p, ""); status != http.StatusServiceUnavailable {
			t.Fatalf("%s while down: %d", p, status)
		}
	}
	f.SetDown(false)
	if status, _, _ := get(t, f.URL()+KeysPath, ""); status != 200 || f.JWKSHits.Load() != 2 {
		t.Fatalf("after recovery: %d, %d fetches", status, f.JWKSHits.Load())
	}
}

func TestIssuerETagRevalidates(t *testing.T) {
	f := New(t, NewKey(t, "ES256", "k1"))
	f.UseETag("max-age=60")
	_, h, _ := get(t, f.URL()+KeysPath, "")
	if h.Get("Cache-Control") != "max-age=60" || h.Get("ETag") == "" {
		t.Fatalf("headers %v", h)
	}
	if status, _, _ := get(t, f.URL()+KeysPath, h.Get("ETag")); status != http.StatusNotModified || f.CondHits.Load() != 1 {
		t.Fatalf("revalidation: %d, %d conditional", status, f.CondHits.Load())
	}
	f.Set(500, []byte("broken"))
	if status, _, body := get(t, f.URL()+KeysPath, h.Get("ETag")); status != 500 || string(body) != "broken" {
		t.Fatalf("after Set: %d %s", status, body)
	}
}

func TestIssuerHangsUntilReleased(t *testing.T) {
	f := New(t)
	hang := make(chan struct{})
	f.Hang(hang)
	done := make(chan int, 1)
	go func() {
		resp, err := http.Get(f.URL() + KeysPath)
		if err != nil {
			done <- -1
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	<-f.Hung()
	select {
	case s := <-done:
		t.Fatalf("a hung request answered %d", s)
	default:
	}
	close(hang)
	select {
	case s := <-done:
		if s != 200 {
			t.Fatalf("released request: %d", s)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("released request never answered")
	}
}

func TestKeySignsWithItsKidAndAlg(t *testing.T) {
	k := NewKey(t, "EdDSA", "d1").WithCert(t)
	if k.Cert == nil || len(k.X5T()) != 27 {
		t.Fatalf("certificate %v, x5t %q", k.Cert, k.X5T())
	}
	tok := k.Sign(t, StdClaims("https://iss.example", "aud", T0))
	parsed, err := jws.Parse(tok)
	if err != nil || parsed.Header.Alg != "EdDSA" || parsed.Header.Kid != "d1" {
		t.Fatalf("token %q: %v", tok, err)
	}
	if !Signer(t, "Ed25519", "d1").(ed25519.PrivateKey).Equal(k.Signer) {
		t.Fatal("the pool gave a different key for the same name")
	}
}
