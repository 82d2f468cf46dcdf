package saml

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// threadCPU returns the CPU time of the calling OS thread
// (CLOCK_THREAD_CPUTIME_ID), so time a shared machine gives to other
// processes is not counted.
func threadCPU() time.Duration {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 3, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}

// BenchmarkBuildResponsePaired alternates one BuildResponse with as many raw
// RSA-2048 signatures as it makes (one, or two for "both") on the same
// locked thread and reports the ratio of their thread CPU times as x-floor:
// stable on a shared machine where ns/op is not.
//
//	go test -run '^$' -bench BuildResponsePaired -benchtime 400x ./saml
func BenchmarkBuildResponsePaired(b *testing.B) {
	s := testSigner(b, "rsa-idp")
	key := s.Key.(*rsa.PrivateKey)
	digest := sha256.Sum256([]byte("keyroll"))
	for _, c := range []struct {
		name              string
		signResp, signAss bool
		sigs              int
	}{{"response", true, false, 1}, {"assertion", false, true, 1}, {"both", true, true, 2}} {
		b.Run(c.name, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			r := testResponse()
			var build, floor time.Duration
			for b.Loop() {
				t0 := threadCPU()
				if _, err := BuildResponse(r, s, c.signResp, c.signAss); err != nil {
					b.Fatal(err)
				}
				t1 := threadCPU()
				for range c.sigs {
					if _, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:]); err != nil {
						b.Fatal(err)
					}
				}
				build, floor = build+t1-t0, floor+threadCPU()-t1
			}
			b.ReportMetric(float64(build)/float64(floor), "x-floor")
			b.ReportMetric(float64(build)/float64(b.N), "build-cpu-ns/op")
			b.ReportMetric(float64(floor)/float64(b.N), "floor-cpu-ns/op")
		})
	}
}
