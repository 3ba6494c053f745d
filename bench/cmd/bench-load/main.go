// Command bench-load drives a benchmark echo server and prints one JSON
// result line (see package load):
//
//	bench-load -mode echo -addr 127.0.0.1:9001 -pid 1234 -conns 100 -size 32 -inflight 1 -duration 3s
//	bench-load -mode idle -addr ... -pid ... -conns 15000
//	bench-load -mode broadcast -addr ... -pid ... -conns 10000 -size 32
//
// -proto raw drives the raw TCP floors (no WebSocket framing).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/lws-go/lws/bench/load"
	"golang.org/x/sys/unix"
)

func main() {
	mode := flag.String("mode", "echo", "echo, idle or broadcast")
	addr := flag.String("addr", "127.0.0.1:7681", "server address (IPv4 host:port)")
	pid := flag.Int("pid", 0, "server process id, for its CPU time and RSS")
	proto := flag.String("proto", "ws", "ws, or raw for the raw TCP floors")
	conns := flag.Int("conns", 1, "connections")
	size := flag.Int("size", 32, "message size in bytes")
	inflight := flag.Int("inflight", 1, "messages in flight per connection (echo)")
	warmup := flag.Duration("warmup", 500*time.Millisecond, "unmeasured warm-up (echo)")
	duration := flag.Duration("duration", 3*time.Second, "measured window (echo)")
	workers := flag.Int("workers", 1, "client loops (echo)")
	rounds := flag.Int("rounds", 20, "measured broadcasts (broadcast)")
	flag.Parse()

	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err == nil && rl.Cur < rl.Max {
		rl.Cur = rl.Max
		_ = unix.Setrlimit(unix.RLIMIT_NOFILE, &rl)
	}
	var res load.Result
	var err error
	p := load.Proto(*proto)
	switch *mode {
	case "echo":
		res, err = load.RunEcho(load.EchoConfig{Addr: *addr, PID: *pid, Proto: p, Conns: *conns, Size: *size,
			InFlight: *inflight, Warmup: *warmup, Duration: *duration, Workers: *workers})
	case "idle":
		res, err = load.RunIdle(load.IdleConfig{Addr: *addr, PID: *pid, Proto: p, Conns: *conns})
	case "broadcast":
		res, err = load.RunBroadcast(load.BroadcastConfig{Addr: *addr, PID: *pid, Proto: p, Conns: *conns, Size: *size, Rounds: *rounds})
	default:
		err = fmt.Errorf("unknown mode %q", *mode)
	}
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-load:", err)
		os.Exit(1)
	}
}
