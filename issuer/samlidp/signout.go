package samlidp

import (
	"html/template"
	"net/http"

	"github.com/keyroll/keyroll/issuer/signin"
)

var signedOutPage = template.Must(template.New("signed-out").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Signed out – keyroll</title></head>
<body><main><h1>Signed out</h1><p>You are signed out. keyroll keeps no sign-in session: every sign-in asks for the password again.</p></main></body>
</html>
`))

// signedOut says that the user is signed out.
func signedOut(w http.ResponseWriter) {
	signin.WritePage(w, http.StatusOK, signedOutPage, nil, "default-src 'none'; frame-ancestors 'none'; base-uri 'none'")
}
