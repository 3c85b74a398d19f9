package guard

import (
	"github.com/clawwarden/clawwarden/internal/audit"
	"github.com/clawwarden/clawwarden/internal/config"
)

// auditLog is the user's audit log. With CLAWWARDEN_AUDIT_SYSLOG=1 it also
// sends every record to the host's log pipeline through fwd (nil: the
// host's sockets), and warn says when a record could not be sent: the
// record is in the log all the same.
func auditLog(p config.Paths, env config.Env, fwd *audit.Forwarder, warn func(error)) *audit.Log {
	l := &audit.Log{Path: p.Security(config.AuditLogFile)}
	if env.AuditSyslog {
		if fwd == nil {
			fwd = &audit.Forwarder{}
		}
		l.Forward, l.Warn = fwd, warn
	}
	return l
}
