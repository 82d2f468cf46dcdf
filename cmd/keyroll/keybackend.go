package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/keyroll/keyroll/keys"
)

// backendConfig is where serve keeps private keys: "software" (sealed
// under the KEK, in the store) or "pkcs11" (generated and used in an HSM).
type backendConfig struct {
	kind, module, token string
}

// backendFlags defines --key-backend, --pkcs11-module and --pkcs11-token
// and returns the names applyEnv reads (KEYROLL_KEY_BACKEND, ...). The PIN
// is never a flag: KEYROLL_PKCS11_PIN or KEYROLL_PKCS11_PIN_FILE.
func backendFlags(fs *flag.FlagSet) (*backendConfig, []string) {
	b := &backendConfig{}
	fs.StringVar(&b.kind, "key-backend", "software", "where new private keys live: software (sealed under the KEK in the store) or pkcs11 (an HSM)")
	fs.StringVar(&b.module, "pkcs11-module", "", "PKCS #11 library of the HSM (--key-backend pkcs11)")
	fs.StringVar(&b.token, "pkcs11-token", "", "label of the HSM token (--key-backend pkcs11); PIN from KEYROLL_PKCS11_PIN or KEYROLL_PKCS11_PIN_FILE")
	return b, []string{"key-backend", "pkcs11-module", "pkcs11-token"}
}

// check validates the flags before anything is opened.
func (b *backendConfig) check(spec keys.Spec) error {
	switch b.kind {
	case "software":
		if b.module != "" || b.token != "" {
			return errors.New("--pkcs11-module and --pkcs11-token need --key-backend pkcs11")
		}
	case "pkcs11":
		if b.module == "" || b.token == "" {
			return errors.New("--key-backend pkcs11 needs --pkcs11-module PATH and --pkcs11-token LABEL")
		}
		if spec.Alg == "EdDSA" {
			return errors.New("--key-backend pkcs11 makes RS256, PS256 and ES256 keys, not EdDSA")
		}
	default:
		return fmt.Errorf("--key-backend %q: want software or pkcs11", b.kind)
	}
	return nil
}

// pkcs11PIN reads the PIN from KEYROLL_PKCS11_PIN, else from the file
// KEYROLL_PKCS11_PIN_FILE names (one trailing newline dropped). Errors
// name the variable or file, never the PIN.
func pkcs11PIN(getenv func(string) string) (string, error) {
	if pin := getenv("KEYROLL_PKCS11_PIN"); pin != "" {
		return pin, nil
	}
	path := getenv("KEYROLL_PKCS11_PIN_FILE")
	if path == "" {
		return "", errors.New("--key-backend pkcs11 needs the token's PIN in KEYROLL_PKCS11_PIN or KEYROLL_PKCS11_PIN_FILE")
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("KEYROLL_PKCS11_PIN_FILE: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return "", fmt.Errorf("KEYROLL_PKCS11_PIN_FILE %s: %w", path, err)
	}
	pin := strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
	if pin == "" {
		return "", fmt.Errorf("KEYROLL_PKCS11_PIN_FILE %s is empty", path)
	}
	return pin, nil
}

// optionalKEK loads the KEK for an issuer whose new keys live in an HSM:
// it needs one only for the software keys it made before. KEYROLL_KEK or
// KEYROLL_KEK_FILE must load if set; the default file beside the database
// is used if it exists and never created.
func optionalKEK(getenv func(string) string, defaultFile string) (*keys.Sealer, string, error) {
	if getenv("KEYROLL_KEK") == "" && getenv("KEYROLL_KEK_FILE") == "" {
		if defaultFile == "" {
			return nil, "", nil
		}
		if _, err := os.Stat(defaultFile); errors.Is(err, os.ErrNotExist) {
			return nil, "", nil
		}
	}
	kek, src, err := keys.LoadKEK(getenv, defaultFile, false)
	if err != nil {
		return nil, "", err
	}
	s, err := keys.NewSealer(kek)
	return s, src.From, err
}
