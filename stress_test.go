//go:build linux

package lws_test

// TestStress is a seeded, randomized test of the whole stack (see
// stress_scenario_test.go for what one scenario does, and
// stress_model_test.go for the oracle). Without flags it runs the bounded
// slice of make test: one scenario per cell of the configuration matrix,
// with fixed seeds. -stress.time=10m runs scenarios with fresh seeds for
// that long (make stress); -stress.seed=N replays one; -stress.poller=portable
// (or epoll, poll, external) keeps the slice or the fresh seeds to the
// cells of that poller. Build with
// -tags lwsdebug,lwsfault for the loop-ownership assertions and the
// socket faults.

import (
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/internal/sockio"
	"github.com/lws-go/lws/logging"
)

var (
	stressSeed   = flag.Int64("stress.seed", 0, "replay the stress scenario of this seed")
	stressTime   = flag.Duration("stress.time", 0, "run stress scenarios with fresh seeds for this long")
	stressPoller = flag.String("stress.poller", "", "run only the scenarios of the cells with this poller (epoll, poll, external or portable)")
)

// stressTotals is what a run of TestStress checked.
type stressTotals struct {
	scenarios, pairs, truncated int
	msgs, bytes                 int64
	faults                      sockio.FaultCounts
	cells                       map[stressCell]int
}

func TestStress(t *testing.T) {
	baseline := stressBaseline(t)
	logs := captureLogs(t)
	totals := stressTotals{cells: map[stressCell]int{}}
	start := time.Now()
	poller := stressPollerFlag(t)
	run := func(seed int64) bool {
		if poller >= 0 && *stressSeed == 0 && stressSeedCell(seed).poller != poller {
			return true
		}
		if !runStressScenario(t, seed, baseline, logs, &totals) {
			return false
		}
		return !t.Failed()
	}
	switch {
	case *stressSeed != 0:
		run(*stressSeed)
	case *stressTime > 0:
		seed := time.Now().UnixNano() & (1<<40 - 1)
		seed = max(seed, int64(len(stressCells))+1)
		t.Logf("fresh seeds from %d", seed)
		for time.Since(start) < *stressTime && run(seed) {
			seed++
		}
	default:
		for seed := int64(1); seed <= int64(len(stressCells)); seed++ {
			if !run(seed) {
				break
			}
		}
	}
	t.Logf("stress: %d scenarios (%d of %d cells of the matrix), %d connections (%d closed or reset part way), %d messages and %d bytes checked, in %v",
		totals.scenarios, len(totals.cells), len(stressCells), totals.pairs, totals.truncated, totals.msgs, totals.bytes, time.Since(start).Round(time.Second))
	if sockio.FaultInjection {
		t.Logf("faults injected: %v", totals.faults)
	} else {
		t.Logf("no faults injected: build with -tags lwsfault")
	}
}

// stressPollerFlag is the poller -stress.poller names, or -1 for all.
func stressPollerFlag(t *testing.T) int {
	if *stressPoller == "" {
		return -1
	}
	for i, name := range pollerNames {
		if name == *stressPoller {
			return i
		}
	}
	t.Fatalf("-stress.poller=%s: not one of %v", *stressPoller, pollerNames)
	return -1
}

// stressSeedCell is the cell of the scenario of seed.
func stressSeedCell(seed int64) stressCell {
	return drawParams(seed, stressCellIndex(seed)).cell
}

// stressCellIndex is the cell a seed of the fixed slice stands for, or -1
// for a seed whose scenario draws its cell.
func stressCellIndex(seed int64) int {
	if seed >= 1 && seed <= int64(len(stressCells)) {
		return int(seed - 1) // the fixed slice: one seed per cell
	}
	return -1
}

// runStressScenario runs the scenario of seed and checks it; on failure
// it reports the seed, the scenario and how to replay it.
func runStressScenario(t *testing.T, seed int64, baseline stressState, logs *logRing, totals *stressTotals) bool {
	sc := newScenario(t, seed, stressCellIndex(seed))
	logs.reset()
	before := sockio.InjectedFaults()
	began := time.Now()
	err := sc.run()
	if err == nil {
		err = baseline.await(30 * time.Second)
	}
	faults := sockio.InjectedFaults().Sub(before)
	var msgs, bytes int64
	truncated := 0
	for _, pr := range sc.pairs {
		for _, e := range []*end{pr.server, pr.client} {
			m, b := e.rx.counts()
			msgs, bytes = msgs+m, bytes+b
		}
		if why, _ := pr.whyTruncated(); why != "" {
			truncated++
		}
	}
	if err != nil || t.Failed() {
		t.Errorf("stress seed %d failed after %v: %v\nscenario: %s\nfaults: %v\nconnections:\n%slast log lines:\n%sreplay: go test -race -tags lwsdebug,lwsfault -run 'TestStress$' -stress.seed=%d .",
			seed, time.Since(began).Round(time.Millisecond), err, sc.describe(), faults, sc.endings(), logs.String(), seed)
		return false
	}
	totals.scenarios++
	totals.pairs += len(sc.pairs)
	totals.truncated += truncated
	totals.msgs += msgs
	totals.bytes += bytes
	totals.faults = totals.faults.Add(faults)
	totals.cells[sc.p.cell]++
	if testing.Verbose() {
		t.Logf("seed %d: %v (%s), %d connections (%d closed or reset part way), %d messages, %d bytes; %v; injected: %v",
			seed, time.Since(began).Round(time.Millisecond), strings.Join(sc.phases, ", "), len(sc.pairs), truncated, msgs, bytes, sc.describe(), faults)
	}
	return true
}

// stressState is the process's descriptors and goroutines between
// scenarios.
type stressState struct {
	fds        int
	goroutines int
}

func currentStressState() stressState {
	ents, _ := os.ReadDir("/proc/self/fd")
	return stressState{fds: len(ents), goroutines: runtime.NumGoroutine()}
}

// stressBaseline warms up what stays for the life of the process (the Go
// runtime's network poller, the test certificate, the message blocks)
// and returns the state every scenario must return to.
func stressBaseline(t *testing.T) stressState {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		c.Close()
	}
	ln.Close()
	testCert()
	stressBlocks()
	var s stressState
	deadline := time.Now().Add(10 * time.Second)
	for { // the warm-up's goroutines end
		s = currentStressState()
		if time.Now().After(deadline) || s == currentStressState() {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return s
}

// await waits until the process is back to s: every descriptor and
// goroutine of the scenario gone.
func (s stressState) await(d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		now := currentStressState()
		if now.fds <= s.fds && now.goroutines <= s.goroutines {
			return nil
		}
		if time.Now().After(deadline) {
			var fds []string
			for fd, target := range openFDsNow() {
				fds = append(fds, fd+"="+target)
			}
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			return fmt.Errorf("after the scenario %d fds and %d goroutines, before it %d and %d\nfds: %s\ngoroutines:\n%s",
				now.fds, now.goroutines, s.fds, s.goroutines, strings.Join(fds, " "), buf)
		}
		time.Sleep(10 * time.Millisecond) // polling for the closes and goroutine exits to finish
	}
}

// openFDsNow lists /proc/self/fd with each link's target.
func openFDsNow() map[string]string {
	ents, _ := os.ReadDir("/proc/self/fd")
	m := map[string]string{}
	for _, e := range ents {
		target, _ := os.Readlink("/proc/self/fd/" + e.Name())
		m[e.Name()] = target
	}
	return m
}

// logRing keeps the library's last log lines (Info and up) for the report
// of a failing scenario.
type logRing struct {
	mu    sync.Mutex
	lines []string
	next  int
	full  bool
}

const logRingLines = 200

func captureLogs(t *testing.T) *logRing {
	r := &logRing{lines: make([]string, logRingLines)}
	prev := logging.LogLevel()
	logging.SetLogLevel(logging.Err|logging.Warn|logging.Notice|logging.Info, func(level logging.Level, line string) {
		r.mu.Lock()
		r.lines[r.next] = string(level.Letter()) + ": " + line
		r.next = (r.next + 1) % len(r.lines)
		r.full = r.full || r.next == 0
		r.mu.Unlock()
	})
	t.Cleanup(func() { logging.SetLogLevel(prev, logging.EmitStderr) })
	return r
}

func (r *logRing) reset() {
	r.mu.Lock()
	r.next, r.full = 0, false
	r.mu.Unlock()
}

func (r *logRing) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	if r.full {
		for _, l := range r.lines[r.next:] {
			b.WriteString(l + "\n")
		}
	}
	for _, l := range r.lines[:r.next] {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// TestBackends: Config.Backend BackendPoll makes the loops wait with
// poll(2) and BackendPortable with no descriptor at all (the stress
// test's poll and portable cells): such services open no epoll
// descriptor, the default one opens one per loop, and all serve.
func TestBackends(t *testing.T) {
	epolls := func() int {
		n := 0
		for _, target := range openFDsNow() {
			if target == "anon_inode:[eventpoll]" {
				n++
			}
		}
		return n
	}
	if ln, err := net.Listen("tcp", "127.0.0.1:0"); err == nil { // the runtime's own poller first
		ln.Close()
	}
	for _, b := range []lws.Backend{lws.BackendEpoll, lws.BackendPoll, lws.BackendPortable} {
		before := epolls()
		svc := startService(t, lws.Config{Loops: 2, Backend: b, Protocols: []*lws.Protocol{echoProtocol("echo")}})
		want := before
		if b == lws.BackendEpoll {
			want += 2
		}
		if got := epolls(); got != want {
			t.Errorf("%v: %d epoll descriptors, want %d", b, got, want)
		}
		for range 2 { // both loops
			c := dialWS(t, svc, "echo")
			c.Write(frame(0x81, key1, []byte("hello")))
			if f, err := c.readFrame(t); err != nil || string(f.payload) != "hello" {
				t.Fatalf("%v: echo %v, %v", b, f, err)
			}
		}
	}
}
