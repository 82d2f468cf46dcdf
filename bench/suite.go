package bench

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// Modes are how the benchmarks call Verify: from one goroutine, or from
// GOMAXPROCS goroutines at once (b.RunParallel).
var Modes = []string{"serial", "parallel"}

// Suite holds every fixture and every implementation set up for it.
type Suite struct {
	Algs     []string
	Impls    []Impl
	fixtures map[string]*Fixture
	ready    map[string]map[string]*Prepared // alg → impl → prepared
}

// NewSuite creates the fixtures for algs, sets every implementation up
// (one JWKS fetch each) and checks that each really verifies: it accepts
// the token, rejects every tampered copy, and fetched the key set exactly
// once. Implementations that do not support an algorithm are left out
// (see Skipped).
func NewSuite(ctx context.Context, algs []string) (*Suite, error) {
	s := &Suite{Algs: algs, Impls: Impls(), fixtures: map[string]*Fixture{}, ready: map[string]map[string]*Prepared{}}
	for _, alg := range algs {
		f, err := NewFixture(alg)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.fixtures[alg] = f
		s.ready[alg] = map[string]*Prepared{}
		for _, im := range s.Impls {
			if _, skip := im.Unsupported[alg]; skip {
				continue
			}
			p, err := setupChecked(ctx, im, f)
			if err != nil {
				s.Close()
				return nil, fmt.Errorf("%s %s: %w", im.Name, alg, err)
			}
			s.ready[alg][im.Name] = p
		}
	}
	return s, nil
}

func setupChecked(ctx context.Context, im Impl, f *Fixture) (*Prepared, error) {
	p, err := im.Setup(ctx, f)
	if err != nil {
		return nil, err
	}
	if err := check(p, f, im.Name); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// check makes p prove it verifies: it accepts the token twice (the second
// time from its cache) having fetched the key set once, and rejects every
// tampered copy. (Some peers fetch again on a bad signature.)
func check(p *Prepared, f *Fixture, name string) error {
	for range 2 {
		if err := p.Bind(f.Token)(); err != nil {
			return fmt.Errorf("rejects the valid token: %w", err)
		}
	}
	if n := f.Fetches(name); name != Floor && n != 1 {
		return fmt.Errorf("fetched the JWKS %d times to verify one token twice, want once", n)
	}
	for i, tok := range f.Tampered {
		if p.Bind(tok)() == nil {
			return fmt.Errorf("%w (#%d)", errAccepted, i)
		}
	}
	return nil
}

// Fetches returns how often impl has fetched alg's key set so far.
func (s *Suite) Fetches(alg, impl string) int { return s.fixtures[alg].Fetches(impl) }

// Skipped returns why impl is left out for alg, or "".
func (s *Suite) Skipped(alg, impl string) string {
	for _, im := range s.Impls {
		if im.Name == impl {
			return im.Unsupported[alg]
		}
	}
	return "unknown implementation"
}

// Benchmark returns the benchmark of impl verifying alg's token in mode,
// or nil when impl does not support alg.
func (s *Suite) Benchmark(alg, mode, impl string) func(*testing.B) {
	p := s.ready[alg][impl]
	if p == nil {
		return nil
	}
	verify := p.Bind(s.fixtures[alg].Token)
	if mode == "parallel" {
		return func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := verify(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
	}
	return func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := verify(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// Close stops every implementation's background work and the servers.
func (s *Suite) Close() {
	for _, m := range s.ready {
		for _, p := range m {
			p.Close()
		}
	}
	for _, f := range s.fixtures {
		f.Close()
	}
}

// ErrNoFloor: a result table lacks the floor to compare with.
var ErrNoFloor = errors.New("bench: no floor result")
