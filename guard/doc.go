// Package guard is the reverse proxy behind "keyroll guard": it puts
// keyroll's relying-party rollover logic ([verify]) in front of an
// application that cannot follow an issuer's key rollover itself.
//
// A request with a valid bearer token (RFC 6750 Authorization header,
// verified by a [verify.Verifier] with the issuer's keys from OpenID Connect
// discovery) is forwarded to the upstream unchanged (method, path, query,
// Host, headers including Authorization, body), plus X-Forwarded-For,
// -Host and -Proto and an X-Keyroll-Subject header carrying the token's sub
// (any incoming X-Keyroll-Subject is removed first, so a client cannot
// forge it; a sub with control characters is refused). Every
// other request is answered 401 with a WWW-Authenticate: Bearer challenge
// (400 invalid_request for a malformed Authorization header) and never
// reaches the upstream.
//
// A separate admin listener serves /metrics (Prometheus), /healthz (the
// process is up; reports the key cache) and /readyz (503 until the keys are
// loaded, and while they are stale).
//
// The guard is meant to run for months: servers and the upstream transport
// have timeouts, request headers are size-limited, the key cache is
// refreshed every [verify.DefaultRefreshInterval] (sooner if the issuer's
// max-age says so) and at once on an unknown kid, at most once per
// [verify.DefaultMinRefreshInterval] however many unknown kids arrive, and
// a persisted cache file lets a restarted guard verify tokens while the
// issuer is down.
package guard
