package lws

// freeList is a stack of values kept for reuse by one service loop: only
// the loop's goroutine uses it, so it takes no lock.
type freeList[T any] struct {
	items []T
}

// get takes the value put last, if any.
func (f *freeList[T]) get() (x T, ok bool) {
	if len(f.items) == 0 {
		return x, false
	}
	return f.take(len(f.items) - 1), true
}

// take removes and returns items[i]; the last item takes its place.
func (f *freeList[T]) take(i int) T {
	last := len(f.items) - 1
	x := f.items[i]
	f.items[i] = f.items[last]
	var zero T
	f.items[last] = zero // the list no longer pins it
	f.items = f.items[:last]
	return x
}

// put keeps x unless limit values are kept already; it reports whether it
// did.
func (f *freeList[T]) put(x T, limit int) bool {
	if len(f.items) >= limit {
		return false
	}
	f.items = append(f.items, x)
	return true
}
