// Package evloop is the non-blocking service loop under lws.
//
// Ownership rule: all state of a registered fd is touched only by the loop
// goroutine that owns it; other goroutines Post functions to it.
//
// The loop goroutine is the goroutine inside Loop.Run (or, in external-poll
// mode, the goroutine that calls ServiceFD / ServiceTimers). Add, Modify,
// Remove, AfterFunc, Timer.Stop and Timer.Reset are called from there (or
// before Run starts); Post, Stop and Seal are safe from any goroutine. A
// build with the lwsdebug tag makes Loop.AssertInLoop panic off the loop
// goroutine; Loop.InLoop tells, in every build, whether the caller is the
// goroutine that runs (or ran, until Close) Run. After Run returns,
// Loop.Finish runs on that goroutine what was posted and not yet run.
//
// What the package owns:
//
//   - the poller: epoll (level-triggered) on Linux, poll(2) on other unix
//     systems and on Linux with Config.Backend BackendPoll,
//     the portable backend (BackendPortable: the only one on Windows, and
//     selectable everywhere), or no poller at all when Config.External is
//     set, in which case every change of interest is
//     forwarded to the user's own poll loop (libwebsockets' ADD_POLL_FD,
//     DEL_POLL_FD, SET_MODE_POLL_FD and CLEAR_MODE_POLL_FD notifications) and
//     the user calls ServiceFD, ServiceTimers and NextTimeout;
//   - the fd table: a preallocated fd-indexed slot array (Table), sized once
//     from RLIMIT_NOFILE by SizeTable (DefaultTableCap where there is no
//     such limit) and capped by DefaultTableCap, shared by all loops of a
//     service, each slot touched only by its owning loop;
//   - the wake-up and posted queue: an eventfd on Linux, a non-blocking pipe
//     on other unix systems, a channel on the portable backend, signalled at
//     most once per burst of posts, and a FIFO queue of funcs run on the loop
//     goroutine;
//   - on the portable backend, notified handlers: no fd backs them
//     (AddNotified); goroutines doing blocking I/O report readiness with
//     Notifier.Notify from any goroutine, and the loop remembers each event
//     until the handler's interest includes it, then delivers it once.
//     Their ids are slots of the table; a Notifier's serial keeps a late
//     Notify away from a later registration under the same id;
//   - timers: a min-heap of *Timer serviced by the loop, with no goroutine per
//     timer; the poll timeout is the next deadline.
//
// evloop holds no protocol logic. It imports only the standard library,
// golang.org/x/sys/unix on unix systems and, on Linux, internal/sockio (raw
// system calls);
// it must not import any other package of this module.
package evloop
