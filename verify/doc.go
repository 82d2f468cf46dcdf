// Package verify is keyroll's relying-party library: it keeps an issuer's
// token-signing keys cached across every rollover and verifies JWS compact
// tokens (JWTs) against them, the way seeds 001 and 004 ask every
// application to: take the keys from the issuer's discovery document or
// federation metadata, accept any key listed there in any order, check for
// updates every 24 hours, refresh at once (throttled) when a token names
// an unknown key, and keep working from a cache when the issuer is down.
//
// # Sources and caches
//
// A [Source] retrieves a key document: [Discovery] or [DiscoveryAt]
// (OpenID Connect discovery, then jwks_uri), [JWKSURL], [FederationMetadata]
// (WS-Federation/SAML metadata, optionally with a pinned signer),
// [StaticFile] and [StaticBytes]. A [Cache] holds the last good [KeySet] of
// one source behind an atomic pointer: verifying with a known key takes no
// lock, makes no call and never waits for a fetch.
//
// # Refresh policy
//
// Defaults, all configurable with [Option]s:
//
//   - a scheduled refresh every hour ([WithRefreshInterval]), started by
//     the next verification or by [Cache.Run];
//   - a token whose kid, x5t or x5t#S256 is unknown (or, without any, whose
//     signature no key verifies) triggers an immediate refresh, whatever
//     fetch ran before: fetches at start, on schedule or by [Cache.Refresh]
//     do not throttle it, so a key published a moment ago is accepted on
//     first sight. Only fetches for unknown keys are limited, to one per
//     10s window per source ([WithMinRefreshInterval]); concurrent misses
//     share that fetch, a throttled miss is rejected at once, and the
//     [UnknownKeyError] says whether the key was absent after a refresh,
//     the refresh was throttled (until when) or the source unreachable
//     (since when);
//   - ETag/If-None-Match and Last-Modified/If-Modified-Since, and
//     Cache-Control max-age (or the metadata cacheDuration) clamped between
//     the window and the scheduled interval;
//   - a 10s fetch timeout ([WithFetchTimeout]) that also bounds every
//     caller's wait, and a response size limit ([WithMaxResponseSize]);
//   - after a failure, retries after 10s, 20s, 40s, ... up to 1h.
//
// Microsoft's guidance (refresh every 24 hours, on an unknown key at most
// every 5 minutes) is [WithRefreshInterval]([MicrosoftRefreshInterval]) and
// [WithMinRefreshInterval]([MicrosoftMinRefreshInterval]); it refuses
// every token of a key that is published and used within 5 minutes of a
// fetch, which the defaults avoid.
//
// # Outage tolerance
//
// A refresh that fails (network error, timeout, HTTP error, garbage, an
// empty set, a set with no usable key, metadata past validUntil or with a
// bad signature) never replaces the key set being served. A set is usable
// when it parses and has at least one key that can verify some supported
// algorithm; a set that drops keys is accepted, since that is how
// revocation looks. With [WithCacheFile] or [WithCacheStore] every good
// document is persisted (atomically) and loaded at start, so a restarted
// process verifies while the issuer is unreachable. [WithMaxStale] makes
// verification fail closed with [ErrStale] once the keys were last
// confirmed too long ago; [Cache.Ready] and [Cache.Age] report it.
//
// # Verification
//
// [Verifier.Verify] accepts only algorithms on an explicit allow-list
// ([DefaultAlgorithms]: RS256, PS256, ES256, ES384, EdDSA; [WithAlgorithms]
// adds RS384, RS512 and others). The jws parser already refuses none,
// HMAC, embedded jwk/jku/x5u/x5c, crit, duplicate header members and
// over-long tokens. The key must be of alg's type, with the same alg and
// use "sig" when it names them; a key without alg (Entra ID) takes any
// allowed alg of its type. The signature is checked before the claims:
// iss exactly, or an Entra ID template with {tenantid} resolved from the
// token's tid; the key's own issuer member when present; aud (string or
// array) against [WithAudience]; exp (required), nbf and iat with a skew
// of one minute ([WithSkew]). Every rejection is a typed error:
// [*ExpiredError], [*NotYetValidError], [*AudienceError], [*IssuerError],
// or one of the Err sentinels, with the jws reason wrapped where there is
// one; [ResultOf] classifies them.
//
// # Repeated tokens
//
// A token verified before is answered from a bounded cache keyed by its
// SHA-256 ([WithRepeatCache]): its key must still be in the set and its
// times are checked again on every call.
//
// # SAML 2.0 and WS-Federation
//
// [NewSAML] validates SAML 2.0 Responses and WS-Federation tokens carrying
// a SAML 2.0 assertion with the certificates of the same [Cache], strictly
// against signature wrapping: exactly one assertion, no duplicate ID, a
// signature that references exactly its enveloping element, allow-listed
// algorithms, and every field read from the subtree the XML-DSig validator
// returns. [SAMLVerifier.ACS] is an assertion consumer service handler.
//
// # Several issuers
//
// Each [Verifier] has its own cache (or shares one with verifiers of the
// same issuer via [NewWithCache]); a [Registry] routes tokens by iss to
// the verifier of that issuer only, so one issuer's keys never verify
// another's tokens.
//
// # Observability and HTTP
//
// An [Observer] sees fetches, refresh outcomes and verification results;
// [Verifier.Count] keeps per-result counters. [Middleware] protects a
// net/http handler: bearer token in, [Claims] in the request context
// ([ClaimsFromContext]), 401 with an RFC 6750 WWW-Authenticate challenge out.
package verify
