package server

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"testing"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/issuer/issuertest"
	"github.com/keyroll/keyroll/keys"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

var start = issuertest.Start

func testKEK(t testing.TB) *keys.Sealer { return issuertest.KEK(t) }

func openSQLite(t testing.TB, dir string) store.Store { return issuertest.OpenSQLite(t, dir) }

func newManager(t testing.TB, st store.Store, sealer *keys.Sealer, clk clock.Clock, p lifecycle.Policy) *issuer.Manager {
	return issuertest.NewManager(t, "https://issuer.test", st, sealer, clk, p, "")
}

// pkce is the S256 code challenge of a verifier (RFC 7636 §4.2).
func pkce(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// x5t is the JWS x5t of k: base64url of its certificate's SHA-1.
func x5t(k lifecycle.Key) string {
	sum := sha1.Sum(k.Cert)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
