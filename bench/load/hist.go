package load

import (
	"math/bits"
	"time"
)

// histogram records durations in log-linear buckets: 16 sub-buckets per
// power of two, so a percentile is within about 6% of the true value.
// Recording is a few instructions and never allocates.
type histogram struct {
	counts [60 * 16]uint64 // up to 2^63 ns
	n      uint64
}

func bucketOf(ns int64) int {
	if ns < 16 {
		if ns < 0 {
			ns = 0
		}
		return int(ns)
	}
	e := 63 - bits.LeadingZeros64(uint64(ns)) // >= 4
	sub := int(ns>>(e-4)) & 15
	return (e-3)*16 + sub
}

// lowerBound is the smallest value of bucket i.
func lowerBound(i int) int64 {
	if i < 16 {
		return int64(i)
	}
	e := i/16 + 3
	sub := int64(i % 16)
	return (16 + sub) << (e - 4)
}

func (h *histogram) record(d int64) {
	h.counts[bucketOf(d)]++
	h.n++
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

// quantile returns the value at quantile q (0..1): the middle of the
// bucket holding it.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q * float64(h.n-1))
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen > rank {
			lo, hi := lowerBound(i), lowerBound(i+1)
			return time.Duration((lo + hi) / 2)
		}
	}
	return 0
}
