//go:build lwsfault && unix

package sockio

import (
	"errors"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// FaultInjection reports whether this build can inject faults (the
// lwsfault build tag).
const FaultInjection = true

// readOnce, writeOnce and writev3Once are one system call each (io.go
// retries them when interrupted), with the faults set by SetFaults and
// ResetAfter.
func readOnce(fd int, p []byte) (int, error) { return faulted(fd, p, false, read) }

func writeOnce(fd int, p []byte) (int, error) { return faulted(fd, p, true, write) }

// faulted is one call of sys (read or write) on fd with p, or of the
// fault decided in its place.
func faulted(fd int, p []byte, isWrite bool, sys func(int, []byte) (int, error)) (int, error) {
	if !inj.on.Load() {
		return sys(fd, p)
	}
	k, r, tripped, err := inj.decide(fd, len(p), isWrite)
	if err != nil {
		tripped.run()
		return 0, err
	}
	n, err := sys(fd, p[:k])
	inj.moved(r, n)
	return n, err
}

func writev3Once(fd int, a, b, c []byte) (int, error) {
	if !inj.on.Load() {
		return writev3(fd, a, b, c)
	}
	k, r, tripped, err := inj.decide(fd, len(a)+len(b)+len(c), true)
	if err != nil {
		tripped.run()
		return 0, err
	}
	a, k = clip(a, k)
	b, k = clip(b, k)
	c, _ = clip(c, k)
	n, err := writev3(fd, a, b, c)
	inj.moved(r, n)
	return n, err
}

// clip returns the first k bytes of p at most, and what is left of k.
func clip(p []byte, k int) ([]byte, int) {
	if len(p) > k {
		return p[:k], 0
	}
	return p, k - len(p)
}

// SetFaults starts injecting f's faults into every later call on a
// socket (the zero Faults stops them) and forgets the resets armed by
// ResetAfter.
func SetFaults(f Faults) error {
	for _, p := range []float64{f.ShortRead, f.ShortWrite, f.EAGAIN, f.EINTR} {
		if !(p >= 0 && p <= 1) {
			return errors.New("sockio: a fault probability is not between 0 and 1")
		}
	}
	if f.EINTR == 1 {
		return errors.New("sockio: an EINTR probability of 1 would retry a call forever")
	}
	inj.mu.Lock()
	defer inj.mu.Unlock()
	inj.armed = nil
	inj.nArmed.Store(0)
	if f == (Faults{}) {
		inj.cfg.Store(nil)
		inj.on.Store(false)
		return nil
	}
	inj.cfg.Store(&f)
	inj.on.Store(true)
	return nil
}

// ResetAfter arms a reset of the connection on socket fd: once after more
// bytes have been read from and written to it (counted from now, reads
// and writes together; the call that would pass the mark moves only up
// to it, though a read and a write in flight at once, as the goroutines
// of a WrapConn make them, may both), its next read fails with
// ECONNRESET, its next write with EPIPE, and every later call likewise.
// SO_LINGER is set to zero then, so closing the socket sends its peer a
// TCP reset. tripped, when not nil, runs inside that first failing call,
// before it returns. The reset is forgotten when the socket is closed
// before it trips (a new socket on the same fd number is not affected)
// and by SetFaults.
func ResetAfter(fd int, after int64, tripped func()) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return errors.New("sockio: ResetAfter on a descriptor that is not a socket")
	}
	inj.mu.Lock()
	defer inj.mu.Unlock()
	if inj.armed == nil {
		inj.armed = map[int]*armedReset{}
	}
	if _, ok := inj.armed[fd]; !ok {
		inj.nArmed.Add(1)
	}
	inj.armed[fd] = &armedReset{dev: uint64(st.Dev), ino: uint64(st.Ino), left: max(after, 0), hook: tripped}
	inj.on.Store(true)
	return nil
}

// InjectedFaults counts the faults injected so far.
func InjectedFaults() FaultCounts {
	return FaultCounts{
		Calls:       inj.calls.Load(),
		ShortReads:  inj.shortReads.Load(),
		ShortWrites: inj.shortWrites.Load(),
		EAGAINs:     inj.eagains.Load(),
		EINTRs:      inj.eintrs.Load(),
		Resets:      inj.resets.Load(),
	}
}

// inj is the process's injector. A socket belongs to one loop goroutine,
// but the loops share the injector: its configuration and counters are
// atomic, the armed resets are under mu.
var inj injector

type injector struct {
	on    atomic.Bool // random faults configured, or resets armed
	cfg   atomic.Pointer[Faults]
	draws atomic.Uint64

	calls, shortReads, shortWrites, eagains, eintrs, resets atomic.Uint64

	mu     sync.Mutex
	armed  map[int]*armedReset // by fd; the socket's identity is checked on use
	nArmed atomic.Int32
}

// armedReset is one ResetAfter; left is under mu (a loop calls on its
// sockets from one goroutine, a WrapConn's reader and writer from two).
type armedReset struct {
	dev, ino uint64 // the socket's identity: a later socket may reuse the fd
	left     int64
	tripped  bool
	hook     hook
}

// decide picks the fate of one call moving n bytes on fd: an error to
// return at once, or how many of the n bytes to pass to the system. r is
// the armed reset of the socket, if any, to account the bytes moved to;
// tripped, with the error of a reset tripped by this call, is its hook,
// for the caller to run before it returns (not under a lock of its own).
func (j *injector) decide(fd, n int, write bool) (k int, r *armedReset, tripped hook, err error) {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return n, nil, nil, nil
	}
	j.calls.Add(1)
	if j.nArmed.Load() > 0 {
		if r, tripped, err = j.armedFor(fd, &st, write); err != nil {
			return 0, nil, tripped, err
		}
	}
	k = n
	if f := j.cfg.Load(); f != nil {
		short := f.ShortRead
		if write {
			short = f.ShortWrite
		}
		switch {
		case j.chance(f.seed(), f.EINTR):
			j.eintrs.Add(1)
			return 0, nil, nil, unix.EINTR
		case j.chance(f.seed(), f.EAGAIN):
			j.eagains.Add(1)
			return 0, nil, nil, unix.EAGAIN
		case n > 1 && j.chance(f.seed(), short):
			k = 1 + int(j.draw(f.seed())%uint64(n-1))
			if write {
				j.shortWrites.Add(1)
			} else {
				j.shortReads.Add(1)
			}
		}
	}
	if r != nil {
		j.mu.Lock()
		k = int(min(int64(k), r.left))
		j.mu.Unlock()
	}
	return k, r, nil, nil
}

// armedFor returns the reset armed for the socket st on fd, tripping it
// when its bytes are used up; err is the call's error once tripped, and
// tripped the reset's hook if this call tripped it.
func (j *injector) armedFor(fd int, st *unix.Stat_t, write bool) (r *armedReset, tripped hook, err error) {
	j.mu.Lock()
	r = j.armed[fd]
	if r == nil {
		j.mu.Unlock()
		return nil, nil, nil
	}
	if r.dev != uint64(st.Dev) || r.ino != uint64(st.Ino) { // the armed socket was closed
		delete(j.armed, fd)
		j.nArmed.Add(-1)
		j.mu.Unlock()
		return nil, nil, nil
	}
	if !r.tripped && r.left == 0 {
		r.tripped = true
		tripped = r.hook
		j.resets.Add(1)
		_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	}
	done := r.tripped
	j.mu.Unlock()
	switch {
	case !done:
		return r, nil, nil
	case write:
		return nil, tripped, unix.EPIPE
	}
	return nil, tripped, unix.ECONNRESET
}

// hook is the function ResetAfter runs when its reset trips, or nil.
type hook func()

func (h hook) run() {
	if h != nil {
		h()
	}
}

// moved accounts n bytes moved on a socket with an armed reset.
func (j *injector) moved(r *armedReset, n int) {
	if r == nil || n <= 0 {
		return
	}
	j.mu.Lock()
	r.left = max(r.left-int64(n), 0)
	j.mu.Unlock()
}

func (f *Faults) seed() uint64 { return uint64(f.Seed) }

// chance draws true with probability p.
func (j *injector) chance(seed uint64, p float64) bool {
	switch {
	case p <= 0:
		return false
	case p >= 1:
		return true
	}
	return float64(j.draw(seed)>>11)/(1<<53) < p
}

// draw is the next number of the seeded sequence (splitmix64).
func (j *injector) draw(seed uint64) uint64 {
	z := seed + j.draws.Add(1)*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
