package harness

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// Machine describes where the figures were taken.
type Machine struct {
	CPU      string
	Cores    int
	MemTotal string
	Kernel   string
	Go       string
	LwsC     string            // libwebsockets (C) version
	Modules  map[string]string // peer module -> version, from bench/go.mod
	LoadAvg  string            // /proc/loadavg when the run started
}

// DescribeMachine reads the machine's description.
func DescribeMachine() Machine {
	m := Machine{Cores: runtime.NumCPU(), Go: runtime.Version(), LwsC: lwsCVersion(), Modules: map[string]string{}}
	m.CPU = procField("/proc/cpuinfo", "model name")
	m.MemTotal = procField("/proc/meminfo", "MemTotal")
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:])
	}
	m.LoadAvg = LoadAvg()
	if mod, err := moduleDir(); err == nil {
		if b, err := os.ReadFile(filepath.Join(mod, "go.mod")); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require "))
				if len(f) >= 2 && strings.HasPrefix(f[1], "v") {
					for _, peer := range []string{"gorilla/websocket", "coder/websocket", "gobwas/ws", "lesismal/nbio", "lxzan/gws"} {
						if f[0] == "github.com/"+peer {
							m.Modules[f[0]] = f[1]
						}
					}
				}
			}
		}
	}
	return m
}

// LoadAvg is the first three fields of /proc/loadavg.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return "?"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}
