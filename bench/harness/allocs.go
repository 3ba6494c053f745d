package harness

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// Allocs are allocations per echoed message by server and message size,
// from BenchmarkEcho of package servers (in process, ReportAllocs).
type Allocs map[string]map[int]float64

// RunAllocBenchmarks runs BenchmarkEcho for n round trips per case.
func RunAllocBenchmarks(n int) (Allocs, string, error) {
	mod, err := moduleDir()
	if err != nil {
		return nil, "", err
	}
	args := []string{"test", "-run", "^$", "-bench", "^BenchmarkEcho$", "-benchmem", "-benchtime", strconv.Itoa(n) + "x", "./servers"}
	cmd := exec.Command("go", args...)
	cmd.Dir = mod
	out, err := cmd.CombinedOutput()
	command := "go " + strings.Join(args, " ")
	if err != nil {
		return nil, command, fmt.Errorf("harness: %s: %v\n%s", command, err, out)
	}
	return parseAllocs(out), command, nil
}

// parseAllocs reads "BenchmarkEcho/NAME/SIZEB-P  N  x ns/op ... A allocs/op".
func parseAllocs(out []byte) Allocs {
	a := Allocs{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "BenchmarkEcho/") || f[len(f)-1] != "allocs/op" {
			continue
		}
		parts := strings.Split(strings.TrimPrefix(f[0], "BenchmarkEcho/"), "/")
		if len(parts) != 2 {
			continue
		}
		sizeStr := parts[1]
		if i := strings.LastIndexByte(sizeStr, '-'); i >= 0 {
			sizeStr = sizeStr[:i]
		}
		size, err1 := strconv.Atoi(strings.TrimSuffix(sizeStr, "B"))
		allocs, err2 := strconv.ParseFloat(f[len(f)-2], 64)
		if err1 != nil || err2 != nil {
			continue
		}
		if a[parts[0]] == nil {
			a[parts[0]] = map[int]float64{}
		}
		a[parts[0]][size] = allocs
	}
	return a
}
