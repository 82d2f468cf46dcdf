// Package drill is keyroll's rollover readiness drill: it finds out, before
// a rollover breaks production, whether an application handles one. It
// automates the manual procedure of seeds 000 and 004 — point the
// application at another signing key (UpdateThumbprint-RollForward,
// Update-MsIdApplicationSigningKeyThumbprint -KeyThumbprint), sign in with a
// fresh browser session, see whether it still works, restore the default —
// against a keyroll issuer, through its admin API ([Admin]).
//
// # Steps
//
// [Run] reads the application's current override, then for every published
// key — next, primary, retired; never a transient key of another drill — pins
// the application to that key and tests it once:
//
//   - API mode ([Config.API]): the issuer mints the application a token as
//     client_credentials would; the drill checks the token carries the
//     pinned key's kid and calls the URL with "Authorization: Bearer". 2xx is
//     accepted, 401 and 403 rejected (status, WWW-Authenticate and the first
//     200 bytes of the body are the evidence); any other status or a
//     network error leaves that test undecided. After the key tests the
//     drill makes two control calls ([Report.Controls]): the URL without a
//     token, and with the application's token (same claims) re-signed by a
//     throwaway key of the same algorithm family that the issuer never
//     published, under a random kid. An API that accepts either, or does
//     not clearly refuse it (401, 403), would accept any key too: the key
//     tests prove nothing.
//   - Web mode ([Config.Web]): a fresh browser session (its own cookie jar)
//     opens the URL and follows redirects itself, recording every hop,
//     through keyroll's sign-in form with a test user and back to the
//     application. Accepted means the session ends with 2xx on the URL
//     itself (same scheme, host and path; the query is ignored) and, with
//     [Config.Expect], that text on the page. The hand-off to the
//     application depends on its protocol ([Report.Protocol], from the
//     admin API): an OIDC application gets its authorization code in a
//     redirect; to a SAML service provider or WS-Federation relying party
//     the issuer answers with a page whose form posts the signed answer
//     (SAMLResponse and RelayState, or wa, wresult and wctx), which the
//     drill submits as a browser would, but only to one of the
//     application's registered ACS or reply URLs. Once handed off,
//     anything else — an error page, the sign-in form again, another page,
//     a redirect loop — is a rejection. Before that hand-off nothing about
//     the key has been tested, so a failure there (a SAML error status
//     from the issuer included) is undecided, except a refused password,
//     which stops the drill ([ErrSignIn]). Without [Config.User] the drill
//     creates a temporary test user and deletes it afterwards. The
//     password is only ever submitted to the issuer's sign-in endpoint for
//     the application's protocol, found from its discovery document
//     ([Config.Issuer]): the authorization_endpoint, or the SAML (/saml2)
//     or WS-Federation (/wsfed) endpoint under the issuer URL it names; a
//     look-alike form elsewhere gets nothing and leaves the test
//     undecided. SAML and WS-Federation applications have no API mode.
//
// With [Config.FreshKey] the drill then publishes a brand-new transient key,
// as an emergency rollover would, pins the application to it and tests it:
// an application that does not refresh its keys when a token names an
// unknown one rejects it.
//
// # Refresh throttles
//
// Correct applications throttle the key fetches they make for unknown
// kids (keyroll's verify library and keyroll guard to one per 10 s window,
// Microsoft's libraries to one per 5 minutes), so one that fetched for an
// unknown kid a moment ago refuses a key it has not seen yet until its
// window ends. A rejection that may be so is tested once more after
// [Config.RefreshWait] (5m10s by default, standing for the window), the
// application pinned to the key again; only a second rejection counts, and
// [Result.Earlier] holds the first attempt's evidence. That is so of the
// fresh key; of a key published less than RefreshWait before its test
// (keyroll keys rotate just before the drill); and of every key tested
// less than RefreshWait after an earlier drill of the same application
// ended (read from the drill history, [History]), whose fresh key or
// unpublished-key control may have spent the window. Within one drill the
// control calls come last so as to spend nothing before the key tests and
// the retries. One wait serves every retry. An application that really
// never refreshes rejects the key again: [NotReady].
//
// # Verdict
//
// Any rejection makes the application [NotReady] (exit code 1), even when
// other tests were undecided: one rejection is proof enough. The reason
// names each rejected key with its dates: a next key fails from its
// promotion date, the primary fails now, a retired key fails tokens signed
// before its retirement until it is unpublished, and a rejected fresh key
// means an emergency rollover would break sign-in at once. All accepted is
// [Ready] (0). Otherwise the drill could not decide: [Inconclusive] (some
// test undecided, or an API that did not refuse both control calls),
// [Interrupted] (the context was cancelled; a partial run
// is never a verdict, whatever it found) or [Failed] (it could not start, or
// the test user could not sign in, or it panicked: [ErrPanic]), all exit
// code 2.
//
// # Cleanup
//
// Whatever happens — success, failure, error, a panic, or cancellation of
// the context (Ctrl-C), even while waiting for the refresh throttle — Run
// puts back exactly the application's previous
// override (none, or the key it had, even one no longer published),
// withdraws its transient key (or, when the answer to its publication was
// lost, any transient key that appeared since the drill started) and
// deletes its temporary user, with a fresh
// context bounded by [Config.CleanupTimeout]. [Report.Cleanup] says what was
// restored and, if a step failed, what is left and the command that fixes
// it; a report with anything left has exit code 2.
package drill
