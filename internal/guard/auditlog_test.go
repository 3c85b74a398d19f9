package guard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawwarden/clawwarden/internal/audit"
	"github.com/clawwarden/clawwarden/internal/config"
)

// With CLAWWARDEN_AUDIT_SYSLOG=1 the guard's records also reach the host's
// log pipeline; without it nothing is sent; a missing receiver is a
// warning for the caller, and the refusal is still the result.
func TestGuardForwardsAuditRecords(t *testing.T) {
	for _, tt := range []struct {
		name      string
		env       string
		listen    bool
		wantSent  bool
		wantWarns int
	}{
		{"on", "1", true, true, 0},
		{"off", "", true, false, 0},
		{"no receiver", "1", false, false, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			sock := filepath.Join(dir, "log")
			var rcv *net.UnixConn
			if tt.listen {
				var err error
				rcv, err = net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
				if err != nil {
					t.Fatal(err)
				}
				defer rcv.Close()
			}
			getenv := func(k string) string {
				return map[string]string{"HOME": dir, "CLAWWARDEN_AUDIT_SYSLOG": tt.env}[k]
			}
			paths, err := config.Locate(getenv)
			if err != nil {
				t.Fatal(err)
			}
			var notices []string
			refusal := fmt.Errorf("%w: the shim refused it", ErrPolicyBlock)
			_, err = Run(context.Background(), Options{
				Argv: []string{"/usr/bin/id"}, Via: "shim", Refused: refusal,
				Paths: paths, Env: config.ReadEnv(getenv), Getenv: getenv,
				AuditForward: &audit.Forwarder{Syslog: sock, Journal: filepath.Join(dir, "no-journal")},
				Notice:       func(f string, args ...any) { notices = append(notices, fmt.Sprintf(f, args...)) },
			})
			if !errors.Is(err, ErrPolicyBlock) {
				t.Fatalf("Run: %v, want the refusal", err)
			}
			local, err := os.ReadFile(paths.Security(config.AuditLogFile))
			if err != nil || strings.Count(string(local), "\n") != 2 {
				t.Fatalf("local log: %q, %v", local, err)
			}
			if len(notices) != tt.wantWarns || tt.wantWarns > 0 && !strings.Contains(notices[0], "in the local log") {
				t.Errorf("notices %q, want %d warning(s)", notices, tt.wantWarns)
			}
			if rcv == nil {
				return
			}
			var got []string
			buf := make([]byte, 64<<10)
			for {
				rcv.SetReadDeadline(time.Now().Add(time.Millisecond)) // sent before Run returned
				n, err := rcv.Read(buf)
				if err != nil {
					break
				}
				got = append(got, string(buf[:n]))
			}
			if !tt.wantSent {
				if len(got) > 0 {
					t.Errorf("sent without CLAWWARDEN_AUDIT_SYSLOG=1: %q", got)
				}
				return
			}
			if len(got) != 2 || !strings.Contains(got[0], ` event="request"`) || !strings.Contains(got[1], ` event="refused" decision="refused"`) ||
				!strings.Contains(got[1], ` argv="/usr/bin/id"`) {
				t.Errorf("received %q", got)
			}
		})
	}
}
