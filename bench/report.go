package bench

import (
	"fmt"
	"io"
	"slices"
	"testing"
	"text/tabwriter"
)

// Row is the result of one algorithm × mode × implementation.
type Row struct {
	Alg, Mode, Impl string
	NsPerOp         float64 // wall-clock, the best of the rounds
	AllocsPerOp     int64
	BytesPerOp      int64
	XFloor          float64 // median over the rounds of the paired ratio to the floor (see Paired)
	Speedup         float64 // parallel rows: serial ns/op ÷ parallel ns/op; 0 otherwise
	Skipped         string  // why the implementation was not run
}

// Progress is told about each benchmark the report runs.
type Progress func(name string, r testing.BenchmarkResult)

// Run benchmarks every algorithm × mode × implementation of s with
// testing.Benchmark, rounds times: in each round, every implementation of
// one algorithm and mode on its own (wall-clock ns/op, allocations), then
// every implementation paired with the floor (the ratio).
func (s *Suite) Run(rounds int, progress Progress) []Row {
	var rows []Row
	for _, alg := range s.Algs {
		for _, mode := range Modes {
			rows = append(rows, s.runGroup(alg, mode, rounds, progress)...)
		}
	}
	addSpeedups(rows)
	return rows
}

func (s *Suite) runGroup(alg, mode string, rounds int, progress Progress) []Row {
	plain := map[string][]testing.BenchmarkResult{}
	ratios := map[string][]float64{}
	bench := func(name string, fn func(*testing.B)) testing.BenchmarkResult {
		r := testing.Benchmark(fn)
		if progress != nil {
			progress(alg+"/"+mode+"/"+name, r)
		}
		return r
	}
	for range rounds {
		for _, im := range s.Impls {
			if fn := s.Benchmark(alg, mode, im.Name); fn != nil {
				plain[im.Name] = append(plain[im.Name], bench(im.Name, fn))
			}
		}
		for _, im := range s.Impls {
			if fn := s.Paired(alg, mode, im.Name); fn != nil && im.Name != Floor {
				r := bench(im.Name+"/paired", fn)
				ratios[im.Name] = append(ratios[im.Name], r.Extra[XFloorMetric])
			}
		}
	}
	ratios[Floor] = []float64{1}
	var rows []Row
	for _, im := range s.Impls {
		row := Row{Alg: alg, Mode: mode, Impl: im.Name}
		rs := plain[im.Name]
		if len(rs) == 0 {
			row.Skipped = s.Skipped(alg, im.Name)
			rows = append(rows, row)
			continue
		}
		var ns []float64
		for _, r := range rs {
			ns = append(ns, nsPerOp(r))
		}
		row.NsPerOp, row.XFloor = slices.Min(ns), median(ratios[im.Name])
		row.AllocsPerOp, row.BytesPerOp = rs[0].AllocsPerOp(), rs[0].AllocedBytesPerOp()
		rows = append(rows, row)
	}
	return rows
}

func nsPerOp(r testing.BenchmarkResult) float64 {
	if r.N == 0 {
		return 0
	}
	return float64(r.T.Nanoseconds()) / float64(r.N)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	if n := len(xs); n%2 == 0 {
		return (xs[n/2-1] + xs[n/2]) / 2
	}
	return xs[len(xs)/2]
}

// addSpeedups fills Speedup for parallel rows from the serial row of the
// same algorithm and implementation.
func addSpeedups(rows []Row) {
	serial := map[[2]string]float64{}
	for _, r := range rows {
		if r.Mode == "serial" {
			serial[[2]string{r.Alg, r.Impl}] = r.NsPerOp
		}
	}
	for i, r := range rows {
		if s := serial[[2]string{r.Alg, r.Impl}]; r.Mode == "parallel" && s > 0 && r.NsPerOp > 0 {
			rows[i].Speedup = s / r.NsPerOp
		}
	}
}

// WriteTable prints rows as an aligned table.
func WriteTable(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "ALG\tMODE\tIMPLEMENTATION\tNS/OP\tALLOCS/OP\tB/OP\tX FLOOR\tPAR. SPEEDUP\t")
	for _, r := range rows {
		if r.Skipped != "" {
			fmt.Fprintf(tw, "%s\t%s\t%s\tskipped: %s\t\t\t\t\t\n", r.Alg, r.Mode, r.Impl, r.Skipped)
			continue
		}
		speedup := ""
		if r.Speedup > 0 {
			speedup = fmt.Sprintf("%.2fx", r.Speedup)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.0f\t%d\t%d\t%.3f\t%s\t\n",
			r.Alg, r.Mode, r.Impl, r.NsPerOp, r.AllocsPerOp, r.BytesPerOp, r.XFloor, speedup)
	}
	return tw.Flush()
}
