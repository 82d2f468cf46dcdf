package console

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/keyroll/keyroll/issuer/credential"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// signInMessages are the sign-in page's notices, by the m parameter; a
// fixed list, so a link cannot put words on the page.
var signInMessages = map[string]string{
	"ended": "Your session has ended. Sign in again.",
	"out":   "You have signed out.",
}

type signInData struct {
	Name string
}

func (h *Handler) signInPage(w http.ResponseWriter, r *http.Request) {
	if _, _, err := h.load(r); err == nil {
		http.Redirect(w, r, "/console/keys", http.StatusSeeOther)
		return
	}
	h.render(w, http.StatusOK, "signin.html", view{Title: "Sign in", Notice: signInMessages[r.URL.Query().Get("m")], Data: signInData{}})
}

func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	password := r.PostFormValue("password")
	addr := clientAddr(r)
	keys := []string{"account:" + strings.ToLower(name), "address:" + addr}
	again := func(code int, msg string) {
		h.render(w, code, "signin.html", view{Title: "Sign in", Error: msg, Data: signInData{Name: name}})
	}
	if d := h.gate.wait(keys...); d > 0 {
		h.log.Warn("console sign-in throttled", "admin", name, "addr", addr, "wait", d)
		w.Header().Set("Retry-After", fmt.Sprint(int(d.Round(time.Second)/time.Second)+1))
		again(http.StatusTooManyRequests, fmt.Sprintf("Too many failed attempts. Try again in %s.", roundUp(d)))
		return
	}
	a, ok, err := h.checkPassword(r, name, password)
	if err != nil {
		h.log.Error("console sign-in", "err", err)
		again(http.StatusInternalServerError, "Sign-in is not possible now: the store cannot be read.")
		return
	}
	if !ok {
		h.gate.fail(keys, []int{freePerAccount, freePerAddress})
		h.log.Warn("console sign-in failed", "admin", name, "addr", addr)
		again(http.StatusUnauthorized, "Wrong name or password.")
		return
	}
	h.gate.reset(keys[0])
	if err := h.newSession(w, r, a.Name); err != nil {
		h.log.Error("console sign-in", "err", err)
		again(http.StatusInternalServerError, "Sign-in is not possible now: the session could not be stored.")
		return
	}
	h.log.Info("console sign-in", "admin", a.Name, "addr", addr)
	http.Redirect(w, r, "/console/keys", http.StatusSeeOther)
}

// checkPassword verifies an administrator's password. An unknown name
// costs as much as a wrong password; two hashes run at once at most.
func (h *Handler) checkPassword(r *http.Request, name, password string) (store.Admin, bool, error) {
	if name == "" || password == "" || len(name) > 256 || len(password) > 1024 {
		return store.Admin{}, false, nil
	}
	select {
	case h.hash <- struct{}{}:
		defer func() { <-h.hash }()
	case <-r.Context().Done():
		return store.Admin{}, false, r.Context().Err()
	}
	a, err := h.m.Store().Admin(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		credential.VerifyPassword(password, credential.DummyHash())
		return store.Admin{}, false, nil
	}
	if err != nil {
		return store.Admin{}, false, err
	}
	ok, err := credential.VerifyPassword(password, a.PasswordHash)
	if err != nil {
		h.log.Error("stored administrator password hash is unusable", "admin", a.Name, "err", err)
		return store.Admin{}, false, nil
	}
	return a, ok, nil
}

func (h *Handler) signOut(w http.ResponseWriter, r *http.Request, s *session) {
	err := h.m.Store().DeleteSession(r.Context(), s.hash, notice(h.m.Now(), h.actor(s), "signed out of the console"))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		h.fail(w, http.StatusInternalServerError, s, "Sign-out failed: "+err.Error())
		return
	}
	h.setCookie(w, "", -1)
	http.Redirect(w, r, "/console/signin?m=out", http.StatusSeeOther)
}

// notice is an audit event that names no key or application.
func notice(t time.Time, actor, reason string) lifecycle.Event {
	return lifecycle.Event{Time: t, Actor: actor, Reason: reason}
}

// clientAddr is the direct peer's IP address. Behind a reverse proxy that
// is the proxy: the throttle then counts the proxy as one address, and the
// per-account limit still holds.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func roundUp(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%d seconds", int((d+time.Second-1)/time.Second))
	}
	return fmt.Sprintf("%d minutes", int((d+time.Minute-1)/time.Minute))
}
