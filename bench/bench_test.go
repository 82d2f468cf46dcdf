package bench

import (
	"context"
	"testing"
)

func newTestSuite(tb testing.TB) *Suite {
	tb.Helper()
	s, err := NewSuite(context.Background(), Algorithms)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

// TestEveryImplementationVerifies: each implementation fetched the JWKS
// once, accepts the token and rejects its tampered copies, for every
// algorithm (NewSuite checks it); and none accepts another algorithm's
// token (the keys differ).
func TestEveryImplementationVerifies(t *testing.T) {
	s := newTestSuite(t)
	for _, alg := range s.Algs {
		for _, im := range s.Impls {
			p := s.ready[alg][im.Name]
			if p == nil {
				t.Logf("%s does not support %s: %s", im.Name, alg, s.Skipped(alg, im.Name))
				continue
			}
			t.Logf("%s %s: %d JWKS fetches after the checks", alg, im.Name, s.Fetches(alg, im.Name))
			for _, other := range s.Algs {
				if other != alg && im.Name != Floor && p.Bind(s.fixtures[other].Token)() == nil {
					t.Errorf("%s with the %s key set accepts the %s token", im.Name, alg, other)
				}
			}
		}
	}
}

// BenchmarkVerify runs every algorithm × mode × implementation:
//
//	go test -run '^$' -bench Verify -benchmem
//
// cmd/report runs the same benchmarks and prints them as one table.
func BenchmarkVerify(b *testing.B) {
	s := newTestSuite(b)
	for _, alg := range s.Algs {
		for _, mode := range Modes {
			for _, im := range s.Impls {
				if fn := s.Benchmark(alg, mode, im.Name); fn != nil {
					b.Run(alg+"/"+mode+"/"+im.Name, fn)
				}
			}
		}
	}
}

// BenchmarkPaired alternates each implementation with the floor, in
// blocks, and reports the ratio of their thread CPU times (x-floor):
//
//	go test -run '^$' -bench Paired
func BenchmarkPaired(b *testing.B) {
	s := newTestSuite(b)
	for _, alg := range s.Algs {
		for _, mode := range Modes {
			for _, im := range s.Impls[1:] {
				if fn := s.Paired(alg, mode, im.Name); fn != nil {
					b.Run(alg+"/"+mode+"/"+im.Name, fn)
				}
			}
		}
	}
}

// TestSAMLImplementationsVerify: every SAML implementation accepts the
// signed response and refuses it tampered (NewSAMLSuite checks it).
func TestSAMLImplementationsVerify(t *testing.T) {
	s, err := NewSAMLSuite()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.ready) != len(s.Impls) {
		t.Fatalf("%d of %d implementations ready", len(s.ready), len(s.Impls))
	}
}

// BenchmarkSAML runs every SAML implementation on the same response:
//
//	go test -run '^$' -bench SAML -benchmem
func BenchmarkSAML(b *testing.B) {
	s, err := NewSAMLSuite()
	if err != nil {
		b.Fatal(err)
	}
	for _, im := range s.Impls {
		b.Run(im.Name, s.Benchmark(im.Name))
		if im.Name != Floor {
			b.Run(im.Name+"/paired", s.Paired(im.Name))
		}
	}
}
