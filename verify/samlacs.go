package verify

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
)

type assertionKey struct{}

// AssertionFromContext returns the assertion [SAMLVerifier.ACS] verified.
func AssertionFromContext(ctx context.Context) (*Assertion, bool) {
	a, ok := ctx.Value(assertionKey{}).(*Assertion)
	return a, ok && a != nil
}

// ACS returns an assertion consumer service: it accepts a POSTed SAML 2.0
// Response (form field SAMLResponse, base64) or WS-Federation sign-in
// response (wa=wsignin1.0 with wresult), verifies it and calls next with
// the assertion in the request context ([AssertionFromContext]).
// requestID returns the ID of the AuthnRequest this browser was sent with
// (e.g. from a cookie), or "" to accept only unsolicited responses; nil
// means always "". A refused response gets 403 with a short reason and
// never reaches next; a request that is not a sign-in response gets 400.
func (v *SAMLVerifier) ACS(requestID func(*http.Request) string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST a SAMLResponse or wresult", http.StatusMethodNotAllowed)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 2*MaxSAMLSize)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		var a *Assertion
		var err error
		switch {
		case r.PostForm.Get("SAMLResponse") != "":
			raw, derr := base64.StdEncoding.DecodeString(r.PostForm.Get("SAMLResponse"))
			if derr != nil {
				http.Error(w, "SAMLResponse is not base64", http.StatusBadRequest)
				return
			}
			id := ""
			if requestID != nil {
				id = requestID(r)
			}
			a, err = v.VerifyResponse(r.Context(), raw, id)
		case r.PostForm.Get("wa") == "wsignin1.0" && r.PostForm.Get("wresult") != "":
			a, err = v.VerifyWSFed(r.Context(), []byte(r.PostForm.Get("wresult")))
		default:
			http.Error(w, "no SAMLResponse or wresult", http.StatusBadRequest)
			return
		}
		if err != nil {
			status := http.StatusForbidden
			if errors.Is(err, ErrNoKeys) || errors.Is(err, ErrStale) {
				status = http.StatusServiceUnavailable
			}
			http.Error(w, "sign-in refused: "+headerSafe(err.Error(), 200), status)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), assertionKey{}, a)))
	})
}
