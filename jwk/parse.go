package jwk

import (
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/keyroll/keyroll/jws"
)

// MaxSetSize is the largest JWKS document, in bytes, that ParseSet and
// ParseKey read: 1 MiB. Real key sets are a few kilobytes even with x5c
// chains; the limit bounds memory and parsing work for a document fetched
// from the network. Callers reading from a network should also stop reading
// after MaxSetSize+1 bytes.
const MaxSetSize = 1 << 20

// MaxSetKeys is the most keys a set may hold. Providers publish a handful;
// the limit keeps a 1 MiB set of tiny keys from costing a parse (and an
// error report) per key: such a set is refused as a whole.
const MaxSetKeys = 1000

// maxCerts bounds the x5c chain of one key.
const maxCerts = 10

// ParseSet parses a JWKS. A document that is not a JWKS at all (bad JSON, no
// "keys" array, too large) is an error. Individual keys that are malformed or
// of an unsupported kind are skipped, each reported in skipped as a
// [*KeyError] with its index, kid and reason; the others are kept in
// document order. A set whose keys were all skipped is not an error.
func ParseSet(data []byte) (keys []Key, skipped []error, err error) {
	raws, err := readSet(data)
	if err != nil {
		return nil, nil, err
	}
	index := make([]int, 0, len(raws))
	for i, raw := range raws {
		k, kerr := parseKey(raw)
		if kerr != nil {
			kerr.Index = i
			skipped = append(skipped, kerr)
			continue
		}
		keys = append(keys, k)
		index = append(index, i)
	}
	keys, dropped := dropConflicts(keys, index)
	return keys, append(skipped, dropped...), nil
}

// readSet returns the elements of the "keys" array.
func readSet(data []byte) ([]json.RawMessage, error) {
	if len(data) > MaxSetSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), MaxSetSize)
	}
	m, err := readObject(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotJWKS, err)
	}
	raw, ok := m["keys"]
	if !ok {
		return nil, fmt.Errorf(`%w: no "keys" member`, ErrNotJWKS)
	}
	var keys []json.RawMessage
	if raw[0] != '[' || json.Unmarshal(raw, &keys) != nil {
		return nil, fmt.Errorf(`%w: "keys" is not an array`, ErrNotJWKS)
	}
	if len(keys) > MaxSetKeys {
		return nil, fmt.Errorf(`%w: %d keys, limit %d`, ErrTooLarge, len(keys), MaxSetKeys)
	}
	return keys, nil
}

// ParseKey parses a single public JWK with the rules of [ParseSet]; a key
// ParseSet would skip is an error (a [*KeyError], Index -1).
func ParseKey(data []byte) (Key, error) {
	if len(data) > MaxSetSize {
		return Key{}, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), MaxSetSize)
	}
	k, err := parseKey(data)
	if err != nil {
		return Key{}, err
	}
	return k, nil
}

// privateMembers are the JWK members of private and secret keys (RFC 7518
// section 6).
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

func parseKey(data []byte) (Key, *KeyError) {
	m, err := readObject(data)
	if err != nil {
		if errors.Is(err, errDuplicate) {
			return Key{}, keyErr(ErrDuplicateMember, err.Error())
		}
		return Key{}, keyErr(ErrMalformed, err.Error())
	}
	kid, err := m.str("kid")
	if err != nil {
		return Key{}, keyErr(ErrMalformed, err.Error())
	}
	k, kerr := parseMembers(m)
	if kerr != nil {
		kerr.KID = kid
		return Key{}, kerr
	}
	k.KID = kid
	return k, nil
}

// parseMembers applies the key policy in order: what kind of key, what it is
// for, the key itself, its alg, its certificates.
func parseMembers(m members) (Key, *KeyError) {
	var k Key
	var err error
	if k.Kty, err = m.str("kty"); err != nil {
		return k, keyErr(ErrMalformed, err.Error())
	}
	if kerr := checkKind(m, k.Kty); kerr != nil {
		return k, kerr
	}
	if k.Use, err = m.str("use"); err != nil {
		return k, keyErr(ErrMalformed, err.Error())
	}
	if kerr := checkPurpose(m, k.Use); kerr != nil {
		return k, kerr
	}
	if k.Issuer, err = m.str("issuer"); err != nil {
		return k, keyErr(ErrMalformed, err.Error())
	}
	if k.Public, err = publicKey(m, k.Kty); err != nil {
		return k, asKeyErr(err)
	}
	if k.Alg, err = m.str("alg"); err != nil {
		return k, keyErr(ErrMalformed, err.Error())
	}
	if kerr := checkAlg(k); kerr != nil {
		return k, kerr
	}
	if kerr := readCerts(m, &k); kerr != nil {
		return k, kerr
	}
	return k, nil
}

// checkKind refuses symmetric, private and unknown keys.
func checkKind(m members, kty string) *KeyError {
	switch kty {
	case "":
		return keyErr(ErrMalformed, `no "kty"`)
	case "oct":
		return keyErr(ErrSymmetric, `kty "oct"`)
	case "RSA", "EC", "OKP":
	default:
		return keyErr(ErrUnsupported, "kty "+quoteShort(kty))
	}
	for _, name := range privateMembers {
		if _, ok := m[name]; ok {
			return keyErr(ErrPrivate, "member "+strconv.Quote(name))
		}
	}
	return nil
}

// checkPurpose refuses keys whose use or key_ops exclude verification.
func checkPurpose(m members, use string) *KeyError {
	if use != "" && use != "sig" {
		return keyErr(ErrNotForSigning, "use "+quoteShort(use))
	}
	ops, err := m.strings("key_ops")
	if err != nil {
		return keyErr(ErrMalformed, err.Error())
	}
	if ops == nil {
		return nil
	}
	verify := false
	seen := map[string]bool{}
	for _, op := range ops {
		if seen[op] {
			return keyErr(ErrMalformed, "key_ops repeats "+quoteShort(op))
		}
		seen[op] = true
		verify = verify || op == "verify"
	}
	if !verify {
		return keyErr(ErrNotForSigning, `key_ops does not include "verify"`)
	}
	return nil
}

// checkAlg checks a published alg against the key, or, without one, applies
// the key policy for the key's default alg (RSA size and exponent).
func checkAlg(k Key) *KeyError {
	alg := k.Alg
	if alg == "" {
		alg = DefaultAlg(k)
	}
	err := jws.CheckKey(alg, k.Public)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jws.ErrWeakKey):
		return keyErr(ErrWeakKey, detail(err))
	case errors.Is(err, jws.ErrKeyMismatch):
		return keyErr(ErrAlgMismatch, detail(err))
	}
	return keyErr(ErrUnsupportedAlg, "alg "+quoteShort(alg))
}

// detail returns the Detail of a jws error, or its text.
func detail(err error) string {
	var je *jws.Error
	if errors.As(err, &je) {
		return je.Detail
	}
	return err.Error()
}

// asKeyErr keeps a *KeyError and wraps anything else as malformed.
func asKeyErr(err error) *KeyError {
	var ke *KeyError
	if errors.As(err, &ke) {
		return ke
	}
	return keyErr(ErrMalformed, err.Error())
}

// dropConflicts removes every key whose kid is shared with a different key
// (same kid, different public key): which one a token means is ambiguous.
func dropConflicts(keys []Key, index []int) ([]Key, []error) {
	conflict := map[string]bool{}
	first := map[string]crypto.PublicKey{}
	for _, k := range keys {
		if k.KID == "" {
			continue
		}
		if pub, ok := first[k.KID]; !ok {
			first[k.KID] = k.Public
		} else if !equalKeys(pub, k.Public) {
			conflict[k.KID] = true
		}
	}
	if len(conflict) == 0 {
		return keys, nil
	}
	var kept []Key
	var dropped []error
	for i, k := range keys {
		if conflict[k.KID] {
			dropped = append(dropped, &KeyError{Index: index[i], KID: k.KID, Reason: ErrDuplicateKID})
			continue
		}
		kept = append(kept, k)
	}
	return kept, dropped
}

func equalKeys(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}
