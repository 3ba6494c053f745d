package harness

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSmoke runs the whole harness once, briefly, on our server and the
// raw epoll floor: build, one run of each mode per server, the report and
// the chart. It checks that every run measured something real, not how
// fast anything was.
func TestSmoke(t *testing.T) {
	dir := t.TempDir()
	bins, err := Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	cfg := Config{
		Servers: []string{Ours, Floor},
		Scenarios: []Scenario{
			{Name: "echo 32 B, 2 conns, 4 in flight", Mode: "echo", Conns: 2, Size: 32, InFlight: 4},
			{Name: "idle, 200 conns", Mode: "idle", Conns: 200},
			{Name: "broadcast 32 B to 20 conns", Mode: "broadcast", Conns: 20, Size: 32},
		},
		Reps:     1,
		Warmup:   100 * time.Millisecond,
		Duration: 300 * time.Millisecond,
		Rounds:   3,
		Bin:      bins,
		Log:      &log,
	}
	runs := RunMatrix(context.Background(), cfg)
	t.Logf("runs:\n%s", log.String())
	if len(runs) != 6 {
		t.Fatalf("%d runs, want 6", len(runs))
	}
	for _, r := range runs {
		if r.Err != "" {
			t.Errorf("%s on %s: %s", r.Scenario.Name, r.Server, r.Err)
			continue
		}
		res := r.Result
		switch r.Scenario.Mode {
		case "echo":
			if res.Messages <= 0 || res.MsgsPerSec <= 0 || res.P50Us <= 0 || res.P99Us < res.P50Us {
				t.Errorf("%s on %s: implausible echo result %+v", r.Scenario.Name, r.Server, res)
			}
			if res.ServerCPU < 0 {
				t.Errorf("%s on %s: negative server CPU", r.Scenario.Name, r.Server)
			}
		case "idle":
			if res.RSSBefore <= 0 || res.RSSAfter <= 0 || res.Alive != r.Scenario.Conns {
				t.Errorf("%s on %s: implausible idle result %+v", r.Scenario.Name, r.Server, res)
			}
		case "broadcast":
			if res.Rounds != 3 || res.LastDeliveryMs <= 0 || res.Messages != 3*int64(r.Scenario.Conns) {
				t.Errorf("%s on %s: implausible broadcast result %+v", r.Scenario.Name, r.Server, res)
			}
		}
	}

	rep := &Report{Machine: DescribeMachine(), Cfg: cfg, Runs: runs, Started: time.Now(), BenchMaking: "TestSmoke", ChartFile: "chart.svg"}
	var md bytes.Buffer
	rep.WriteMarkdown(&md)
	for _, want := range []string{"## Targets", "## Echo: server CPU per message", "## Idle:", "## Broadcast:", "| lws |", "raw-epoll"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, md.String())
		}
	}
	svg := rep.Chart()
	if err := os.WriteFile(filepath.Join(dir, "chart.svg"), svg, 0o644); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(svg))
	rects := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("chart is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rect" {
			rects++
		}
	}
	// background, legend (2), a bar per server for echo and idle (4); the
	// broadcast CPU of so short a run may be below the clock tick
	if rects < 1+2+4 {
		t.Errorf("chart has %d rects, want at least 7", rects)
	}
}

func TestParseAllocs(t *testing.T) {
	out := []byte("goos: linux\nBenchmarkEcho/lws/32B-2 \t 2000\t 22463 ns/op\t 1.42 MB/s\t 0 B/op\t 0 allocs/op\n" +
		"BenchmarkEcho/nbio/16384B-2 \t 2000\t 61628 ns/op\t 265.85 MB/s\t 17619 B/op\t 12 allocs/op\nPASS\n")
	a := parseAllocs(out)
	if v, ok := a["lws"][32]; !ok || v != 0 {
		t.Errorf("lws 32: %v %v", v, ok)
	}
	if a["nbio"][16384] != 12 {
		t.Errorf("nbio 16384: %v", a["nbio"][16384])
	}
}

func TestHistogramBuckets(t *testing.T) {
	// lives in package load; here only the report's number formatting
	for v, want := range map[float64]string{0.5: "0.50", 12.345: "12.35", 123.4: "123.4", 12345: "12345"} {
		if got := f2(v); got != want {
			t.Errorf("f2(%v) = %q, want %q", v, got, want)
		}
	}
}
