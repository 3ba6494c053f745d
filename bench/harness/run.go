package harness

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lws-go/lws/bench/load"
)

// Scenario is one row of the matrix.
type Scenario struct {
	Name     string
	Mode     string // echo, idle or broadcast
	Conns    int
	Size     int
	InFlight int
}

// DefaultScenarios are the rows of the performance targets.
func DefaultScenarios() []Scenario {
	return []Scenario{
		{Name: "echo 32 B, 1 conn", Mode: "echo", Conns: 1, Size: 32, InFlight: 1},
		{Name: "echo 32 B, 100 conns", Mode: "echo", Conns: 100, Size: 32, InFlight: 1},
		{Name: "echo 32 B, 1000 conns", Mode: "echo", Conns: 1000, Size: 32, InFlight: 1},
		{Name: "echo 32 B, 1 conn, 16 in flight", Mode: "echo", Conns: 1, Size: 32, InFlight: 16},
		{Name: "echo 16 KiB, 1 conn", Mode: "echo", Conns: 1, Size: 16 << 10, InFlight: 1},
		{Name: "echo 16 KiB, 100 conns", Mode: "echo", Conns: 100, Size: 16 << 10, InFlight: 1},
		{Name: "echo 16 KiB, 1000 conns", Mode: "echo", Conns: 1000, Size: 16 << 10, InFlight: 1},
		{Name: "idle, 15000 conns", Mode: "idle", Conns: 15000},
		{Name: "broadcast 32 B to 10000 conns", Mode: "broadcast", Conns: 10000, Size: 32},
	}
}

// DefaultServers are every server, ours first and the floors last.
func DefaultServers() []string {
	return []string{"lws", "lws-2loops", "gorilla", "coder", "gobwas", "nbio", "gws", CServer, "raw-goroutine", "raw-epoll"}
}

// Config is a benchmark run.
type Config struct {
	Servers   []string
	Scenarios []Scenario
	Reps      int           // repetitions of the whole interleaved matrix
	Warmup    time.Duration // echo warm-up
	Duration  time.Duration // echo measured window
	Rounds    int           // broadcasts measured per run
	Bin       Binaries
	Log       io.Writer // progress, one line per run
}

// Run is one measurement.
type Run struct {
	Scenario Scenario
	Server   string
	Rep      int
	Result   load.Result
	Err      string
	Command  string
}

// isRaw reports whether a server is a raw TCP floor (no WebSocket).
func isRaw(server string) bool { return strings.HasPrefix(server, "raw-") }

// RunMatrix runs every scenario on every server, Reps times, interleaved:
// for each repetition, for each scenario, every server in turn (the order
// rotated by one server per repetition).
func RunMatrix(ctx context.Context, cfg Config) []Run {
	var runs []Run
	for rep := 0; rep < cfg.Reps; rep++ {
		for _, sc := range cfg.Scenarios {
			n := len(cfg.Servers)
			for i := 0; i < n; i++ {
				server := cfg.Servers[(i+rep)%n]
				if ctx.Err() != nil {
					return runs
				}
				r := runOne(ctx, cfg, sc, server, rep)
				if cfg.Log != nil {
					fmt.Fprintf(cfg.Log, "rep %d  %-32s %-14s %s\n", rep+1, sc.Name, server, summary(r))
				}
				runs = append(runs, r)
			}
		}
	}
	return runs
}

func summary(r Run) string {
	if r.Err != "" {
		return "error: " + r.Err
	}
	res := r.Result
	switch r.Scenario.Mode {
	case "idle":
		return fmt.Sprintf("%.0f B/conn (RSS %d -> %d, %d alive)", res.RSSPerConn, res.RSSBefore, res.RSSAfter, res.Alive)
	case "broadcast":
		return fmt.Sprintf("last delivery %.2f ms, %.2f us CPU/delivery", res.LastDeliveryMs, res.CPUPerDeliveryUs)
	}
	return fmt.Sprintf("%.0f msg/s, %.2f us CPU/msg, p50 %.0f us, p99 %.0f us", res.MsgsPerSec, res.CPUPerMsgUs, res.P50Us, res.P99Us)
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// serverCommand is the command line of a server process.
func serverCommand(bin Binaries, server string, port int, broadcast bool) ([]string, error) {
	if server == CServer {
		if bin.C == "" {
			return nil, errors.New(bin.CMissing)
		}
		args := []string{bin.C, "-p", strconv.Itoa(port), "-i", "127.0.0.1"}
		if broadcast {
			args = append(args, "-b")
		}
		return args, nil
	}
	args := []string{bin.Server, "-server", server, "-addr", "127.0.0.1:" + strconv.Itoa(port)}
	if broadcast {
		args = append(args, "-broadcast")
	}
	return args, nil
}

// loadArgs is the load tool's command line for a run.
func loadArgs(cfg Config, sc Scenario, server string, port, pid int) []string {
	proto := "ws"
	if isRaw(server) {
		proto = "raw"
	}
	args := []string{cfg.Bin.Load, "-mode", sc.Mode, "-addr", "127.0.0.1:" + strconv.Itoa(port),
		"-pid", strconv.Itoa(pid), "-proto", proto, "-conns", strconv.Itoa(sc.Conns)}
	switch sc.Mode {
	case "echo":
		args = append(args, "-size", strconv.Itoa(sc.Size), "-inflight", strconv.Itoa(sc.InFlight),
			"-warmup", cfg.Warmup.String(), "-duration", cfg.Duration.String())
	case "broadcast":
		args = append(args, "-size", strconv.Itoa(sc.Size), "-rounds", strconv.Itoa(cfg.Rounds))
	}
	return args
}

// runOne starts the server, runs the load tool against it and stops it.
func runOne(ctx context.Context, cfg Config, sc Scenario, server string, rep int) Run {
	run := Run{Scenario: sc, Server: server, Rep: rep}
	port, err := freePort()
	if err != nil {
		run.Err = err.Error()
		return run
	}
	sargs, err := serverCommand(cfg.Bin, server, port, sc.Mode == "broadcast")
	if err != nil {
		run.Err = err.Error()
		return run
	}
	srv, err := startServer(sargs)
	if err != nil {
		run.Err = err.Error()
		return run
	}
	defer srv.stop()
	largs := loadArgs(cfg, sc, server, port, srv.cmd.Process.Pid)
	run.Command = strings.Join(largs, " ")
	lctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(lctx, largs[0], largs[1:]...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if line := lastLine(out); line != "" {
		if jerr := json.Unmarshal([]byte(line), &run.Result); jerr != nil && err == nil {
			err = jerr
		}
	}
	if err != nil {
		run.Err = strings.TrimSpace(err.Error() + ": " + stderr.String())
	}
	if exited := srv.exited(); exited != "" && run.Err == "" {
		run.Err = "server died: " + exited
	}
	return run
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// serverProc is a running server process.
type serverProc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// startServer starts a server and waits (up to 10s) for its "ready" line.
func startServer(args []string) (*serverProc, error) {
	cmd := exec.Command(args[0], args[1:]...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &serverProc{cmd: cmd, done: make(chan struct{})}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			if !sent && strings.HasPrefix(sc.Text(), "ready ") {
				ready <- true
				sent = true
			}
		}
		if !sent {
			ready <- false
		}
		p.err = cmd.Wait()
		close(p.done)
	}()
	select {
	case ok := <-ready:
		if ok {
			return p, nil
		}
		<-p.done
		return nil, fmt.Errorf("server %s exited before ready: %v %s", args[0], p.err, stderr.String())
	case <-time.After(10 * time.Second):
		p.stop()
		return nil, fmt.Errorf("server %s not ready in 10s", args[0])
	}
}

// exited says why the server ended if it already has, else "".
func (p *serverProc) exited() string {
	select {
	case <-p.done:
		return fmt.Sprint(p.err)
	default:
		return ""
	}
}

// stop sends SIGTERM, then SIGKILL after 5s.
func (p *serverProc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}
