package rootside

import (
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawwarden/clawwarden/internal/audit"
	"github.com/clawwarden/clawwarden/internal/testenv"
)

// The root helper's log sends to the layout's /dev/log only when the root
// settings say audit_syslog, as clawwarden-root.
func TestAuditForwardsWhenSettingsSay(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	if err := os.MkdirAll(filepath.Dir(l.SyslogSocket()), 0o755); err != nil {
		t.Fatal(err)
	}
	rcv, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: l.SyslogSocket(), Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	if err := os.MkdirAll(l.LogDir(), 0o700); err != nil {
		t.Fatal(err)
	}

	var warns []error
	warn := func(err error) { warns = append(warns, err) }
	if log := l.Audit(Settings{}, warn); log.Forward != nil {
		t.Fatal("forwarding without audit_syslog")
	}
	log := l.Audit(Settings{AuditSyslog: true}, warn)
	if log.Path != l.AuditLog() {
		t.Errorf("Path = %s, want %s", log.Path, l.AuditLog())
	}
	if err := log.Append(audit.Record{Event: "request", Argv: []string{"/usr/bin/id"}, RequestID: "r-1"}); err != nil {
		t.Fatal(err)
	}
	if len(warns) > 0 {
		t.Fatal(warns)
	}
	buf := make([]byte, 64<<10)
	rcv.SetReadDeadline(time.Now().Add(10 * time.Second)) // sent before Append returned
	n, err := rcv.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	msg := string(buf[:n])
	if !strings.Contains(msg, " clawwarden-root ") || !strings.Contains(msg, "[clawwarden@32473 event=\"request\" request=\"r-1\" argv=\"/usr/bin/id\" hash=\"") {
		t.Errorf("received %q", msg)
	}

	// Nothing listening: the record is local, a warning says it was not sent.
	rcv.Close()
	os.Remove(l.SyslogSocket())
	if err := log.Append(audit.Record{Event: "result", Decision: "ran"}); err != nil {
		t.Fatal(err)
	}
	var fe *audit.ForwardError
	if len(warns) != 1 || !errors.As(warns[0], &fe) {
		t.Errorf("warnings %v, want one *audit.ForwardError", warns)
	}
	if r, err := audit.VerifyFile(l.AuditLog()); err != nil || r.Records != 2 {
		t.Errorf("VerifyFile: %+v, %v", r, err)
	}
}

// audit_syslog is read from root's settings file.
func TestLoadSettingsAuditSyslog(t *testing.T) {
	if os.Getuid() != 0 {
		testenv.Skip(t, "root-owned settings need root")
	}
	l := Layout{Root: t.TempDir()}
	for _, on := range []bool{true, false} {
		s := Settings{Version: SettingsVersion, InstallID: strings.Repeat("a", 32), AgentUser: "openclaw", AgentUID: 1234, AuditSyslog: on}
		data, _ := json.Marshal(s)
		if on != strings.Contains(string(data), `"audit_syslog":true`) {
			t.Errorf("settings JSON %s", data)
		}
		if err := os.MkdirAll(l.ConfigDir(), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(l.SettingsFile(), data, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := l.LoadSettings()
		if err != nil {
			t.Fatal(err)
		}
		if got.AuditSyslog != on {
			t.Errorf("AuditSyslog = %v, want %v", got.AuditSyslog, on)
		}
	}
}
