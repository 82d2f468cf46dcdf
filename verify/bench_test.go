package verify

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/clock"
)

// The benchmarks verify a realistic token (the claims of an Entra ID
// access token, about 900 bytes) with cached keys and the wall clock.
// BenchmarkFloor* is the bare standard-library signature check on the same
// token (hash + verify, signature already decoded): the floor no verifier
// can beat. Compare with
//
//	go test -run '^$' -bench 'Verify|Floor' -benchmem -count 5 ./verify

func benchToken(b *testing.B, k testKey, opts ...Option) (*Verifier, string) {
	b.Helper()
	now := time.Now()
	c := stdClaims("https://login.microsoftonline.com/8b966979-910b-487c-a604-69229b1ac75c/v2.0", now)
	c["tid"], c["oid"], c["name"] = "8b966979-910b-487c-a604-69229b1ac75c", "00000000-0000-0000-66f3-3332eca7ea81", "Alice Example"
	c["scp"], c["ver"], c["azp"], c["uti"] = "User.Read Files.Read", "2.0", "6e74172b-be56-4843-9ff4-e66a39bb12e3", "AbCdEf123456"
	c["roles"] = []string{"Task.Read", "Task.Write"}
	base := []Option{WithAudience(testAudience), WithClock(clock.Real{}), WithRepeatCache(0)}
	v, err := New(entraTemplate, StaticBytes("bench", jwksOf(b, k.jwk())), append(base, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	tok := k.sign(b, c)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		b.Fatal(err)
	}
	return v, tok
}

func benchVerify(b *testing.B, k testKey, opts ...Option) {
	v, tok := benchToken(b, k, opts...)
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := v.Verify(ctx, tok); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// benchFloor runs check, the bare signature verification, serially and in parallel.
func benchFloor(b *testing.B, check func() bool) {
	if !check() {
		b.Fatal("floor check fails")
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !check() {
				b.Fatal("floor check fails")
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				check()
			}
		})
	})
}

// split returns a token's signing input and decoded signature.
func split(tok string) ([]byte, []byte) {
	i := strings.LastIndexByte(tok, '.')
	sig, _ := base64.RawURLEncoding.DecodeString(tok[i+1:])
	return []byte(tok[:i]), sig
}

// toDER converts a JWS r||s ECDSA signature to the ASN.1 form the
// standard library verifies (done once, outside the floor's timing).
func toDER(sig []byte) []byte {
	n := len(sig) / 2
	der, _ := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])})
	return der
}

func BenchmarkVerifyRS256(b *testing.B) { benchVerify(b, rsaKey(b, "bench-rsa")) }
func BenchmarkVerifyES256(b *testing.B) { benchVerify(b, ecKey(b, "bench-ec")) }
func BenchmarkVerifyEdDSA(b *testing.B) { benchVerify(b, edKey(b, "bench-ed")) }

// BenchmarkVerifyRepeatRS256 verifies a token seen before, answered by the
// repeat-token cache (the other Verify benchmarks disable it).
func BenchmarkVerifyRepeatRS256(b *testing.B) {
	benchVerify(b, rsaKey(b, "bench-rsa"), WithRepeatCache(DefaultRepeatCacheSize))
}

func BenchmarkFloorRS256(b *testing.B) {
	k := rsaKey(b, "bench-rsa")
	_, tok := benchToken(b, k)
	in, sig := split(tok)
	pub := k.signer.Public().(*rsa.PublicKey)
	benchFloor(b, func() bool {
		h := sha256.Sum256(in)
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig) == nil
	})
}

func BenchmarkFloorES256(b *testing.B) {
	k := ecKey(b, "bench-ec")
	_, tok := benchToken(b, k)
	in, sig := split(tok)
	der := toDER(sig)
	pub := k.signer.Public().(*ecdsa.PublicKey)
	benchFloor(b, func() bool {
		h := sha256.Sum256(in)
		return ecdsa.VerifyASN1(pub, h[:], der)
	})
}

func BenchmarkFloorEdDSA(b *testing.B) {
	k := edKey(b, "bench-ed")
	_, tok := benchToken(b, k)
	in, sig := split(tok)
	pub := k.signer.Public().(ed25519.PublicKey)
	benchFloor(b, func() bool { return ed25519.Verify(pub, in, sig) })
}

// benchRatio interleaves Verify and the floor check op by op and reports
// their time ratio ("x-floor"): on a shared, loaded machine both suffer
// the same interference, so the ratio is steadier than two separate runs.
func benchRatio(b *testing.B, k testKey, prep func(sig []byte) []byte, floor func([]byte, []byte) bool) {
	v, tok := benchToken(b, k)
	in, sig := split(tok)
	if prep != nil {
		sig = prep(sig)
	}
	ctx := context.Background()
	var dv, df time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if !floor(in, sig) {
			b.Fatal("floor check fails")
		}
		dv, df = dv+t1.Sub(t0), df+time.Since(t1)
	}
	b.ReportMetric(float64(dv)/float64(df), "x-floor")
}

func BenchmarkRatioRS256(b *testing.B) {
	k := rsaKey(b, "bench-rsa")
	pub := k.signer.Public().(*rsa.PublicKey)
	benchRatio(b, k, nil, func(in, sig []byte) bool {
		h := sha256.Sum256(in)
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig) == nil
	})
}

func BenchmarkRatioES256(b *testing.B) {
	k := ecKey(b, "bench-ec")
	pub := k.signer.Public().(*ecdsa.PublicKey)
	benchRatio(b, k, toDER, func(in, der []byte) bool {
		h := sha256.Sum256(in)
		return ecdsa.VerifyASN1(pub, h[:], der)
	})
}

func BenchmarkRatioEdDSA(b *testing.B) {
	k := edKey(b, "bench-ed")
	pub := k.signer.Public().(ed25519.PublicKey)
	benchRatio(b, k, nil, func(in, sig []byte) bool { return ed25519.Verify(pub, in, sig) })
}

// BenchmarkScanClaims is the claims scanner alone on the benchmark payload.
func BenchmarkScanClaims(b *testing.B) {
	_, tok := benchToken(b, edKey(b, "bench-ed"))
	p, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	s := string(p)
	b.ReportAllocs()
	var c Claims
	for b.Loop() {
		c = Claims{}
		if err := scanClaims(s, &c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyFirstSightRS256 verifies tokens the repeat-token cache has
// never seen: a cycle of distinct tokens longer than the cache, so every
// call hashes, verifies in full, inserts and evicts.
func BenchmarkVerifyFirstSightRS256(b *testing.B) {
	k := rsaKey(b, "bench-rsa")
	v, _ := benchToken(b, k, WithRepeatCache(8))
	toks := make([]string, 32)
	for i := range toks {
		c := stdClaims("https://login.microsoftonline.com/8b966979-910b-487c-a604-69229b1ac75c/v2.0", time.Now())
		c["tid"], c["jti"] = "8b966979-910b-487c-a604-69229b1ac75c", fmt.Sprint("first-sight-", i)
		toks[i] = k.sign(b, c)
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i = (i + 1) % len(toks)
		if _, err := v.Verify(ctx, toks[i]); err != nil {
			b.Fatal(err)
		}
	}
}
