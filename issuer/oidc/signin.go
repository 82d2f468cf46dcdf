package oidc

import (
	"crypto/sha256"
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/issuer/credential"
	"github.com/keyroll/keyroll/issuer/signin"
	"github.com/keyroll/keyroll/store"
)

// finishSignIn checks a submitted sign-in form and, when the user name and
// password are right, answers at the application's redirect URI with a
// fresh authorization code. It sets no session: every sign-in asks again.
func (p *provider) finishSignIn(w http.ResponseWriter, r *http.Request, form url.Values) {
	ctx := r.Context()
	c, err := r.Cookie(signin.CookieName)
	if err != nil {
		signin.ShowError(w, http.StatusBadRequest, "This sign-in form was not opened in this browser, or cookies are off. Go back to the application and sign in again.")
		return
	}
	var req loginRequest
	switch err := p.signin.Open(ctx, "oidc", form.Get("login_request"), c.Value, &req); {
	case errors.Is(err, signin.ErrExpired):
		signin.ShowError(w, http.StatusBadRequest, "This sign-in form has expired. Go back to the application and sign in again.")
		return
	case err != nil:
		signin.ShowError(w, http.StatusBadRequest, "This sign-in form was not opened in this browser or was altered. Go back to the application and sign in again.")
		return
	}
	now := p.keys.Now()
	app, err := p.st.App(ctx, req.ClientID)
	if err != nil || !(slices.Contains(app.RedirectURIs, req.Redirect)) {
		signin.ShowError(w, http.StatusBadRequest, "The application changed or was removed while you were signing in. Go back to it and sign in again.")
		return
	}
	page := signin.Page{App: app.Name, Host: signin.HostOf(req.Redirect), Action: "authorize", Handle: form.Get("login_request"), Username: issuer.Clip(form.Get("username"))}
	user, ok, wait, throttled, err := p.signin.SignIn(ctx, signin.ClientAddr(r), form.Get("username"), form.Get("password"))
	switch {
	case err != nil:
		p.log.Error("sign-in", "err", err)
		signin.ShowError(w, http.StatusInternalServerError, "The sign-in service is unavailable; try again later.")
		return
	case !ok:
		page.Error, page.Wait = signin.FailureText(wait, throttled), wait
		signin.ShowLogin(w, signin.FailureStatus(throttled), page)
		return
	}
	code := credential.Random(codeBytes)
	sum := sha256.Sum256([]byte(code))
	err = p.st.PutCode(ctx, store.AuthCode{Hash: sum[:], ClientID: app.ClientID, RedirectURI: req.RedirectURI,
		Challenge: req.Challenge, Nonce: req.Nonce, Username: user.Username, Scope: req.Scope,
		AuthTime: now, ExpiresAt: now.Add(CodeLifetime)}, now)
	if err != nil {
		p.log.Error("store authorization code", "err", err)
		signin.ShowError(w, http.StatusInternalServerError, "The sign-in service is unavailable; try again later.")
		return
	}
	p.log.Info("user signed in", "user", user.Username, "app", app.Name)
	p.redirect(w, r, req.Redirect, req.State, url.Values{"code": {code}})
}
