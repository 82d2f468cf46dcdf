package ops

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// TestNoDowngradeFromHTTPS: an https document can send keyroll neither by
// redirect nor by jwks_uri to a plain-http service, loopback included.
func TestNoDowngradeFromHTTPS(t *testing.T) {
	var hits atomic.Int32
	local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte(`{"keys":[]}`))
	}))
	defer local.Close()
	tls := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			fmt.Fprintf(w, `{"issuer":"x","jwks_uri":%q}`, local.URL+"/keys")
		default:
			http.Redirect(w, r, local.URL+"/admin/keys", http.StatusFound)
		}
	}))
	defer tls.Close()
	l := &Loader{Client: tls.Client()}
	for _, u := range []string{tls.URL + "/.well-known/openid-configuration", tls.URL + "/redirect"} {
		_, err := l.Load(context.Background(), Source{Location: u})
		if !errors.Is(err, ErrInsecureURL) {
			t.Errorf("%s: err = %v, want ErrInsecureURL", u, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the plain-http loopback service was called %d times", n)
	}
}
