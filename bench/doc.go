// Package bench compares keyroll's token verifier with the Go libraries
// relying parties use today, in one run, on the same tokens and keys:
//
//   - floor: the bare standard-library signature check (hash + verify,
//     signature already decoded), which no verifier can beat;
//   - keyroll: [verify.Verifier] with a warm key cache, verifying tokens it
//     has never seen (a cycle of distinct tokens longer than its
//     repeat-token cache, so every call hashes, checks, inserts and evicts);
//   - keyroll-repeat: the same verifier answering a token it verified
//     before from its repeat-token cache ([verify.WithRepeatCache]);
//   - keyfunc+jwt: github.com/MicahParks/keyfunc/v3 with
//     github.com/golang-jwt/jwt/v5;
//   - jwx: github.com/lestrrat-go/jwx/v3 with a jwk.Cache;
//   - go-oidc: github.com/coreos/go-oidc/v3 RemoteKeySet and IDTokenVerifier.
//
// SAML 2.0 response validation is compared too ([SAMLSuite]): keyroll's
// [verify.SAMLVerifier], github.com/crewjam/saml and
// github.com/russellhaering/gosaml2 on one signed response, against the raw
// RSA check of its SignedInfo.
//
// Every implementation fetches the same JWKS from an httptest server once,
// then verifies from its cache; before any timing, each must accept the
// token and reject tampered copies of it. RS256, ES256 and EdDSA, serially
// and in parallel. It is its own module so that the peers never become
// dependencies of keyroll.
//
// Run the table with
//
//	cd bench && go run ./cmd/report
//
// or single benchmarks with go test -run '^$' -bench . -benchmem.
//
// [verify.Verifier]: https://pkg.go.dev/github.com/keyroll/keyroll/verify#Verifier
package bench
