// Package peers holds tests that run real, unmodified third-party OAuth 2.0
// and OpenID Connect libraries against keyroll. It is its own module, so
// that those libraries stay out of keyroll's main go.mod:
//
//	cd peers && go test ./...
package peers
