package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNotifyCommand(t *testing.T) {
	state := assessEnv(t)
	writeFile(t, filepath.Join(state, "openclaw.json"), "{gateway: {bind: 'lan'}}", 0o600)
	if code, _, errOut := runCLI("assess", "--no-openclaw-audit", "--fail-on", "violation"); code != ExitFindings {
		t.Fatalf("assess exit %d, want %d: %s", code, ExitFindings, errOut)
	}
	dir := t.TempDir()
	log := filepath.Join(dir, "sent.log")
	script := filepath.Join(dir, "notify.sh")
	writeFile(t, script, "#!/bin/sh\ncat > /dev/null\necho \"$1\" >> '"+log+"'\n", 0o700)
	t.Setenv("OPENCLAW_VIOLATION_NOTIFY_STATE", filepath.Join(dir, "notify-state.json"))
	t.Setenv("OPENCLAW_VIOLATION_NOTIFY_CMD", script)

	t.Run("not allowlisted", func(t *testing.T) {
		t.Setenv("OPENCLAW_VIOLATION_NOTIFY_ALLOWLIST", "/usr/bin/true")
		code, _, errOut := runCLI("notify")
		if code != ExitPolicyBlock || !strings.Contains(errOut, "not in OPENCLAW_VIOLATION_NOTIFY_ALLOWLIST") {
			t.Fatalf("exit %d, stderr %q; want %d and the allowlist named", code, errOut, ExitPolicyBlock)
		}
		if _, err := os.Stat(log); err == nil {
			t.Fatal("a command that is not allowlisted ran")
		}
	})

	t.Setenv("OPENCLAW_VIOLATION_NOTIFY_ALLOWLIST", `[["`+script+`"]]`)
	for i := 0; i < 2; i++ {
		code, out, errOut := runCLI("notify")
		if code != ExitOK {
			t.Fatalf("run %d: exit %d: %s", i, code, errOut)
		}
		want := "new violations since the last notification"
		if i == 0 {
			want = "notified"
		}
		if !strings.Contains(out, want) {
			t.Errorf("run %d: output %q lacks %q", i, out, want)
		}
	}
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(data), "\n"); got != 1 || !strings.Contains(string(data), "gateway_loopback_only") {
		t.Errorf("notifier log = %q, want one line naming gateway_loopback_only", data)
	}
}
