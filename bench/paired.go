package bench

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

// Metrics Paired reports: the implementation's time over the floor's, and
// the CPU time per verification of each side.
const (
	XFloorMetric   = "x-floor"
	CPUMetric      = "cpu-ns/op"
	FloorCPUMetric = "floor-cpu-ns/op"
)

// PairBlock is how many verifications [Suite.Paired] runs between two clock readings.
const PairBlock = 16

// Paired returns a benchmark that alternates blocks of verifications by
// impl with as many floor checks, and reports their time ratio as
// XFloorMetric. Time is the CPU time of the goroutine's locked OS thread
// (Linux; elsewhere the wall clock), so what other processes take from a
// shared machine is not counted, and both sides see the same caches and
// frequency. In parallel mode every goroutine alternates. It returns nil
// when impl does not support alg.
func (s *Suite) Paired(alg, mode, impl string) func(*testing.B) {
	p, floor := s.ready[alg][impl], s.ready[alg][Floor]
	if p == nil || floor == nil {
		return nil
	}
	tok := s.fixtures[alg].Token
	verify, check := p.Bind(tok), floor.Bind(tok)
	var mu sync.Mutex
	var total [2]time.Duration
	var ops int
	loop := func(b *testing.B, next func() bool) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		n := 0
		d, ok := pairLoop(verify, check, func() bool { n++; return next() })
		if !ok {
			b.Error("a verification failed")
		}
		mu.Lock()
		total[0], total[1], ops = total[0]+d[0], total[1]+d[1], ops+n-1
		mu.Unlock()
	}
	return func(b *testing.B) {
		total, ops = [2]time.Duration{}, 0
		if mode == "parallel" {
			b.RunParallel(func(pb *testing.PB) { loop(b, pb.Next) })
		} else {
			loop(b, b.Loop)
		}
		if total[1] > 0 && ops > 0 {
			b.ReportMetric(float64(total[0])/float64(total[1]), XFloorMetric)
			b.ReportMetric(float64(total[0])/float64(ops), CPUMetric)
			b.ReportMetric(float64(total[1])/float64(ops), FloorCPUMetric)
		}
	}
}

// pairLoop runs blocks of verify and as many check calls until next says
// stop, and returns the time each side took.
func pairLoop(verify, check Verify, next func() bool) (d [2]time.Duration, ok bool) {
	for more := true; more; {
		n := 0
		t0 := threadCPU()
		for n < PairBlock {
			if more = next(); !more {
				break
			}
			if verify() != nil {
				return d, false
			}
			n++
		}
		t1 := threadCPU()
		for range n {
			if check() != nil {
				return d, false
			}
		}
		t2 := threadCPU()
		d[0], d[1] = d[0]+t1-t0, d[1]+t2-t1
	}
	return d, true
}
