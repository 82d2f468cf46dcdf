package samlidp

import "net/http"

// signedOut says that the user is signed out.
func signedOut(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Signed out – keyroll</title></head>
<body><main><h1>Signed out</h1><p>You are signed out. keyroll keeps no sign-in session: every sign-in asks for the password again.</p></main></body>
</html>
`))
}
