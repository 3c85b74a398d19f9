package enforce

import (
	"bytes"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/rootside"
)

// --audit-syslog turns forwarding on, --audit-syslog=false off, and a
// reinstall without the flag keeps what root's settings say.
func TestApplyAuditSyslog(t *testing.T) {
	on, off := true, false
	for _, tt := range []struct {
		name      string
		flag      *bool
		was, want bool
	}{
		{"new install, no flag", nil, false, false},
		{"new install, on", &on, false, true},
		{"reinstall keeps on", nil, true, true},
		{"reinstall turns off", &off, true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			o := Options{AuditSyslog: tt.flag, Out: &out}
			s := rootside.Settings{AuditSyslog: tt.was}
			o.applyAuditSyslog(&s)
			if s.AuditSyslog != tt.want {
				t.Errorf("AuditSyslog = %v, want %v", s.AuditSyslog, tt.want)
			}
			if said := strings.Contains(out.String(), "host's log pipeline"); said != tt.want {
				t.Errorf("install said %q", out.String())
			}
		})
	}
}
