// Package signin is the interactive sign-in every protocol of the issuer
// shares: the plain, script-free sign-in page, the sealed request that a
// protocol carries through it (bound by HMAC to a cookie of the browser
// that opened it, so a form copied into another browser is refused), and
// the test users' password check. It keeps no session: every sign-in asks
// for the password again.
package signin
