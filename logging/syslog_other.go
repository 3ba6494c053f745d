//go:build windows || plan9

package logging

import "errors"

var errNoSyslog = errors.New("logging: syslog is not available on this system")

// NewSyslogEmitter reports that syslog is not available on this system.
func NewSyslogEmitter(tag string) (Emitter, error) { return nil, errNoSyslog }

// NewSyslogEmitterTo reports that syslog is not available on this system.
func NewSyslogEmitterTo(network, raddr, tag string) (Emitter, error) { return nil, errNoSyslog }
