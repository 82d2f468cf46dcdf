//go:build cgo

package main

import (
	"github.com/keyroll/keyroll/keys"
	"github.com/keyroll/keyroll/keys/pkcs11"
)

// openHSM opens the PKCS #11 token of --key-backend pkcs11.
func openHSM(b *backendConfig, getenv func(string) string) (keys.Backend, func() error, error) {
	pin, err := pkcs11PIN(getenv)
	if err != nil {
		return nil, nil, err
	}
	tok, err := pkcs11.Open(pkcs11.Config{Module: b.module, Token: b.token, PIN: pin})
	if err != nil {
		return nil, nil, err
	}
	return tok, tok.Close, nil
}
