package bench

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"runtime"
	"testing"
	"time"

	"github.com/keyroll/keyroll/keys"
	"github.com/keyroll/keyroll/keys/pkcs11"
	"github.com/keyroll/keyroll/keys/pkcs11/softhsmtest"
)

// BenchmarkHSMSign signs a JWS digest through SoftHSM2 (PKCS #11) and
// in process with a key of the same kind, and pairs the two on one thread's
// CPU time (note: SoftHSM's own work runs in this process, so it is
// counted):
//
//	go test -run '^$' -bench HSMSign
func BenchmarkHSMSign(b *testing.B) {
	now := time.Now().UTC()
	h := softhsmtest.New(b)
	tok, err := pkcs11.Open(pkcs11.Config{Module: h.Module, Token: h.Token("bench"), PIN: softhsmtest.PIN})
	if err != nil {
		b.Fatal(err)
	}
	defer tok.Close()
	digest := sha256.Sum256([]byte("header.payload"))
	for _, alg := range []string{"RS256", "ES256"} {
		spec := keys.Spec{Alg: alg}
		hsm, _, err := tok.Generate(spec, "https://issuer.test", now, now.AddDate(1, 0, 0))
		if err != nil {
			b.Fatal(err)
		}
		soft, err := keys.Generate(spec, "https://issuer.test", now, now.AddDate(1, 0, 0), nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range []struct {
			name   string
			signer crypto.Signer
		}{{"softhsm", hsm.Signer}, {"in-process", soft.Signer}} {
			b.Run(alg+"/"+c.name, func(b *testing.B) {
				for b.Loop() {
					if _, err := c.signer.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		sign := func(s crypto.Signer) func() error {
			return func() error { _, err := s.Sign(rand.Reader, digest[:], crypto.SHA256); return err }
		}
		b.Run(alg+"/softhsm/paired", func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			d, ok := pairLoop(sign(hsm.Signer), sign(soft.Signer), b.Loop)
			if !ok {
				b.Fatal("a signature failed")
			}
			if d[1] > 0 {
				b.ReportMetric(float64(d[0])/float64(d[1]), "x-in-process")
			}
		})
	}
}
