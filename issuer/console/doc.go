// Package console is keyroll's admin web console, served under /console/:
// server-rendered pages (html/template) for the keys and their timeline,
// the applications and the key that signs for each, the audit log and the
// rollover drill, and confirmed actions (rotate, urgent rotate, revoke,
// override an application, restore its default, run an API drill). It
// works with scripts off; it serves no script at all, and its
// Content-Security-Policy allows none.
//
// # Sign-in and sessions
//
// Console administrators (keyroll admins create) sign in with a password
// (argon2id). A session is an opaque random token in a cookie; the store
// keeps only its SHA-256 (store.ConsoleStore), so every replica honours
// it and a copy of the database signs no one in. The cookie is
// __Host-keyroll_console, HttpOnly, SameSite=Strict and Secure when the
// issuer URL is https; over plain http (loopback development) it is
// keyroll_console without Secure, since browsers refuse a __Host- cookie
// that is not Secure. Sessions end after an idle timeout and an absolute
// one, on sign-out, and when the administrator is deleted.
//
// # Forgery
//
// Every state-changing request is a POST that carries the session's CSRF
// token (an HMAC of the session token, so nothing more is stored),
// compared in constant time, and is refused when Origin names another
// origin or Sec-Fetch-Site is anything but same-origin. Sign-in attempts
// are throttled per account and per client address with growing delays.
// Every action is audited as console:NAME.
//
// # Extension points
//
// [Readiness] plugs fleet readiness verdicts into the Applications page
// and [DrillHistory] keeps finished drills (an in-memory list by default);
// both are optional [Options]. keyroll serve gives [IssuerReadiness], the
// verdicts of keyroll readiness, and [StoreHistory], the store's drill
// history, which every replica shows and where drills run from the
// console record themselves like command-line drills.
package console
