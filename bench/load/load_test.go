package load

import (
	"math"
	"os"
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 10000; i++ {
		h.record(int64(i) * 1000) // 1us .. 10ms
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5 * time.Millisecond}, {0.99, 9900 * time.Microsecond}} {
		got := h.quantile(tc.q)
		if rel := math.Abs(float64(got-tc.want)) / float64(tc.want); rel > 0.07 {
			t.Errorf("quantile %v = %v, want %v within 7%%", tc.q, got, tc.want)
		}
	}
	for i := 0; i < len(h.counts)-2; i++ {
		if lowerBound(i+1) <= lowerBound(i) {
			t.Fatalf("bucket bounds not increasing at %d", i)
		}
		if b := bucketOf(lowerBound(i)); b != i {
			t.Fatalf("bucketOf(lowerBound(%d)) = %d", i, b)
		}
	}
}

func TestProcOfSelf(t *testing.T) {
	pid := os.Getpid()
	start := time.Now()
	for time.Since(start) < 50*time.Millisecond { // burn a little CPU
	}
	cpu, err := ProcCPU(pid)
	if err != nil || cpu <= 0 {
		t.Fatalf("ProcCPU = %v, %v", cpu, err)
	}
	rss, err := ProcRSS(pid)
	if err != nil || rss <= 0 {
		t.Fatalf("ProcRSS = %v, %v", rss, err)
	}
	if n, err := ProcThreads(pid); err != nil || n < 1 {
		t.Fatalf("ProcThreads = %v, %v", n, err)
	}
}
