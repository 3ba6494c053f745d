// Package sockio makes the library's socket system calls: the service
// loops' read(2), write(2) and writev(2) on non-blocking sockets, and the
// calls that make, shut and close those sockets (socket, accept, connect,
// dup, socketpair, shutdown, close), the new ones returned a descriptor that is non-blocking and
// close-on-exec from the start. A call interrupted by a signal (EINTR) is
// retried here, so callers never see EINTR; a call on a non-blocking
// socket that can move nothing now returns ErrAgain.
//
// # Linux
//
// Reads and writes go through syscall.RawSyscall, not Syscall. A call on a
// non-blocking socket never blocks, so the runtime's bookkeeping for a call
// that might (entersyscall and exitsyscall, which let another thread take
// over the goroutine's P) is pure cost: about 0.2 us per call on the 2-core
// build machine, where a 32-byte write plus read on a socket pair costs 3.5
// to 4 us in all (BenchmarkWriteRead). A message echoed with one read and
// one write saves two of them.
//
// A raw call cannot be preempted, so it also delays a stop-the-world of the
// garbage collector until it returns. Calls that may copy more than
// RawLimit bytes therefore take the ordinary path: the kernel's copy of
// a large buffer is the one part of these calls that can take long.
//
// Sockets are made with SOCK_NONBLOCK|SOCK_CLOEXEC and accepted with
// accept4(2), which reads the peer's address into the caller's AddrBuf:
// an accept allocates nothing.
//
// # Darwin and the BSDs
//
// Reads and writes take the ordinary path of golang.org/x/sys/unix (on
// darwin and OpenBSD a system call must go through libc). A new descriptor
// is made, then set close-on-exec while syscall.ForkLock is held, so that
// a fork of another goroutine cannot pass it to a child in between, then
// set non-blocking. This portable path (socketPortable, acceptPortable,
// socketpairPortable) builds on Linux too, where its tests run it
// against real sockets. Its accept allocates the peer's address (a
// unix.Sockaddr) per connection.
//
// A build with the lwsfault tag injects faults into these calls for tests
// (faults.go); without it the layer the faults go into (readOnce,
// writeOnce, writev3Once) is one-line functions the compiler inlines, so
// callers make exactly the calls above.
package sockio

// RawLimit is the most bytes a Linux read or write moves through the raw
// path.
const RawLimit = 64 << 10
