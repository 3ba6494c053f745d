package harness

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// Roles of the servers in the targets.
const (
	Ours  = "lws"
	Ours2 = "lws-2loops"
	Floor = "raw-epoll"
)

// Peers are the servers ours is compared with.
var Peers = []string{"gorilla", "coder", "gobwas", "nbio", "gws", CServer}

// Report is everything RESULTS.md shows.
type Report struct {
	Machine     Machine
	Cfg         Config
	Runs        []Run
	Allocs      Allocs
	AllocsCmd   string
	AllocsErr   string
	Started     time.Time
	Elapsed     time.Duration
	LoadAvgEnd  string
	ChartFile   string // relative path of the SVG, "" for none
	Notes       []string
	BenchMaking string // the command that made the report
}

// Target is one of the performance targets with its verdict.
type Target struct {
	Name, Figure, Reference string
	Met                     bool
	Known                   bool // false when a figure is missing
}

func f2(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.0f", v)
	case v >= 100:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// Targets evaluates the targets from the medians.
func (r *Report) Targets() []Target {
	t := index(r.Runs)
	peers := r.presentPeers()
	var out []Target
	for _, sc := range r.Cfg.Scenarios {
		ours := t.cell(sc.Name, Ours, cpuPerMsg)
		floor := t.cell(sc.Name, Floor, cpuPerMsg)
		best, who := t.best(sc.Name, peers, cpuPerMsg)
		known := ours.ok() && floor.ok() && !math.IsNaN(best)
		switch {
		case sc.Mode == "echo" && sc.Size == 32 && sc.InFlight == 1:
			out = append(out, Target{
				Name:      "1. " + sc.Name + ": CPU/msg <= 1.25x raw epoll floor and below every peer",
				Figure:    fmt.Sprintf("%s us (%.2fx floor)", f2(ours.med), ours.med/floor.med),
				Reference: fmt.Sprintf("floor %s us; best peer %s %s us", f2(floor.med), who, f2(best)),
				Met:       known && ours.med <= 1.25*floor.med && ours.med < best,
				Known:     known,
			})
		case sc.Mode == "echo" && sc.Size == 32 && sc.InFlight == 16:
			out = append(out, Target{
				Name:      "2. " + sc.Name + ": CPU/msg <= 3 us",
				Figure:    f2(ours.med) + " us",
				Reference: fmt.Sprintf("floor %s us; best peer %s %s us", f2(floor.med), who, f2(best)),
				Met:       ours.ok() && ours.med <= 3,
				Known:     ours.ok(),
			})
		case sc.Mode == "echo" && sc.Size > 1024:
			out = append(out, Target{
				Name:      "3. " + sc.Name + ": CPU/msg <= best peer and <= 1.5x floor",
				Figure:    fmt.Sprintf("%s us (%.2fx floor)", f2(ours.med), ours.med/floor.med),
				Reference: fmt.Sprintf("floor %s us; best peer %s %s us", f2(floor.med), who, f2(best)),
				Met:       known && ours.med <= best && ours.med <= 1.5*floor.med,
				Known:     known,
			})
		case sc.Mode == "idle":
			c := t.cell(sc.Name, Ours, rssPerConn)
			out = append(out, Target{
				Name:      fmt.Sprintf("4. idle: RSS per upgraded idle connection at %d conns <= 512 B", sc.Conns),
				Figure:    f2(c.med) + " B",
				Reference: r.idleReference(t, sc),
				Met:       c.ok() && c.med <= 512,
				Known:     c.ok(),
			})
		case sc.Mode == "broadcast":
			c := t.cell(sc.Name, Ours, lastDelivery)
			d := t.cell(sc.Name, Ours, cpuPerDeliver)
			var refs []string
			for _, p := range []string{"gorilla", "nbio"} {
				if pc := t.cell(sc.Name, p, lastDelivery); pc.ok() {
					refs = append(refs, fmt.Sprintf("%s %s ms, %s us", p, f2(pc.med), f2(t.cell(sc.Name, p, cpuPerDeliver).med)))
				}
			}
			out = append(out, Target{
				Name:      "5. " + sc.Name + ": reported beside the peers",
				Figure:    fmt.Sprintf("%s ms to last delivery, %s us CPU per delivery", f2(c.med), f2(d.med)),
				Reference: strings.Join(refs, "; "),
				Met:       c.ok(),
				Known:     c.ok(),
			})
		}
	}
	if a, ok := r.Allocs[Ours]; ok {
		worst := 0.0
		for _, v := range a {
			worst = max(worst, v)
		}
		out = append(out, Target{
			Name:      "6. 0 allocations per message in steady-state echo (BenchmarkEcho, ReportAllocs)",
			Figure:    fmt.Sprintf("%s allocs/msg (worst size)", f2(worst)),
			Reference: r.allocPeers(),
			Met:       worst == 0,
			Known:     true,
		})
	}
	return out
}

func (r *Report) idleReference(t table, sc Scenario) string {
	var refs []string
	for _, s := range append(slices.Clone(Peers), Floor) {
		if c := t.cell(sc.Name, s, rssPerConn); c.ok() {
			refs = append(refs, fmt.Sprintf("%s %s", s, f2(c.med)))
		}
	}
	return strings.Join(refs, "; ")
}

func (r *Report) allocPeers() string {
	var refs []string
	for _, s := range Peers {
		if a, ok := r.Allocs[s]; ok {
			refs = append(refs, fmt.Sprintf("%s %s/%s", s, f2(a[32]), f2(a[16<<10])))
		}
	}
	return "32 B / 16 KiB: " + strings.Join(refs, "; ")
}

// presentPeers are the peers that ran.
func (r *Report) presentPeers() []string {
	var out []string
	for _, p := range Peers {
		if slices.Contains(r.Cfg.Servers, p) {
			out = append(out, p)
		}
	}
	return out
}

// WriteMarkdown writes RESULTS.md.
func (r *Report) WriteMarkdown(w io.Writer) {
	t := index(r.Runs)
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("# lws for Go: benchmark results\n\n")
	p("Written by `%s` on %s (%s for the whole run). ", r.BenchMaking, r.Started.UTC().Format("2006-01-02 15:04 MST"), r.Elapsed.Round(time.Second))
	p("Each figure is the median of %d interleaved repetitions (servers A B C ... A B C ...); ", r.Cfg.Reps)
	p("where runs differ, the range (min-max) follows in brackets.\n\n")
	p("**Caveat:** the machine is shared (load average %s at the start, %s at the end): ", r.Machine.LoadAvg, r.LoadAvgEnd)
	p("absolute figures are noisy; the comparison within one table, taken in the same interleaved run, is what counts.\n\n")
	if r.ChartFile != "" {
		p("![server CPU per echoed message and memory per idle connection](%s)\n\n", r.ChartFile)
	}

	p("## Targets\n\n| target | ours | reference (same run) | met |\n|---|---|---|---|\n")
	for _, tg := range r.Targets() {
		verdict := "no"
		switch {
		case !tg.Known:
			verdict = "unknown (missing figure)"
		case tg.Met:
			verdict = "yes"
		}
		p("| %s | %s | %s | %s |\n", tg.Name, tg.Figure, tg.Reference, verdict)
	}
	p("\n")
	for _, n := range r.Notes {
		p("%s\n\n", n)
	}

	r.metricTable(w, t, "echo", "Echo: server CPU per message (us, lower is better)", cpuPerMsg, true)
	r.metricTable(w, t, "echo", "Echo: messages per second (higher is better)", msgsPerSec, false)
	r.metricTable(w, t, "echo", "Echo: round-trip latency p50 (us)", p50, false)
	r.metricTable(w, t, "echo", "Echo: round-trip latency p99 (us)", p99, false)
	r.metricTable(w, t, "idle", "Idle: server RSS per idle upgraded connection (bytes)", rssPerConn, true)
	r.idleProjection(w, t)
	r.metricTable(w, t, "broadcast", "Broadcast: time until the last receiver has the message (ms)", lastDelivery, true)
	r.metricTable(w, t, "broadcast", "Broadcast: server CPU per delivered message (us)", cpuPerDeliver, true)
	r.loopsSection(w, t)
	r.allocsSection(w)
	r.machineSection(w)
	r.failures(w)
}

func (r *Report) metricTable(w io.Writer, t table, mode, title string, m metric, ranges bool) {
	var rows []Scenario
	for _, sc := range r.Cfg.Scenarios {
		if sc.Mode == mode {
			rows = append(rows, sc)
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "## %s\n\n| scenario |", title)
	for _, s := range r.Cfg.Servers {
		fmt.Fprintf(w, " %s |", s)
	}
	fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("---|", len(r.Cfg.Servers)))
	for _, sc := range rows {
		fmt.Fprintf(w, "| %s |", sc.Name)
		for _, s := range r.Cfg.Servers {
			c := t.cell(sc.Name, s, m)
			switch {
			case !c.ok() && c.failed > 0:
				fmt.Fprintf(w, " failed |")
			case !c.ok():
				fmt.Fprintf(w, " - |")
			case ranges && c.n > 1 && c.hi > c.lo:
				fmt.Fprintf(w, " %s [%s-%s] |", f2(c.med), f2(c.lo), f2(c.hi))
			default:
				fmt.Fprintf(w, " %s |", f2(c.med))
			}
		}
		fmt.Fprintf(w, "\n")
	}
	fmt.Fprintf(w, "\n")
}

// idleProjection extrapolates the idle slope to a million connections.
func (r *Report) idleProjection(w io.Writer, t table) {
	for _, sc := range r.Cfg.Scenarios {
		if sc.Mode != "idle" {
			continue
		}
		fmt.Fprintf(w, "Projected server RSS for 1,000,000 idle connections (RSS before + slope x 10^6; the kernel's socket memory is not in RSS and comes on top):\n\n")
		for _, s := range r.Cfg.Servers {
			c := t.cell(sc.Name, s, rssPerConn)
			if !c.ok() {
				continue
			}
			var before []float64
			for _, run := range t[sc.Name][s] {
				if run.Err == "" {
					before = append(before, float64(run.Result.RSSBefore))
				}
			}
			slices.Sort(before)
			proj := before[len(before)/2] + c.med*1e6
			fmt.Fprintf(w, "- %s: %.0f MiB\n", s, proj/(1<<20))
		}
		fmt.Fprintf(w, "\n")
	}
}

func (r *Report) loopsSection(w io.Writer, t table) {
	if !slices.Contains(r.Cfg.Servers, Ours2) || !slices.Contains(r.Cfg.Servers, Ours) {
		return
	}
	fmt.Fprintf(w, "## Service loops: 1 or 2 on this %d-core machine\n\n", r.Machine.Cores)
	fmt.Fprintf(w, "| scenario | 1 loop msg/s | 2 loops msg/s | 1 loop us/msg | 2 loops us/msg |\n|---|---|---|---|---|\n")
	for _, sc := range r.Cfg.Scenarios {
		if sc.Mode != "echo" {
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", sc.Name,
			f2(t.cell(sc.Name, Ours, msgsPerSec).med), f2(t.cell(sc.Name, Ours2, msgsPerSec).med),
			f2(t.cell(sc.Name, Ours, cpuPerMsg).med), f2(t.cell(sc.Name, Ours2, cpuPerMsg).med))
	}
	fmt.Fprintf(w, "\n")
}

func (r *Report) allocsSection(w io.Writer) {
	fmt.Fprintf(w, "## Allocations per echoed message\n\n")
	if r.AllocsErr != "" {
		fmt.Fprintf(w, "The allocation benchmarks failed: %s\n\n", r.AllocsErr)
		return
	}
	if len(r.Allocs) == 0 {
		return
	}
	fmt.Fprintf(w, "In-process Go benchmarks (`%s`), a client that allocates nothing, so allocs/op are the server's:\n\n", r.AllocsCmd)
	fmt.Fprintf(w, "| server | 32 B | 16 KiB |\n|---|---|---|\n")
	names := make([]string, 0, len(r.Allocs))
	for n := range r.Allocs {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(w, "| %s | %s | %s |\n", n, f2(r.Allocs[n][32]), f2(r.Allocs[n][16<<10]))
	}
	fmt.Fprintf(w, "\n")
}

func (r *Report) machineSection(w io.Writer) {
	m := r.Machine
	fmt.Fprintf(w, "## Machine, versions, commands\n\n")
	fmt.Fprintf(w, "- CPU: %s, %d cores; memory %s; %s\n", m.CPU, m.Cores, m.MemTotal, m.Kernel)
	fmt.Fprintf(w, "- Go %s; libwebsockets (C) %s\n", m.Go, orNA(m.LwsC))
	mods := make([]string, 0, len(m.Modules))
	for k, v := range m.Modules {
		mods = append(mods, k+" "+v)
	}
	slices.Sort(mods)
	fmt.Fprintf(w, "- peers: %s\n", strings.Join(mods, ", "))
	fmt.Fprintf(w, "- echo runs: %v warm-up, then %v measured; broadcast: %d measured rounds after warm-up rounds\n", r.Cfg.Warmup, r.Cfg.Duration, r.Cfg.Rounds)
	fmt.Fprintf(w, "- server CPU is utime+stime from /proc/PID/stat over the measured window; RSS is VmRSS from /proc/PID/status once settled\n\n")
	fmt.Fprintf(w, "Each run starts a fresh server process and then the load tool, for example:\n\n```\n")
	seen := map[string]bool{}
	for _, run := range r.Runs {
		if run.Command == "" || seen[run.Scenario.Name] {
			continue
		}
		seen[run.Scenario.Name] = true
		sargs, _ := serverCommand(Binaries{Server: "bench-server", C: "lws-c-echo"}, run.Server, 9000, run.Scenario.Mode == "broadcast")
		fmt.Fprintf(w, "%s &\n%s\n", strings.Join(sargs, " "), anonymise(run.Command))
	}
	fmt.Fprintf(w, "```\n\n")
}

// anonymise shortens the load command's binary path and its port and pid.
func anonymise(cmd string) string {
	f := strings.Fields(cmd)
	if len(f) == 0 {
		return cmd
	}
	if i := strings.LastIndexByte(f[0], '/'); i >= 0 {
		f[0] = f[0][i+1:]
	}
	for i := 1; i+1 < len(f); i++ {
		switch f[i] {
		case "-addr":
			f[i+1] = "127.0.0.1:9000"
		case "-pid":
			f[i+1] = "$SERVER_PID"
		}
	}
	return strings.Join(f, " ")
}

func (r *Report) failures(w io.Writer) {
	var lines []string
	for _, run := range r.Runs {
		if run.Err != "" {
			lines = append(lines, fmt.Sprintf("- rep %d, %s, %s: %s", run.Rep+1, run.Scenario.Name, run.Server, oneLine(run.Err)))
		}
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(w, "## Failed runs\n\n%s\n\n", strings.Join(lines, "\n"))
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

func orNA(s string) string {
	if s == "" {
		return "n/a"
	}
	return s
}
