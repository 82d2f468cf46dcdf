package issuer

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/keyroll/keyroll/store"
)

// finishSignIn checks a submitted sign-in form and, when the user name and
// password are right, answers at the application's redirect URI with a
// fresh authorization code. It sets no session: every sign-in asks again.
func (p *provider) finishSignIn(w http.ResponseWriter, r *http.Request, form url.Values) {
	ctx := r.Context()
	c, err := r.Cookie(signInCookieName)
	if err != nil {
		p.showError(w, http.StatusBadRequest, "This sign-in form was not opened in this browser, or cookies are off. Go back to the application and sign in again.")
		return
	}
	req, err := p.openRequest(ctx, form.Get("login_request"), c.Value)
	if err != nil {
		p.showError(w, http.StatusBadRequest, "This sign-in form was not opened in this browser or was altered. Go back to the application and sign in again.")
		return
	}
	now := p.m.Now()
	if now.Sub(time.Unix(req.Issued, 0)) > loginFormLifetime {
		p.showError(w, http.StatusBadRequest, "This sign-in form has expired. Go back to the application and sign in again.")
		return
	}
	app, err := p.st().App(ctx, req.ClientID)
	if err != nil || !(slices.Contains(app.RedirectURIs, req.Redirect)) {
		p.showError(w, http.StatusBadRequest, "The application changed or was removed while you were signing in. Go back to it and sign in again.")
		return
	}
	page := loginPage{App: app.Name, Host: hostOf(req.Redirect), Handle: form.Get("login_request"), Username: clip(form.Get("username"))}
	user, ok, err := p.checkUser(ctx, form.Get("username"), form.Get("password"))
	switch {
	case err != nil:
		p.log().Error("sign-in", "err", err)
		p.showError(w, http.StatusInternalServerError, "The sign-in service is unavailable; try again later.")
		return
	case !ok:
		page.Error = "The user name or password is incorrect."
		p.showLogin(w, http.StatusOK, page)
		return
	}
	code := randomString(codeBytes)
	sum := sha256.Sum256([]byte(code))
	err = p.st().PutCode(ctx, store.AuthCode{Hash: sum[:], ClientID: app.ClientID, RedirectURI: req.RedirectURI,
		Challenge: req.Challenge, Nonce: req.Nonce, Username: user.Username, Scope: req.Scope,
		AuthTime: now, ExpiresAt: now.Add(CodeLifetime)}, now)
	if err != nil {
		p.log().Error("store authorization code", "err", err)
		p.showError(w, http.StatusInternalServerError, "The sign-in service is unavailable; try again later.")
		return
	}
	p.log().Info("user signed in", "user", user.Username, "app", app.Name)
	p.redirect(w, r, req.Redirect, req.State, url.Values{"code": {code}})
}

// checkUser verifies a test user's password. An unknown user costs as much
// as a wrong password, so timing does not tell which user names exist; at
// most GOMAXPROCS hashes run at once.
func (p *provider) checkUser(ctx context.Context, username, password string) (store.User, bool, error) {
	if username == "" || password == "" || len(password) > 1024 || len(username) > 256 {
		return store.User{}, false, nil
	}
	select {
	case p.hashing <- struct{}{}:
		defer func() { <-p.hashing }()
	case <-ctx.Done():
		return store.User{}, false, ctx.Err()
	}
	u, err := p.st().User(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		verifyPassword(password, dummyHash())
		return store.User{}, false, nil
	}
	if err != nil {
		return store.User{}, false, err
	}
	ok, err := verifyPassword(password, u.PasswordHash)
	if err != nil {
		p.log().Error("stored password hash is unusable", "user", u.Username, "err", err)
		return store.User{}, false, nil
	}
	return u, ok, nil
}
