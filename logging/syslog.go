//go:build !windows && !plan9

package logging

import "log/syslog"

// NewSyslogEmitter returns an emitter that sends lines to the local syslog
// daemon with the given tag, facility user (lwsl_emit_syslog). Levels map to
// priorities: Err -> LOG_ERR, Warn -> LOG_WARNING, Notice -> LOG_NOTICE,
// Info -> LOG_INFO, everything else -> LOG_DEBUG.
func NewSyslogEmitter(tag string) (Emitter, error) {
	return NewSyslogEmitterTo("", "", tag)
}

// NewSyslogEmitterTo is [NewSyslogEmitter] for the syslog server at raddr
// on network, as for [syslog.Dial] ("udp", "tcp", "unixgram", ...; both
// empty means the local daemon).
func NewSyslogEmitterTo(network, raddr, tag string) (Emitter, error) {
	w, err := syslog.Dial(network, raddr, syslog.LOG_USER|syslog.LOG_INFO, tag)
	if err != nil {
		return nil, err
	}
	return func(level Level, line string) {
		switch {
		case level&Err != 0:
			w.Err(line)
		case level&Warn != 0:
			w.Warning(line)
		case level&Notice != 0:
			w.Notice(line)
		case level&Info != 0:
			w.Info(line)
		default:
			w.Debug(line)
		}
	}, nil
}
