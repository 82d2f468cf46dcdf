package samlidp

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"regexp"

	"github.com/keyroll/keyroll/issuer/signin"
)

// autoSubmit is the page's only script: it posts the form at once. With
// scripts off, the user presses Continue.
const autoSubmit = `document.forms[0].submit()`

var postTemplate = template.Must(template.New("post").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Signing in – keyroll</title>
</head>
<body>
<main>
<form method="post" action="{{.Action}}">
{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<noscript><p>Scripts are off in this browser: press Continue to finish signing in.</p></noscript>
<button type="submit">Continue</button>
</form>
</main>
<script>` + autoSubmit + `</script>
</body>
</html>
`))

// scriptHash is the CSP hash of autoSubmit.
var scriptHash = func() string {
	sum := sha256.Sum256([]byte(autoSubmit))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

type field struct{ Name, Value string }

// postPage answers with a form that posts fields to action (a registered
// ACS or reply URL) and submits itself. The Content-Security-Policy allows
// that one script by its hash and form submission to action's origin only.
func postPage(w http.ResponseWriter, action string, fields url.Values) {
	var fs []field
	for _, k := range []string{"SAMLResponse", "RelayState", "wa", "wresult", "wctx"} {
		for _, v := range fields[k] {
			fs = append(fs, field{k, v})
		}
	}
	origin := action
	if u, err := url.Parse(action); err == nil {
		origin = u.Scheme + "://" + u.Host
	}
	signin.WritePage(w, http.StatusOK, postTemplate, struct {
		Action string
		Fields []field
	}{action, fs}, "default-src 'none'; script-src "+scriptHash+"; form-action "+origin+"; frame-ancestors 'none'; base-uri 'none'")
}

// PostForm is the self-submitting form keyroll answers a SAML or
// WS-Federation sign-in with, as a browser finds it, for programs that
// sign in as a browser would (the rollover drill, tests).
type PostForm struct {
	Action string     // the ACS or reply URL
	Fields url.Values // SAMLResponse and RelayState, or wa, wresult and wctx
}

var (
	postFormRE   = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	postHiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// ErrNotPostForm: the page is not keyroll's self-submitting answer.
var ErrNotPostForm = errors.New("not a keyroll sign-in answer page")

// ParsePostForm reads the page that posts a sign-in answer.
func ParsePostForm(page []byte) (*PostForm, error) {
	m := postFormRE.FindSubmatch(page)
	if m == nil {
		return nil, ErrNotPostForm
	}
	f := &PostForm{Action: html.UnescapeString(string(m[1])), Fields: url.Values{}}
	for _, h := range postHiddenRE.FindAllSubmatch(page, -1) {
		f.Fields.Add(html.UnescapeString(string(h[1])), html.UnescapeString(string(h[2])))
	}
	if !f.Fields.Has("SAMLResponse") && !f.Fields.Has("wresult") {
		return nil, ErrNotPostForm
	}
	return f, nil
}
