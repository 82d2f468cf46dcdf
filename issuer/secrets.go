package issuer

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// randomString returns n random bytes in base64url without padding.
func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// Sizes of the random values the issuer hands out.
const (
	clientIDBytes = 16 // client ids: 32 hex digits
	secretBytes   = 32 // client secrets: 256 bits
	codeBytes     = 32 // authorization codes
	jtiBytes      = 16 // token ids
)

func newClientID() string {
	b := make([]byte, clientIDBytes)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newClientSecret returns a fresh client secret and the SHA-256 the store
// keeps. A 256-bit random secret needs no slow hash: SHA-256 of it cannot
// be reversed by guessing.
func newClientSecret() (secret string, hash []byte) {
	secret = randomString(secretBytes)
	return secret, secretHash(secret)
}

func secretHash(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// secretMatches compares a presented client secret with a stored hash in
// constant time.
func secretMatches(presented string, hash []byte) bool {
	return len(hash) == sha256.Size && subtle.ConstantTimeCompare(secretHash(presented), hash) == 1
}

// Argon2id parameters for test-user passwords: OWASP's minimum (19 MiB,
// two passes, one lane). They are stored with each hash, so raising them
// later leaves old hashes verifiable.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonSaltLen = 16
	argonKeyLen  = 32
)

// Bounds on the parameters a stored hash may ask for, so a damaged or
// hostile row cannot make verification take gigabytes.
const (
	maxArgonMemory  = 256 * 1024 // KiB
	maxArgonTime    = 10
	maxArgonThreads = 8
)

var errBadPasswordHash = errors.New("password hash is not a valid argon2id hash")

// hashPassword returns the PHC-format argon2id hash of password:
// $argon2id$v=19$m=19456,t=2,p=1$SALT$HASH (base64, no padding).
func hashPassword(password string) string {
	salt := make([]byte, argonSaltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding.EncodeToString
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads, b64(salt), b64(key))
}

// argonHash is a parsed PHC argon2id string.
type argonHash struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

func parseArgonHash(s string) (argonHash, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return argonHash{}, errBadPasswordHash
	}
	var h argonHash
	var m, t, p uint64
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return argonHash{}, errBadPasswordHash
		}
		switch k {
		case "m":
			m = n
		case "t":
			t = n
		case "p":
			p = n
		default:
			return argonHash{}, errBadPasswordHash
		}
	}
	if m < 8*p || m > maxArgonMemory || t < 1 || t > maxArgonTime || p < 1 || p > maxArgonThreads {
		return argonHash{}, errBadPasswordHash
	}
	h.memory, h.time, h.threads = uint32(m), uint32(t), uint8(p)
	var err1, err2 error
	h.salt, err1 = base64.RawStdEncoding.DecodeString(parts[4])
	h.key, err2 = base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(h.salt) < 8 || len(h.salt) > 64 || len(h.key) < 16 || len(h.key) > 64 {
		return argonHash{}, errBadPasswordHash
	}
	return h, nil
}

// verifyPassword reports whether password matches the encoded hash,
// comparing in constant time.
func verifyPassword(password, encoded string) (bool, error) {
	h, err := parseArgonHash(encoded)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(password), h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1, nil
}

// dummyHash is verified against when a user does not exist, so that
// "no such user" takes as long as "wrong password".
var dummyHash = sync.OnceValue(func() string { return hashPassword(randomString(16)) })

// pkceS256 is the S256 code challenge of a verifier (RFC 7636 §4.2).
func pkceS256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// validVerifier reports whether v is a PKCE code verifier: 43 to 128
// unreserved characters (RFC 7636 §4.1).
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// validChallenge reports whether c can be an S256 code challenge: the
// base64url of 32 bytes.
func validChallenge(c string) bool {
	b, err := base64.RawURLEncoding.DecodeString(c)
	return err == nil && len(b) == sha256.Size
}

// pkceMatches checks a verifier against an S256 challenge in constant time.
func pkceMatches(verifier, challenge string) bool {
	return subtle.ConstantTimeCompare([]byte(pkceS256(verifier)), []byte(challenge)) == 1
}
