package config

import "testing"

func TestReadEnvAuditSyslog(t *testing.T) {
	for _, tt := range []struct {
		value string
		want  bool
	}{
		{"", false}, {"0", false}, {"yes", false}, {"1", true}, {" 1\n", true},
	} {
		env := ReadEnv(func(k string) string {
			if k == "CLAWWARDEN_AUDIT_SYSLOG" {
				return tt.value
			}
			return ""
		})
		if env.AuditSyslog != tt.want {
			t.Errorf("CLAWWARDEN_AUDIT_SYSLOG=%q: AuditSyslog = %v, want %v", tt.value, env.AuditSyslog, tt.want)
		}
	}
}
