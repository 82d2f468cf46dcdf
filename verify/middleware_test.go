package verify

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestMiddleware(t *testing.T) {
	k := rsaKey(t, "k1")
	h := staticHarness(t, StaticBytes("set", jwksOf(t, k.jwk())))
	var seen *Claims
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = ClaimsFromContext(r.Context())
		w.Write([]byte("hello " + seen.Subject))
	})
	srv := Middleware(h.v, WithRealm("api"))(app)
	do := func(auth ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/", nil)
		for _, a := range auth {
			r.Header.Add("Authorization", a)
		}
		w := httptest.NewRecorder()
		seen = nil
		srv.ServeHTTP(w, r)
		return w
	}
	good := h.token(k)

	w := do("Bearer " + good)
	if w.Code != 200 || w.Body.String() != "hello alice" || seen == nil {
		t.Fatalf("valid token: %d %q", w.Code, w.Body)
	}
	if w := do("bearer  " + good); w.Code != 200 {
		t.Fatalf("scheme is case-insensitive: %d", w.Code)
	}

	for name, tc := range map[string]struct {
		auth      []string
		status    int
		challenge string
	}{
		"no header":      {nil, 401, `Bearer realm="api"`},
		"basic auth":     {[]string{"Basic YTpi"}, 401, `Bearer realm="api"`},
		"two headers":    {[]string{"Bearer " + good, "Bearer " + good}, 400, `Bearer realm="api", error="invalid_request", error_description="`},
		"bad characters": {[]string{`Bearer a"b`}, 400, `error="invalid_request"`},
		"invalid token":  {[]string{"Bearer " + tamperKid(good, `evil"kid\`)}, 401, `Bearer realm="api", error="invalid_token", error_description="verify: unknown key kid 'evil?'kid??': no such key after a refresh at`},
		"expired":        {[]string{"Bearer " + expiredToken(t, k, h.issuer)}, 401, `error_description="verify: token expired at`},
	} {
		w := do(tc.auth...)
		if w.Code != tc.status || seen != nil {
			t.Errorf("%s: status %d (handler reached: %v)", name, w.Code, seen != nil)
		}
		ch := w.Header().Get("WWW-Authenticate")
		if !strings.Contains(ch, tc.challenge) {
			t.Errorf("%s: WWW-Authenticate = %s, want %s", name, ch, tc.challenge)
		}
		if tc.status == 401 && len(tc.auth) == 0 && strings.Contains(ch, "error=") {
			t.Errorf("%s: a missing token must not carry an error code: %s", name, ch)
		}
		if strings.Count(ch, `"`)%2 != 0 {
			t.Errorf("%s: unbalanced quotes in %s", name, ch)
		}
	}
}

func expiredToken(t *testing.T, k testKey, iss string) string {
	c := stdClaims(iss, t0.Add(-3*60*60*1e9))
	return k.sign(t, c)
}

func TestMiddlewareErrorHandler(t *testing.T) {
	k := rsaKey(t, "k1")
	h := staticHarness(t, StaticBytes("set", jwksOf(t, k.jwk())))
	var got error
	srv := Middleware(h.v, WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
		got = err
		w.WriteHeader(http.StatusTeapot)
	}))(http.NotFoundHandler())
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != http.StatusTeapot || got != ErrNoToken {
		t.Fatalf("custom handler: %d, %v", w.Code, got)
	}
}
