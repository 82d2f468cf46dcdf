// Command report runs keyroll's verifier and its peers on the same tokens
// and keys and prints one table: ns/op, allocs/op, B/op, the ratio to the
// bare standard-library signature check (the floor) and, for parallel
// runs, the speedup over serial, for RS256, ES256 and EdDSA.
//
//	cd bench && go run ./cmd/report [-rounds 3] [-benchtime 1s] [-alg RS256,ES256,EdDSA] [-saml=false]
//
// Each benchmark runs -rounds times, the implementations of one algorithm
// and mode back to back in each round; ns/op is the best round. The ratio
// to the floor comes from separate runs that alternate blocks of
// verifications with blocks of floor checks and compare the thread CPU
// time of each, so a busy machine skews it little; it is the median round.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/bench"
)

func main() {
	testing.Init()
	rounds := flag.Int("rounds", 3, "times each benchmark runs")
	benchtime := flag.Duration("benchtime", time.Second, "run time of each benchmark")
	algs := flag.String("alg", strings.Join(bench.Algorithms, ","), "comma-separated algorithms")
	quiet := flag.Bool("q", false, "do not report progress on stderr")
	flag.Parse()
	if err := run(*rounds, *benchtime, strings.Split(*algs, ","), *quiet); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func run(rounds int, benchtime time.Duration, algs []string, quiet bool) error {
	if rounds < 1 || benchtime <= 0 {
		return fmt.Errorf("-rounds and -benchtime must be positive")
	}
	if err := flag.Set("test.benchtime", benchtime.String()); err != nil {
		return err
	}
	s, err := bench.NewSuite(context.Background(), algs)
	if err != nil {
		return err
	}
	defer s.Close()
	progress := func(name string, r testing.BenchmarkResult) {
		if !quiet {
			fmt.Fprintf(os.Stderr, "%-32s %s %s\n", name, r.String(), r.MemString())
		}
	}
	start := time.Now()
	rows := s.Run(rounds, progress)
	fmt.Printf("keyroll verifier vs. peers: %s/%s, GOMAXPROCS=%d, %s, %d rounds of %s, %s\n\n",
		runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), runtime.Version(), rounds, benchtime,
		time.Since(start).Round(time.Second))
	if err := bench.WriteTable(os.Stdout, rows); err != nil {
		return err
	}
	fmt.Println("\nX FLOOR: time ÷ the floor's (hash + standard-library signature check, signature pre-decoded),")
	fmt.Printf("  measured in alternating blocks of %d ops with the floor, in %s, so that\n", bench.PairBlock, bench.PairClock)
	fmt.Println("  other processes on a shared machine do not skew it (median of the rounds).")
	fmt.Println("NS/OP: wall-clock, best of the rounds (a busy machine only adds time).")
	fmt.Println("PAR. SPEEDUP: serial ÷ parallel wall-clock ns/op (b.RunParallel, GOMAXPROCS goroutines); the")
	fmt.Println("  floor's shows what the machine allowed, as other processes take cores on a shared machine.")
	printFetches(s)
	if !*samlFlag {
		return nil
	}
	ss, err := bench.NewSAMLSuite()
	if err != nil {
		return err
	}
	fmt.Println("\nSAML 2.0 Response (assertion signed, RSA-SHA256), same response and certificate for each;")
	fmt.Println("floor: SHA-256 of the canonical SignedInfo + rsa.VerifyPKCS1v15. keyroll's replay cache is off")
	fmt.Println("(the same response is sent again and again; the peers keep none).")
	fmt.Println()
	return bench.WriteTable(os.Stdout, ss.Run(rounds, progress))
}

var samlFlag = flag.Bool("saml", true, "also compare SAML response validation (keyroll, crewjam/saml, gosaml2)")

// printFetches shows how often each peer fetched each key set: once to
// start, plus whatever the tampered tokens of the checks caused.
func printFetches(s *bench.Suite) {
	fmt.Print("JWKS fetches (1 at setup + any caused by the 2 tampered tokens of the checks):")
	for _, alg := range s.Algs {
		fmt.Printf("\n  %s:", alg)
		for _, im := range s.Impls {
			if im.Name != bench.Floor {
				fmt.Printf(" %s %d", im.Name, s.Fetches(alg, im.Name))
			}
		}
	}
	fmt.Println()
}
