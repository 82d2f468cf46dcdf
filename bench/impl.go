package bench

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync/atomic"

	"github.com/keyroll/keyroll/verify"
)

// Verify is one prepared verification: the token is bound, so the timed
// loop measures only the implementation. It returns nil for a valid token.
type Verify func() error

// Prepared is an implementation set up for one fixture: its keys fetched
// once and cached.
type Prepared struct {
	// Bind returns the verification of tok.
	Bind func(tok string) Verify
	// Close releases background goroutines.
	Close func()
}

// Impl is one implementation under comparison.
type Impl struct {
	Name string
	// Unsupported maps an algorithm the implementation cannot verify to why.
	Unsupported map[string]string
	// Setup fetches f's JWKS from f.JWKSURL(Name) and returns the
	// implementation ready to verify from its cache.
	Setup func(ctx context.Context, f *Fixture) (*Prepared, error)
}

// Floor is the name of the bare signature check.
const Floor = "floor"

// KeyrollRepeat is keyroll verifying a token it verified before (its
// repeat-token cache answers); "keyroll" is keyroll verifying tokens it
// has never seen, with that cache on (every token is new to it).
const KeyrollRepeat = "keyroll-repeat"

// Impls returns every implementation, the floor first, then keyroll.
func Impls() []Impl {
	return []Impl{
		{Name: Floor, Setup: setupFloor},
		{Name: "keyroll", Setup: setupKeyrollFirstSight},
		{Name: KeyrollRepeat, Setup: setupKeyroll},
		{Name: "keyfunc+jwt", Setup: setupKeyfunc},
		{Name: "jwx", Setup: setupJWX},
		{Name: "go-oidc", Setup: setupOIDC},
	}
}

func setupKeyroll(ctx context.Context, f *Fixture) (*Prepared, error) {
	v, err := newKeyroll(ctx, f, f.JWKSURL(KeyrollRepeat))
	if err != nil {
		return nil, err
	}
	return &Prepared{
		Bind: func(tok string) Verify {
			return func() error {
				_, err := v.Verify(ctx, tok)
				return err
			}
		},
		Close: func() {},
	}, nil
}

// setupKeyrollFirstSight binds the fixture's Token to a cycle through its
// Distinct tokens, verified by a keyroll verifier whose repeat-token cache
// holds fewer of them than the cycle: each verification is a first sight
// (hash, full check, insertion and eviction). Any other token is verified
// as it is.
func setupKeyrollFirstSight(ctx context.Context, f *Fixture) (*Prepared, error) {
	v, err := newKeyroll(ctx, f, f.JWKSURL("keyroll"), verify.WithRepeatCache(FreshTokens/2))
	if err != nil {
		return nil, err
	}
	return &Prepared{
		Bind: func(tok string) Verify {
			if tok != f.Token {
				return func() error { _, err := v.Verify(ctx, tok); return err }
			}
			var i atomic.Uint64 // shared by parallel callers: the cycle stays one cycle
			return func() error {
				_, err := v.Verify(ctx, f.Distinct[i.Add(1)%uint64(len(f.Distinct))])
				return err
			}
		},
		Close: func() {},
	}, nil
}

func newKeyroll(ctx context.Context, f *Fixture, url string, opts ...verify.Option) (*verify.Verifier, error) {
	base := []verify.Option{verify.WithAudience(Audience), verify.WithAlgorithms(f.Alg)}
	v, err := verify.New(Issuer, verify.JWKSURL(url), append(base, opts...)...)
	if err != nil {
		return nil, err
	}
	if err := v.Cache().Refresh(ctx); err != nil {
		return nil, err
	}
	return v, nil
}

// setupFloor prepares the bare standard-library check: the signing input
// and the decoded signature (DER for ECDSA) are computed outside the
// timing; the timed part is the hash and the signature verification.
func setupFloor(_ context.Context, f *Fixture) (*Prepared, error) {
	return &Prepared{Bind: func(tok string) Verify { return floorCheck(f.Alg, f.Public, tok) }, Close: func() {}}, nil
}

var errFloor = errors.New("bench: signature does not verify")

func floorCheck(alg string, pub crypto.PublicKey, tok string) Verify {
	i := strings.LastIndexByte(tok, '.')
	in := []byte(tok[:i])
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil {
		return func() error { return err }
	}
	result := func(ok bool) error {
		if !ok {
			return errFloor
		}
		return nil
	}
	switch alg {
	case "RS256":
		k := pub.(*rsa.PublicKey)
		return func() error {
			h := sha256.Sum256(in)
			return rsa.VerifyPKCS1v15(k, crypto.SHA256, h[:], sig)
		}
	case "ES256":
		k := pub.(*ecdsa.PublicKey)
		der, _ := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])})
		return func() error {
			h := sha256.Sum256(in)
			return result(ecdsa.VerifyASN1(k, h[:], der))
		}
	case "EdDSA":
		k := pub.(ed25519.PublicKey)
		return func() error { return result(ed25519.Verify(k, in, sig)) }
	}
	return func() error { return fmt.Errorf("bench: floor has no %s", alg) }
}
