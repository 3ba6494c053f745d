package load

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is USER_HZ, the unit of utime and stime in /proc/PID/stat
// (100 on every Linux ABI Go supports).
const clockTick = 10 * time.Millisecond

// ProcCPU is the CPU time (user + system) the process has used, from
// /proc/PID/stat.
func ProcCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name is in parentheses and may hold spaces: fields
	// count from after the last ')'. utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("load: malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("load: short /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("load: bad times in /proc/%d/stat", pid)
	}
	return time.Duration(ut+st) * clockTick, nil
}

// ProcRSS is the resident set size of the process in bytes, from VmRSS in
// /proc/PID/status.
func ProcRSS(pid int) (int64, error) {
	return procStatusKB(pid, "VmRSS:")
}

// ProcThreads is the number of threads of the process.
func ProcThreads(pid int) (int64, error) {
	n, err := procStatusField(pid, "Threads:")
	return n, err
}

func procStatusKB(pid int, key string) (int64, error) {
	n, err := procStatusField(pid, key)
	return n << 10, err
}

func procStatusField(pid int, key string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, key) {
			f := strings.Fields(line[len(key):])
			if len(f) == 0 {
				break
			}
			return strconv.ParseInt(f[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("load: no %s in /proc/%d/status", key, pid)
}
