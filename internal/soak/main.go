package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/logging"
)

func main() {
	cycles := flag.Int("cycles", 8, "churn cycles")
	conns := flag.Int("conns", 5000, "connections per cycle")
	concurrency := flag.Int("concurrency", 1000, "connections open at once")
	loops := flag.Int("loops", 2, "service loops")
	seed := flag.Uint64("seed", uint64(time.Now().UnixNano()), "random seed")
	heapSlack := flag.Float64("heap-slack-mib", 4, "heap growth tolerated over the second cycle's, MiB")
	flag.Parse()
	logging.SetLogLevel(logging.Err|logging.Warn, logging.EmitStderr)
	if err := run(*cycles, *conns, *concurrency, *loops, *seed, *heapSlack); err != nil {
		fmt.Fprintln(os.Stderr, "soak: FAIL:", err)
		os.Exit(1)
	}
	fmt.Println("soak: PASS")
}

// usage is what the process holds between cycles.
type usage struct {
	fds, goroutines int
	heap            uint64 // live heap after a GC
}

func (u usage) String() string {
	return fmt.Sprintf("fds %d, goroutines %d, heap %.2f MiB", u.fds, u.goroutines, float64(u.heap)/(1<<20))
}

func measure() usage {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	ents, _ := os.ReadDir("/proc/self/fd")
	return usage{fds: len(ents) - 1, goroutines: runtime.NumGoroutine(), heap: ms.HeapAlloc}
}

// settle waits until the fds and goroutines are back to base (the clients'
// and the service's last closes may still be in flight) or a minute passed.
func settle(base usage) usage {
	deadline := time.Now().Add(time.Minute)
	for {
		u := measure()
		if u.fds <= base.fds && u.goroutines <= base.goroutines || time.Now().After(deadline) {
			return u
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func run(cycles, conns, concurrency, loops int, seed uint64, heapSlackMiB float64) error {
	root, err := os.MkdirTemp("", "lws-soak-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	if err := os.WriteFile(filepath.Join(root, "index.html"), []byte(strings.Repeat("soak page\n", 300)), 0o644); err != nil {
		return err
	}
	echo := &lws.Protocol{
		Name:       "echo",
		Reassemble: true,
		OnReceive: func(c *lws.Conn, msg []byte) {
			mode := lws.WriteText
			if c.IsBinary() {
				mode = lws.WriteBinary
			}
			if err := c.Write(msg, mode); err != nil {
				c.Close(lws.CloseInternalError, err.Error())
			}
		},
	}
	svc, err := lws.New(lws.Config{
		Addr:         "127.0.0.1:0",
		Loops:        loops,
		Protocols:    []*lws.Protocol{echo},
		DocumentRoot: root,
		Limits:       lws.Limits{CloseTimeout: 2 * time.Second},
	})
	if err != nil {
		return err
	}
	runErr := make(chan error, 1)
	go func() { runErr <- svc.Run() }()
	defer func() {
		svc.Close()
		<-runErr
	}()
	addr := svc.Addr().String()
	fmt.Printf("soak: %d cycles of %d connections (%d at once) on %d loops, seed %d, serving %s\n",
		cycles, conns, concurrency, loops, seed, addr)

	// Warm up (the runtime's network poller, the dial service) before
	// the baseline.
	warm := &session{addr: addr, svc: svc, rng: rand.New(rand.NewPCG(seed, 0))}
	if err := warm.clean(); err != nil {
		return fmt.Errorf("warm-up session: %w", err)
	}
	if err := warm.dialed(); err != nil {
		return fmt.Errorf("warm-up dial: %w", err)
	}
	if err := waitIdle(svc); err != nil {
		return err
	}
	base := settle(usage{fds: 1 << 30, goroutines: 1 << 30})
	fmt.Printf("soak: baseline: %v\n", base)

	var heaps []uint64
	var failures []string
	for cycle := 1; cycle <= cycles; cycle++ {
		start := time.Now()
		st := churn(addr, svc, conns, concurrency, seed+uint64(cycle))
		if err := waitIdle(svc); err != nil {
			return fmt.Errorf("cycle %d: %w", cycle, err)
		}
		u := settle(base)
		heaps = append(heaps, u.heap)
		fmt.Printf("soak: cycle %d: %v in %v; %v\n", cycle, st, time.Since(start).Round(time.Millisecond), u)
		for _, e := range st.firstErrs {
			fmt.Printf("soak:   error: %s\n", e)
		}
		if st.errors > 0 {
			failures = append(failures, fmt.Sprintf("cycle %d: %d sessions failed", cycle, st.errors))
		}
		if u.fds > base.fds || u.goroutines > base.goroutines {
			failures = append(failures, fmt.Sprintf("cycle %d: %v, above the baseline %v", cycle, u, base))
		}
	}
	if len(heaps) >= 3 {
		limit := heaps[1] + uint64(heapSlackMiB*(1<<20))
		for i := 2; i < len(heaps); i++ {
			if heaps[i] > limit {
				failures = append(failures, fmt.Sprintf("heap grows: %.2f MiB after cycle %d, %.2f MiB after cycle 2",
					float64(heaps[i])/(1<<20), i+1, float64(heaps[1])/(1<<20)))
			}
		}
	}
	if len(failures) > 0 {
		return errors.New(strings.Join(failures, "; "))
	}
	return nil
}

// waitIdle waits until the service holds no connection.
func waitIdle(svc *lws.Service) error {
	deadline := time.Now().Add(time.Minute)
	for svc.Connections() != 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d connections still open a minute after the clients finished", svc.Connections())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// stats counts one cycle's sessions by kind.
type stats struct {
	kinds     [numKinds]atomic.Int64
	errors    int64
	firstErrs []string
}

func (s *stats) String() string {
	var b strings.Builder
	for k := kind(0); k < numKinds; k++ {
		if k > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d %s", s.kinds[k].Load(), k)
	}
	fmt.Fprintf(&b, "; %d failed", s.errors)
	return b.String()
}

// churn runs n sessions, concurrency at a time, each of a random kind.
func churn(addr string, svc *lws.Service, n, concurrency int, seed uint64) *stats {
	st := &stats{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, concurrency)
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			s := &session{addr: addr, svc: svc, rng: rand.New(rand.NewPCG(seed, uint64(i)))}
			k := pickKind(s.rng)
			st.kinds[k].Add(1)
			if err := s.run(k); err != nil {
				mu.Lock()
				st.errors++
				if len(st.firstErrs) < 5 {
					st.firstErrs = append(st.firstErrs, fmt.Sprintf("%s session: %v", k, err))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return st
}

// dialed is a session through the library's own client (lws.Dial) on the
// service under test: a few messages, then a clean close or an abandon.
func (s *session) dialed() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cc, err := lws.Dial(ctx, "ws://"+s.addr+"/", &lws.DialOptions{Service: s.svc})
	if err != nil {
		return err
	}
	for i := s.rng.IntN(5); i >= 0; i-- {
		msg := s.payload(false)
		if err := cc.WriteMessage(ctx, lws.WriteBinary, msg); err != nil {
			cc.Close(lws.CloseNormal, "")
			return fmt.Errorf("write: %w", err)
		}
		op, got, err := cc.ReadMessage(ctx)
		if err != nil {
			cc.Close(lws.CloseNormal, "")
			return fmt.Errorf("read: %w", err)
		}
		if op != lws.WriteBinary || string(got) != string(msg) {
			cc.Close(lws.CloseNormal, "")
			return fmt.Errorf("echo of %d bytes came back as %d bytes (mode %v)", len(msg), len(got), op)
		}
	}
	return cc.Close(lws.CloseNormal, "bye")
}
