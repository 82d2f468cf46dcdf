package console

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/keyroll/keyroll/issuer/credential"
	"github.com/keyroll/keyroll/store"
)

// Session cookie names. Browsers accept a __Host- cookie only when it is
// Secure, so over plain http (loopback development) the console uses the
// plain name, limited to the console's path.
const (
	SecureCookieName = "__Host-keyroll_console"
	PlainCookieName  = "keyroll_console"
)

func cookieName(secure bool) string {
	if secure {
		return SecureCookieName
	}
	return PlainCookieName
}

// session is a signed-in administrator's request.
type session struct {
	admin string
	hash  []byte // SHA-256 of the token: the store's key
	csrf  string // the token every form of this session carries
}

func tokenHash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// csrfToken derives the session's CSRF token from the session token, so
// the store keeps nothing more and a copy of it forges no form.
func csrfToken(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("keyroll console csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (h *Handler) setCookie(w http.ResponseWriter, value string, maxAge int) {
	c := &http.Cookie{Name: h.cookie, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: h.secure}
	if !h.secure {
		c.Path = Path
	}
	http.SetCookie(w, c)
}

// errNoSession: the request carries no live session.
var errNoSession = errors.New("no live session")

// load returns the request's session, ending it (and saying so) when it
// is past its idle or absolute timeout. It records the request for the
// idle timeout, at most once a minute.
func (h *Handler) load(r *http.Request) (*session, string, error) {
	c, err := r.Cookie(h.cookie)
	if err != nil || len(c.Value) != 43 {
		return nil, "", errNoSession
	}
	hash := tokenHash(c.Value)
	st, err := h.m.Store().Session(r.Context(), hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "Your session has ended. Sign in again.", errNoSession
	}
	if err != nil {
		return nil, "", err
	}
	now := h.m.Now()
	if !now.Before(st.ExpiresAt) || now.Sub(st.LastSeen) >= h.opts.IdleTimeout {
		if err := h.m.Store().DeleteSession(r.Context(), hash); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, "", err
		}
		return nil, "Your session timed out. Sign in again.", errNoSession
	}
	if now.Sub(st.LastSeen) >= min(time.Minute, h.opts.IdleTimeout/10) {
		if err := h.m.Store().TouchSession(r.Context(), hash, now); err != nil {
			return nil, "", err
		}
	}
	return &session{admin: st.Admin, hash: hash, csrf: csrfToken(c.Value)}, "", nil
}

// pageFunc serves a signed-in administrator.
type pageFunc func(w http.ResponseWriter, r *http.Request, s *session)

// page serves GET pages to a signed-in administrator; anyone else goes
// to the sign-in page.
func (h *Handler) page(f pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, why, err := h.load(r)
		if errors.Is(err, errNoSession) {
			h.toSignIn(w, r, why)
			return
		}
		if err != nil {
			h.log.Error("console session", "err", err)
			h.fail(w, http.StatusInternalServerError, nil, "The session store cannot be read: "+err.Error())
			return
		}
		f(w, r, s)
	}
}

func (h *Handler) toSignIn(w http.ResponseWriter, r *http.Request, why string) {
	code := "signin"
	if why != "" {
		code = "ended"
	}
	http.Redirect(w, r, "/console/signin?m="+code, http.StatusSeeOther)
}

// post refuses a POST from another origin before f sees it.
func (h *Handler) post(f http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !h.sameOrigin(r) {
			h.log.Warn("console refused a cross-origin POST", "path", r.URL.Path, "origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
			h.fail(w, http.StatusForbidden, nil, "Refused: this request did not come from the console's own pages.")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		f(w, r)
	}
}

// action serves a state-changing POST: same origin, a live session, and
// the session's CSRF token; anything else is refused before f runs.
func (h *Handler) action(f pageFunc) http.HandlerFunc {
	return h.post(func(w http.ResponseWriter, r *http.Request) {
		s, _, err := h.load(r)
		if errors.Is(err, errNoSession) {
			h.fail(w, http.StatusUnauthorized, nil, "Refused: you are not signed in (or your session ended). Nothing was changed.")
			return
		}
		if err != nil {
			h.fail(w, http.StatusInternalServerError, nil, "The session store cannot be read: "+err.Error())
			return
		}
		if !hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(s.csrf)) {
			h.log.Warn("console refused a POST without the session's CSRF token", "path", r.URL.Path, "admin", s.admin)
			h.fail(w, http.StatusForbidden, s, "Refused: the form's security token is missing or stale. Nothing was changed; reload the page and try again.")
			return
		}
		f(w, r, s)
	})
}

// sameOrigin reports whether a POST comes from the console's own pages:
// Sec-Fetch-Site, when sent, is same-origin, and Origin, when sent, is the
// issuer's origin (or this host's under the issuer's scheme). Browsers
// send at least one of them on every POST; both missing means a program,
// which still needs the session cookie and the CSRF token.
func (h *Handler) sameOrigin(r *http.Request) bool {
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" {
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	scheme := "http"
	if h.secure {
		scheme = "https"
	}
	return o == h.origin || o == scheme+"://"+r.Host
}

// newSession signs admin in: a fresh token, its hash stored with the
// audit event, the cookie set.
func (h *Handler) newSession(w http.ResponseWriter, r *http.Request, admin string) error {
	token := credential.Random(32)
	now := h.m.Now()
	s := store.Session{Hash: tokenHash(token), Admin: admin, CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(h.opts.AbsoluteTimeout)}
	ev := notice(now, "console:"+admin, "signed in to the console from "+clientAddr(r))
	if err := h.m.Store().CreateSession(r.Context(), s, now, ev); err != nil {
		return err
	}
	h.setCookie(w, token, int(h.opts.AbsoluteTimeout/time.Second))
	return nil
}
