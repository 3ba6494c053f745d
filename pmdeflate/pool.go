package pmdeflate

import (
	"runtime"
	"sync"
)

// freeList keeps idle codec state for reuse. Unlike sync.Pool it is not
// emptied by garbage collections (a flate.Writer costs about a megabyte
// to make and clear) nor thinned out under the race detector; it holds at
// most two items per P, which is as many as can be in use at once when
// each service loop compresses one message at a time.
type freeList[T any] struct {
	mu    sync.Mutex
	items []T
}

func (f *freeList[T]) get() (x T, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.items); n > 0 {
		x = f.items[n-1]
		var zero T
		f.items[n-1] = zero
		f.items = f.items[:n-1]
		return x, true
	}
	return x, false
}

func (f *freeList[T]) put(x T) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.items) < 2*runtime.GOMAXPROCS(0) {
		f.items = append(f.items, x)
	}
}
