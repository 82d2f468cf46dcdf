package samlidp

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/issuer/signin"
	"github.com/keyroll/keyroll/store"
)

// form reads a posted form: bounded, each parameter at most once.
func (p *Provider) form(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		p.stop(w, http.StatusBadRequest, "The form does not parse (or is larger than 256 KiB).")
		return nil, false
	}
	for k, v := range r.PostForm {
		if len(v) > 1 {
			p.stop(w, http.StatusBadRequest, "The parameter "+issuer.Clip(k)+" is repeated.")
			return nil, false
		}
	}
	return r.PostForm, true
}

// showLogin seals pend and shows the sign-in page, which posts back to path.
func (p *Provider) showLogin(w http.ResponseWriter, r *http.Request, seal, path string, app store.Application, pend pending, username string) {
	cookie := signin.Cookie(r)
	handle, err := p.signin.Seal(r.Context(), seal, pend, cookie)
	if err != nil {
		p.log.Error("sign-in form", "err", err)
		p.stop(w, http.StatusInternalServerError, "The sign-in page is unavailable; try again later.")
		return
	}
	action := p.cookiePath(path)
	p.signin.SetCookie(w, action, cookie)
	signin.ShowLogin(w, http.StatusOK, signin.Page{App: app.Name, Host: signin.HostOf(pend.Answer), Action: action, Handle: handle, Username: issuer.Clip(username)})
}

// complete takes a submitted sign-in form: with the right password, the
// answer is posted to the application.
func (p *Provider) complete(w http.ResponseWriter, r *http.Request, seal string, form url.Values) {
	ctx := r.Context()
	c, err := r.Cookie(signin.CookieName)
	if err != nil {
		p.stop(w, http.StatusBadRequest, "This sign-in form was not opened in this browser, or cookies are off. Go back to the application and sign in again.")
		return
	}
	var pend pending
	switch err := p.signin.Open(ctx, seal, form.Get("login_request"), c.Value, &pend); {
	case errors.Is(err, signin.ErrExpired):
		p.stop(w, http.StatusBadRequest, "This sign-in form has expired. Go back to the application and sign in again.")
		return
	case err != nil:
		p.stop(w, http.StatusBadRequest, "This sign-in form was not opened in this browser or was altered. Go back to the application and sign in again.")
		return
	}
	app, err := p.st.App(ctx, pend.ClientID)
	want := map[string]store.Protocol{sealSAML: store.ProtocolSAML, sealWSFed: store.ProtocolWSFed}[seal]
	if err != nil || app.Proto() != want || !slices.Contains(app.RedirectURIs, pend.Answer) {
		p.stop(w, http.StatusBadRequest, "The application changed or was removed while you were signing in. Go back to it and sign in again.")
		return
	}
	user, ok, wait, throttled, err := p.signin.SignIn(ctx, signin.ClientAddr(r), form.Get("username"), form.Get("password"))
	switch {
	case err != nil:
		p.log.Error("sign-in", "err", err)
		p.stop(w, http.StatusInternalServerError, "The sign-in service is unavailable; try again later.")
		return
	case !ok:
		path := SSOPath
		if seal == sealWSFed {
			path = PassivePath
		}
		page := signin.Page{App: app.Name, Host: signin.HostOf(pend.Answer), Action: p.cookiePath(path), Handle: form.Get("login_request"),
			Username: issuer.Clip(form.Get("username")), Error: signin.FailureText(wait, throttled), Wait: wait}
		signin.ShowLogin(w, signin.FailureStatus(throttled), page)
		return
	}
	if seal == sealWSFed {
		p.answerWSFed(w, r, app, pend, user)
		return
	}
	p.answerSAML(w, r, app, pend, user)
}
