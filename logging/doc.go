// Package logging is the libwebsockets log mask for lws: a set of levels as
// bits (with libwebsockets' values, LLL_ERR = 1 ... LLL_USER = 1024), a
// global mask that says which are on, and an emitter that receives each line.
//
//	libwebsockets                 this package
//	lws_set_log_level(mask, fn)   SetLogLevel(mask, emit)  (nil emit keeps the current one)
//	lwsl_err/warn/notice/...      Errf, Warnf, Noticef, Infof, Debugf, Logf
//	lwsl_emit_syslog              NewSyslogEmitter, NewSyslogEmitterTo
//	(internal stderr emitter)     EmitStderr, NewWriterEmitter
//
// The library is quiet unless asked: the default mask is Err|Warn (a
// callback's panic, a connection dropped for a full send queue, a refused
// upgrade), not libwebsockets' Err|Warn|Notice, so an embedding program
// sees no "listening on" or connection-table lines; SetLogLevel turns
// more levels on, and the test apps in cmd/ do so for libwebsockets'
// default. The default emitter is EmitStderr, which writes libwebsockets
// 4.x's line format,
// "[2026/11/22 05:21:45:1234] N: text", with the level as one letter
// ([Level.Letter]). A daemon has no stderr: give it NewSyslogEmitter or a
// NewWriterEmitter on a log file.
// A disabled level costs one atomic load: the logging functions check the
// mask before formatting, so a call with a disabled level neither formats
// nor allocates (as long as its arguments need no boxing: constants and
// pointers do not; see TestDisabledLevelAllocatesNothing).
//
// For Go programs that log through log/slog there are adapters both ways:
// [SlogEmitter] sends lws lines into a *slog.Logger (for the program's
// default logger: SetLogLevel(DefaultMask, SlogEmitter(slog.Default()))),
// and [NewSlogHandler]
// is a slog.Handler that writes slog records as lws log lines, under the
// same mask. Do not connect both to each other, or a line loops forever.
//
// All functions are safe for concurrent use; emitters must be too. The
// package imports only the standard library and no other package of this
// module.
package logging
