package verify

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keyroll/keyroll/jwk"
)

// family is the kind of public key an algorithm needs.
type family uint8

const (
	famNone family = iota
	famRSA
	famP256
	famP384
	famP521
	famEd25519
	numFamilies
)

var familyNames = [numFamilies]string{"none", "RSA", "EC P-256", "EC P-384", "EC P-521", "Ed25519"}

// algFamily maps a supported JWS algorithm to its key family.
func algFamily(alg string) (family, bool) {
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		return famRSA, true
	case "ES256":
		return famP256, true
	case "ES384":
		return famP384, true
	case "ES512":
		return famP521, true
	case "EdDSA":
		return famEd25519, true
	}
	return famNone, false
}

// keyEntry is one key of a snapshot with what verification needs precomputed.
type keyEntry struct {
	key      jwk.Key
	fam      family
	unusable error  // why this key verifies nothing; nil if usable
	x5t      string // base64url SHA-1 of the first certificate, or the key's x5t
	certB64  string // the first certificate in standard base64, as XML-DSig KeyInfo carries it
}

// KeySet is an immutable snapshot of one source's keys, safe for
// concurrent use. A Cache replaces its KeySet atomically; a KeySet never
// changes.
type KeySet struct {
	entries  []keyEntry
	byKID    map[string][]int32
	byX5T    map[string][]int32
	byS256   map[string][]int32
	byFamily [numFamilies][]int32
	usable   int
	skipped  []error

	issuer        string
	body          []byte
	fetched       time.Time
	validUntil    time.Time
	cacheDuration time.Duration
	deadline      int64 // unix nanos from which the set must not be used; 0: never
	digest        [32]byte
}

// newKeySet indexes decoded keys. It fails with ErrUnusableSet when no key
// can verify anything.
func newKeySet(d Decoded, body []byte, fetched time.Time) (*KeySet, error) {
	ks := &KeySet{
		entries:       make([]keyEntry, 0, len(d.Keys)),
		byKID:         make(map[string][]int32, len(d.Keys)),
		byX5T:         make(map[string][]int32),
		byS256:        make(map[string][]int32),
		skipped:       append([]error(nil), d.Skipped...),
		issuer:        d.Issuer,
		body:          body,
		fetched:       fetched,
		validUntil:    d.ValidUntil,
		cacheDuration: d.CacheDuration,
		digest:        sha256.Sum256(body),
	}
	for _, k := range d.Keys {
		ks.add(k)
	}
	if ks.usable == 0 {
		return nil, fmt.Errorf("%w (%d keys, %d skipped)", ErrUnusableSet, len(ks.entries), len(ks.skipped))
	}
	return ks, nil
}

func (ks *KeySet) add(k jwk.Key) {
	i := int32(len(ks.entries))
	e := keyEntry{key: k, x5t: k.X5T}
	e.fam, e.unusable = classify(k)
	if len(k.Certs) > 0 {
		sum := sha1.Sum(k.Certs[0].Raw)
		e.x5t = base64.RawURLEncoding.EncodeToString(sum[:])
		e.certB64 = base64.StdEncoding.EncodeToString(k.Certs[0].Raw)
		// A kid may also be the hex thumbprint (WIF-style configuration).
		if tp := strings.ToUpper(hex.EncodeToString(sum[:])); tp != k.KID {
			ks.byKID[tp] = append(ks.byKID[tp], i)
		}
	}
	ks.entries = append(ks.entries, e)
	if k.KID != "" {
		ks.byKID[k.KID] = append(ks.byKID[k.KID], i)
	}
	if e.x5t != "" {
		ks.byX5T[e.x5t] = append(ks.byX5T[e.x5t], i)
	}
	if s := s256(k); s != "" {
		ks.byS256[s] = append(ks.byS256[s], i)
	}
	if e.unusable != nil {
		ks.skipped = append(ks.skipped, fmt.Errorf("key %s: %w", clip(k.KID), e.unusable))
		return
	}
	ks.usable++
	ks.byFamily[e.fam] = append(ks.byFamily[e.fam], i)
}

func s256(k jwk.Key) string {
	if len(k.Certs) > 0 {
		sum := sha256.Sum256(k.Certs[0].Raw)
		return base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return k.X5TS256
}

// classify finds the key family and whether the key is usable for
// signature verification at all.
func classify(k jwk.Key) (family, error) {
	fam, err := keyFamily(k)
	if err != nil {
		return fam, err
	}
	if k.Use != "" && k.Use != "sig" {
		return fam, fmt.Errorf("use is %s, not sig", clip(k.Use))
	}
	if k.Alg != "" {
		if af, ok := algFamily(k.Alg); !ok || af != fam {
			return fam, fmt.Errorf("alg %s is unsupported or does not fit a %s key", clip(k.Alg), familyNames[fam])
		}
	}
	return fam, nil
}

func keyFamily(k jwk.Key) (family, error) {
	switch pub := k.Public.(type) {
	case *rsa.PublicKey:
		if n := pub.N.BitLen(); n < 2048 || n > 8192 {
			return famRSA, fmt.Errorf("RSA modulus of %d bits outside 2048..8192", n)
		}
		if pub.E < 3 || pub.E%2 == 0 {
			return famRSA, errors.New("RSA public exponent is not an odd number >= 3")
		}
		return famRSA, nil
	case *ecdsa.PublicKey:
		switch pub.Curve {
		case elliptic.P256():
			return famP256, nil
		case elliptic.P384():
			return famP384, nil
		case elliptic.P521():
			return famP521, nil
		}
		return famNone, fmt.Errorf("unsupported curve %s", pub.Curve.Params().Name)
	case ed25519.PublicKey:
		if len(pub) == ed25519.PublicKeySize {
			return famEd25519, nil
		}
	}
	return famNone, fmt.Errorf("unsupported public key type %T", k.Public)
}

// withFetched returns a copy confirmed by the source at t (an unchanged
// document), sharing the immutable indexes.
func (ks *KeySet) withFetched(t time.Time) *KeySet {
	c := *ks
	c.fetched = t
	return &c
}

// Keys returns every key of the set, usable or not, in document order.
func (ks *KeySet) Keys() []jwk.Key {
	out := make([]jwk.Key, len(ks.entries))
	for i := range ks.entries {
		out[i] = ks.entries[i].key
	}
	return out
}

// Usable returns how many keys can verify tokens.
func (ks *KeySet) Usable() int { return ks.usable }

// Skipped returns the keys left out of the document or unusable, and why.
func (ks *KeySet) Skipped() []error { return append([]error(nil), ks.skipped...) }

// Fetched returns when the source last delivered or confirmed this set.
func (ks *KeySet) Fetched() time.Time { return ks.fetched }

// ValidUntil returns the metadata validUntil, or the zero time.
func (ks *KeySet) ValidUntil() time.Time { return ks.validUntil }

// Issuer returns the issuer the document names: the metadata entityID or
// the discovery issuer; "" for a bare JWKS. A tool that was given only a
// metadata URL can use it as the expected iss.
func (ks *KeySet) Issuer() string { return ks.issuer }
