package keys

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KEKSize is the size of a key-encryption key: AES-256.
const KEKSize = 32

// ErrWrongKEK means a sealed value does not open under this KEK: the KEK is
// not the one the store was created with, or the stored bytes were altered.
var ErrWrongKEK = errors.New("the key-encryption key does not open this data (wrong KEK or altered data)")

// Sealer encrypts private keys with AES-256-GCM under a KEK. The additional
// data binds each sealed private key to its kid and certificate, so a sealed
// key moved to another row, or a row whose certificate was altered, fails to
// open.
type Sealer struct{ aead cipher.AEAD }

// NewSealer returns a Sealer for a 32-byte KEK.
func NewSealer(kek []byte) (*Sealer, error) {
	if len(kek) != KEKSize {
		return nil, fmt.Errorf("key-encryption key must be %d bytes, got %d", KEKSize, len(kek))
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plaintext bound to aad. The output is nonce || ciphertext.
func (s *Sealer) Seal(plaintext, aad []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic("keys: no randomness: " + err.Error()) // crypto/rand never fails on supported platforms
	}
	return s.aead.Seal(nonce, nonce, plaintext, aad)
}

// Open decrypts what Seal produced for the same aad.
func (s *Sealer) Open(sealed, aad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, ErrWrongKEK
	}
	out, err := s.aead.Open(nil, sealed[:n], sealed[n:], aad)
	if err != nil {
		return nil, ErrWrongKEK
	}
	return out, nil
}

func keyAAD(kid string, certDER []byte) []byte {
	sum := sha256.Sum256(certDER)
	return append([]byte("keyroll private key\x00"+kid+"\x00"), sum[:]...)
}

// SealPrivate encrypts a private key (as PKCS #8) for storage under kid.
func (s *Sealer) SealPrivate(kid string, certDER []byte, key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("seal private key %s: %w", kid, err)
	}
	return s.Seal(der, keyAAD(kid, certDER)), nil
}

// OpenPrivate decrypts a sealed private key and checks that it belongs to
// the certificate.
func (s *Sealer) OpenPrivate(kid string, certDER, sealed []byte) (crypto.Signer, *x509.Certificate, error) {
	der, err := s.Open(sealed, keyAAD(kid, certDER))
	if err != nil {
		return nil, nil, fmt.Errorf("private key %s: %w", kid, err)
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, nil, fmt.Errorf("private key %s does not parse: %w", kid, err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, nil, fmt.Errorf("private key %s is not a signing key", kid)
	}
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate of key %s does not parse: %w", kid, err)
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if eq, ok := signer.Public().(equaler); !ok || !eq.Equal(cert.PublicKey) {
		return nil, nil, fmt.Errorf("private key %s does not match its certificate", kid)
	}
	return signer, cert, nil
}

// kekCheckPlain is sealed under the KEK when a store is created; opening it
// at start-up proves the KEK is the right one before anything is written.
var kekCheckPlain = []byte("keyroll key-encryption key check v1")

// CheckValue returns a fresh sealed check value for a new store.
func (s *Sealer) CheckValue() []byte { return s.Seal(kekCheckPlain, []byte("kek-check")) }

// Verify reports ErrWrongKEK unless check was made by CheckValue under this KEK.
func (s *Sealer) Verify(check []byte) error {
	got, err := s.Open(check, []byte("kek-check"))
	if err != nil || !bytes.Equal(got, kekCheckPlain) {
		return ErrWrongKEK
	}
	return nil
}

// ParseKEK decodes a KEK written as 64 hex digits or as base64 (standard or
// URL alphabet) of 32 bytes; surrounding white space is ignored.
func ParseKEK(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == KEKSize {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == KEKSize {
			return b, nil
		}
	}
	return nil, fmt.Errorf("key-encryption key must be %d bytes as 64 hex digits or base64", KEKSize)
}

// KEKSource says where LoadKEK found the key, for the start-up message.
type KEKSource struct {
	From    string // "KEYROLL_KEK", "file /path" ...
	Created bool   // a new KEK file was created
}

// LoadKEK finds the KEK: KEYROLL_KEK (the key itself), else KEYROLL_KEK_FILE,
// else defaultFile. Only defaultFile is created when missing (mode 0600,
// never overwritten); create says whether that is allowed.
func LoadKEK(getenv func(string) string, defaultFile string, create bool) ([]byte, KEKSource, error) {
	if v := getenv("KEYROLL_KEK"); v != "" {
		kek, err := ParseKEK(v)
		if err != nil {
			return nil, KEKSource{}, fmt.Errorf("KEYROLL_KEK: %w", err)
		}
		return kek, KEKSource{From: "KEYROLL_KEK"}, nil
	}
	path, explicit := getenv("KEYROLL_KEK_FILE"), true
	if path == "" {
		path, explicit = defaultFile, false
	}
	if path == "" {
		return nil, KEKSource{}, errors.New("no key-encryption key: set KEYROLL_KEK or KEYROLL_KEK_FILE")
	}
	data, err := os.ReadFile(path)
	if err == nil {
		kek, err := ParseKEK(string(data))
		if err != nil {
			return nil, KEKSource{}, fmt.Errorf("KEK file %s: %w", path, err)
		}
		return kek, KEKSource{From: "file " + path}, nil
	}
	if !errors.Is(err, os.ErrNotExist) || explicit || !create {
		return nil, KEKSource{}, fmt.Errorf("read KEK file: %w", err)
	}
	kek := make([]byte, KEKSize)
	if _, err := rand.Read(kek); err != nil {
		return nil, KEKSource{}, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, KEKSource{}, fmt.Errorf("create KEK file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, KEKSource{}, fmt.Errorf("create KEK file: %w", err)
	}
	_, werr := f.WriteString(hex.EncodeToString(kek) + "\n")
	serr := f.Sync()
	if cerr := f.Close(); werr == nil {
		werr = errors.Join(serr, cerr)
	}
	if werr != nil {
		os.Remove(path)
		return nil, KEKSource{}, fmt.Errorf("write KEK file: %w", werr)
	}
	return kek, KEKSource{From: "file " + path, Created: true}, nil
}
