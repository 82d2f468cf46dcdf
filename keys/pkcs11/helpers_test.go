package pkcs11

import (
	"testing"

	"github.com/keyroll/keyroll/keys/pkcs11/softhsmtest"
)

// testToken initialises a SoftHSM2 token for an in-package test.
func testToken(t *testing.T) Config {
	t.Helper()
	h := softhsmtest.New(t)
	return Config{Module: h.Module, Token: h.Token("keyroll"), PIN: softhsmtest.PIN}
}
