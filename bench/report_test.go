package bench

import (
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestTable(t *testing.T) {
	rows := []Row{
		{Alg: "RS256", Mode: "serial", Impl: Floor, NsPerOp: 50000, AllocsPerOp: 9, BytesPerOp: 1376, XFloor: 1},
		{Alg: "RS256", Mode: "serial", Impl: "keyroll", NsPerOp: 52000, AllocsPerOp: 13, BytesPerOp: 2880, XFloor: 1.04},
		{Alg: "RS256", Mode: "parallel", Impl: "keyroll", NsPerOp: 26000, AllocsPerOp: 13, BytesPerOp: 2880, XFloor: 1.04},
		{Alg: "EdDSA", Mode: "serial", Impl: "old-lib", Skipped: "no Ed25519 support"},
	}
	addSpeedups(rows)
	if rows[2].Speedup != 2 || rows[1].Speedup != 0 {
		t.Fatalf("speedups %v %v", rows[1].Speedup, rows[2].Speedup)
	}
	var b strings.Builder
	if err := WriteTable(&b, rows); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"NS/OP", "ALLOCS/OP", "X FLOOR", "52000", "1.040", "2.00x", "skipped: no Ed25519 support"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestPairLoopAlternates(t *testing.T) {
	var a, b, n int
	d, ok := pairLoop(func() error { a++; return nil }, func() error { b++; return nil },
		func() bool { n++; return n <= 40 })
	if !ok || a != 40 || b != 40 || d[0] < 0 || d[1] < 0 {
		t.Fatalf("ok %v, %d verifications, %d floor checks, times %v", ok, a, b, d)
	}
	_, ok = pairLoop(func() error { return errFloor }, func() error { return nil }, func() bool { return true })
	if ok {
		t.Fatal("a failing verification was not reported")
	}
}
