// Command bench-run runs the benchmark matrix (package harness) and writes
// RESULTS.md and its chart; `make bench` runs it from the bench module:
//
//	go run ./cmd/bench-run -reps 5 -out RESULTS.md -chart chart.svg
//
// -servers and -only narrow the matrix (comma-separated server names and
// scenario name substrings); -json keeps every run's raw result.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/lws-go/lws/bench/harness"
)

func main() {
	reps := flag.Int("reps", 3, "repetitions of the interleaved matrix")
	serversFlag := flag.String("servers", strings.Join(harness.DefaultServers(), ","), "servers, comma-separated")
	only := flag.String("only", "", "run only scenarios whose name contains one of these comma-separated strings")
	warmup := flag.Duration("warmup", 500*time.Millisecond, "echo warm-up per run")
	duration := flag.Duration("duration", 2*time.Second, "echo measured window per run")
	rounds := flag.Int("rounds", 20, "broadcast rounds measured per run")
	out := flag.String("out", "RESULTS.md", "report file")
	chart := flag.String("chart", "chart.svg", "chart file (SVG), written beside the report")
	jsonOut := flag.String("json", "", "also write every run as JSON to this file")
	allocN := flag.Int("alloc-n", 20000, "round trips per allocation benchmark (0 skips them)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	bin, err := os.MkdirTemp("", "lws-bench-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(bin)
	log.Printf("building servers and the load tool")
	bins, err := harness.Build(bin)
	if err != nil {
		log.Fatal(err)
	}
	if bins.C == "" {
		log.Printf("no C server: %s", bins.CMissing)
	}
	cfg := harness.Config{
		Servers:  strings.Split(*serversFlag, ","),
		Reps:     *reps,
		Warmup:   *warmup,
		Duration: *duration,
		Rounds:   *rounds,
		Bin:      bins,
		Log:      os.Stderr,
	}
	for _, sc := range harness.DefaultScenarios() {
		if *only == "" || containsAny(sc.Name, strings.Split(*only, ",")) {
			cfg.Scenarios = append(cfg.Scenarios, sc)
		}
	}
	rep := &harness.Report{Machine: harness.DescribeMachine(), Cfg: cfg, Started: time.Now(),
		BenchMaking: "make bench", ChartFile: filepath.Base(*chart)}
	rep.Runs = harness.RunMatrix(ctx, cfg)
	if *allocN > 0 && ctx.Err() == nil {
		log.Printf("allocation benchmarks")
		a, cmd, err := harness.RunAllocBenchmarks(*allocN)
		rep.Allocs, rep.AllocsCmd = a, cmd
		if err != nil {
			rep.AllocsErr = err.Error()
		}
	}
	rep.Elapsed = time.Since(rep.Started)
	rep.LoadAvgEnd = harness.LoadAvg()
	rep.Notes = []string{"Where our server's time and memory go in each target (profiles), and what limits each, is in [PROFILE.md](PROFILE.md)."}

	if *jsonOut != "" {
		b, _ := json.MarshalIndent(rep.Runs, "", " ")
		if err := os.WriteFile(*jsonOut, b, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	chartPath := filepath.Join(filepath.Dir(*out), filepath.Base(*chart))
	if err := os.WriteFile(chartPath, rep.Chart(), 0o644); err != nil {
		log.Fatal(err)
	}
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	rep.WriteMarkdown(f)
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "wrote %s and %s\n", *out, chartPath)
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if sub != "" && strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
