// Command bench-server runs one of the benchmark echo servers of package
// servers in a process of its own, so the load tool can read its CPU time
// and memory from /proc:
//
//	bench-server -server lws -addr 127.0.0.1:9001 [-broadcast] [-cpuprofile f]
//
// It raises the soft RLIMIT_NOFILE to the hard limit, prints "ready ADDR"
// once listening and runs until SIGTERM or SIGINT.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/lws-go/lws/bench/servers"
	"golang.org/x/sys/unix"
)

func main() {
	name := flag.String("server", "lws", "server: "+strings.Join(servers.Names(), ", "))
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	broadcast := flag.Bool("broadcast", false, "broadcast messages starting with 'B' to every other connection")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file until the server stops")
	memprofile := flag.String("memprofile", "", "write a heap profile to this file when the server stops")
	flag.Parse()

	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err == nil && rl.Cur < rl.Max {
		rl.Cur = rl.Max
		_ = unix.Setrlimit(unix.RLIMIT_NOFILE, &rl)
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	srv, err := servers.Start(*name, servers.Options{Addr: *addr, Broadcast: *broadcast})
	if err != nil {
		log.Fatalf("bench-server: %v", err)
	}
	fmt.Printf("ready %s\n", srv.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	if *memprofile != "" {
		if f, err := os.Create(*memprofile); err == nil {
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	srv.Close()
}
