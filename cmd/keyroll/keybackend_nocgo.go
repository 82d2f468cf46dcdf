//go:build !cgo

package main

import (
	"errors"

	"github.com/keyroll/keyroll/keys"
)

// openHSM: PKCS #11 modules are C libraries, so this build cannot load one.
func openHSM(*backendConfig, func(string) string) (keys.Backend, func() error, error) {
	return nil, nil, errors.New("--key-backend pkcs11: this keyroll was built without cgo (CGO_ENABLED=0) and cannot load a PKCS #11 module")
}
