package oidc

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzTokenRequest: the token endpoint's body and Authorization header are
// parsed into a form and client credentials, or refused with an OAuth
// error; never a panic, never a repeated parameter.
func FuzzTokenRequest(f *testing.F) {
	f.Add("grant_type=client_credentials&client_id=a&client_secret=b", "")
	f.Add("grant_type=authorization_code&code=x&code=y", "Basic YTpi")
	f.Add("%zz", "Basic !!")
	f.Add("client_id=a", "Bearer x")
	f.Fuzz(func(t *testing.T, body, auth string) {
		r := httptest.NewRequest(http.MethodPost, TokenPath, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		form, terr := tokenForm(httptest.NewRecorder(), r)
		if terr != nil {
			if terr.Code == "" || terr.Status < 400 {
				t.Fatalf("refusal without an OAuth error: %+v", terr)
			}
			return
		}
		for k, v := range form {
			if len(v) != 1 {
				t.Fatalf("parameter %q repeated", k)
			}
		}
		if _, _, _, terr := clientCredentialsOf(r, form); terr != nil && terr.Code == "" {
			t.Fatalf("refusal without an OAuth error: %+v", terr)
		}
	})
}
