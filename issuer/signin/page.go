package signin

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/keyroll/keyroll/issuer/throttle"
)

// loginStyle is the sign-in page's only styling; the page needs no script.
const loginStyle = `body{font:1rem/1.5 system-ui,sans-serif;margin:0;background:#f4f4f4;color:#111}
main{max-width:24rem;margin:3rem auto;padding:1.5rem 2rem;background:#fff;border:1px solid #bbb;border-radius:.5rem}
label{font-weight:600}input{width:100%;box-sizing:border-box;font:inherit;padding:.5rem;border:1px solid #555;border-radius:.25rem}
input:focus,button:focus{outline:3px solid #1a5fb4;outline-offset:2px}
button{font:inherit;padding:.5rem 1.5rem;border:0;border-radius:.25rem;background:#1a5fb4;color:#fff;cursor:pointer}
.error{color:#a51d2d;font-weight:600}`

var loginTemplates = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in to {{.App}} – keyroll</title>
<style>` + loginStyle + `</style>
</head>
<body>
<main>
<h1>Sign in to {{.App}}</h1>
<p>You will return to <strong>{{.Host}}</strong>. This is a keyroll test sign-in: use a test user made with <code>keyroll users create</code>.</p>
{{if .Error}}<p id="error" class="error" role="alert">{{.Error}}</p>
{{end}}<form method="post" action="{{.Action}}">
<input type="hidden" name="login_request" value="{{.Handle}}">
<p><label for="username">User name</label><br>
<input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required value="{{.Username}}"{{if .Error}} aria-invalid="true" aria-describedby="error"{{end}}></p>
<p><label for="password">Password</label><br>
<input id="password" name="password" type="password" autocomplete="current-password" required{{if .Error}} aria-invalid="true" aria-describedby="error"{{end}}></p>
<p><button type="submit">Sign in</button></p>
</form>
</main>
</body>
</html>
`))

var errorTemplate = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign-in stopped – keyroll</title>
<style>` + loginStyle + `</style>
</head>
<body>
<main>
<h1>Sign-in stopped</h1>
<p class="error" role="alert">{{.}}</p>
</main>
</body>
</html>
`))

// pageCSP allows the inline stylesheet by its hash and nothing else: no
// script, no framing.
var pageCSP = func() string {
	sum := sha256.Sum256([]byte(loginStyle))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; frame-ancestors 'none'; base-uri 'none'"
}()

// Page is what the sign-in page shows.
type Page struct {
	App, Host string
	Action    string // where the form posts, relative to the page's URL
	Handle    string // login_request: the sealed sign-in request
	Username  string
	Error     string
	// Wait is how long the next attempt must wait (throttling); the page
	// also says so in Error. Zero when it may come at once.
	Wait time.Duration
}

// FailureText is what the form says after a failed or throttled attempt.
// It is the same for an unknown user and a wrong password.
func FailureText(wait time.Duration, throttled bool) string {
	switch {
	case throttled:
		return "Too many failed sign-ins. Wait " + throttle.WaitText(wait) + ", then try again."
	case wait > 0:
		return "The user name or password is incorrect. Wait " + throttle.WaitText(wait) + " before the next try."
	}
	return "The user name or password is incorrect."
}

// FailureStatus is the HTTP status of the form after a failed attempt:
// 429 when the attempt was refused unchecked, 200 otherwise.
func FailureStatus(throttled bool) int {
	if throttled {
		return http.StatusTooManyRequests
	}
	return http.StatusOK
}

func writePage(w http.ResponseWriter, code int, t *template.Template, data any) {
	WritePage(w, code, t, data, pageCSP)
}

// WritePage answers with the page t renders from data, never cached, not
// framed, with the Content-Security-Policy csp.
func WritePage(w http.ResponseWriter, code int, t *template.Template, data any, csp string) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		http.Error(w, "page template failed", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

// ShowLogin answers with the sign-in form.
func ShowLogin(w http.ResponseWriter, code int, page Page) {
	if page.Wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((page.Wait+time.Second-1)/time.Second)))
	}
	writePage(w, code, loginTemplates, page)
}

// ShowError answers with a page that says why the sign-in stopped. msg is
// shown as it is (escaped): never put a secret in it.
func ShowError(w http.ResponseWriter, code int, msg string) {
	writePage(w, code, errorTemplate, msg)
}

// LoginForm is keyroll's sign-in form as a browser finds it, for programs
// that sign in as a test user (the rollover drill, tests).
type LoginForm struct {
	// Action is where the form posts, relative to the page's URL: resolve
	// it with the URL the page was fetched from.
	Action string
	// Fields are the hidden fields (login_request) to post back.
	Fields url.Values
	// Error is the message the page shows after a failed attempt, if any.
	Error string
}

var (
	formRE   = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	errorRE  = regexp.MustCompile(`<p id="error" class="error" role="alert">([^<]*)</p>`)
)

// ErrNotLoginPage: the page is not keyroll's sign-in form.
var ErrNotLoginPage = errors.New("not a keyroll sign-in page")

// ParseLoginForm reads keyroll's sign-in page. To sign in, post
// Values(user, password) as a form to Action, resolved against the page's
// URL, with the cookies the page set (a cookie jar does this): keyroll then
// answers 303 See Other to the application's redirect URI with code and
// state, or shows the form again with Error set.
func ParseLoginForm(page []byte) (*LoginForm, error) {
	m := formRE.FindSubmatch(page)
	if m == nil {
		return nil, ErrNotLoginPage
	}
	f := &LoginForm{Action: html.UnescapeString(string(m[1])), Fields: url.Values{}}
	for _, h := range hiddenRE.FindAllSubmatch(page, -1) {
		f.Fields.Add(html.UnescapeString(string(h[1])), html.UnescapeString(string(h[2])))
	}
	if !f.Fields.Has("login_request") {
		return nil, ErrNotLoginPage
	}
	if e := errorRE.FindSubmatch(page); e != nil {
		f.Error = html.UnescapeString(string(e[1]))
	}
	return f, nil
}

// Values returns the form's fields with the user name and password filled in.
func (f *LoginForm) Values(username, password string) url.Values {
	v := url.Values{}
	for k, vs := range f.Fields {
		v[k] = append([]string(nil), vs...)
	}
	v.Set("username", username)
	v.Set("password", password)
	return v
}
