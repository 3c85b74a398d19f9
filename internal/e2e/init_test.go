package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/testenv"
)

func TestInitOnEmptyHome(t *testing.T) {
	bin := testenv.Binary(t, "")
	home := t.TempDir()
	code, out := cwRun(t, bin, home, "init", "--yes")
	if code != 0 {
		t.Fatalf("init: exit %d:\n%s", code, out)
	}
	sec := filepath.Join(home, ".openclaw", "security")
	for _, f := range []string{"command-policy.json", "prompt-policy.json", "egress_allowlist.json", "approved_ports.json"} {
		fi, err := os.Stat(filepath.Join(sec, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", f, fi, err)
		}
	}
	for _, f := range []string{
		".openclaw/skills/cyber-security-engineer/SKILL.md",
		".openclaw/skills/cyber-security-engineer/assessments/compliance-dashboard.html",
		".openclaw/skills/cyber-security-engineer/assessments/openclaw-assessment.json",
	} {
		if _, err := os.Stat(filepath.Join(home, f)); err != nil {
			t.Errorf("init did not write %s", f)
		}
	}
	for _, want := range []string{"dashboard: ", "next steps:", "1. review", "3. open the dashboard"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// The starting policy is in force: the guard's decision follows it.
	if code, out := cwRun(t, bin, home, "policy", "check", "--", "systemctl", "restart", "nginx"); code != 0 {
		t.Errorf("starting policy refuses systemctl restart: %d\n%s", code, out)
	}
	if code, _ := cwRun(t, bin, home, "policy", "check", "--", "chmod", "777", "/etc"); code != 3 {
		t.Errorf("starting policy allows chmod: exit %d", code)
	}
	// Running init again changes nothing.
	before, _ := os.ReadFile(filepath.Join(sec, "command-policy.json"))
	code, out = cwRun(t, bin, home, "init", "--yes")
	if code != 0 || !strings.Contains(out, "kept ") {
		t.Errorf("second init: exit %d:\n%s", code, out)
	}
	if after, _ := os.ReadFile(filepath.Join(sec, "command-policy.json")); string(after) != string(before) {
		t.Error("second init rewrote the command policy")
	}
}

// TestInitKeepsOriginalSkillFiles: a HOME set up by the original Python
// skill keeps its files byte for byte, and clawwarden uses them.
func TestInitKeepsOriginalSkillFiles(t *testing.T) {
	bin := testenv.Binary(t, "")
	home := t.TempDir()
	sec := filepath.Join(home, ".openclaw", "security")
	os.MkdirAll(sec, 0o700)
	os.Chmod(filepath.Join(home, ".openclaw"), 0o700)
	original := map[string]string{
		"command-policy.json":     `{"allow": ["^systemctl status "], "deny": ["^rm "], "allow_exact": [], "deny_exact": []}` + "\n",
		"prompt-policy.json":      `{"require_confirmation_for_untrusted": true}` + "\n",
		"approved_ports.json":     `[{"port": 18789, "protocol": "tcp", "command": "node"}]` + "\n",
		"egress_allowlist.json":   `[{"protocol": "tcp", "host": "api.openai.com", "port": 443}]` + "\n",
		"root-session-state.json": `{"elevated": false, "last_activity": 1700000000.0}` + "\n",
		"privileged-audit.jsonl":  `{"timestamp": "2025-01-01T00:00:00Z", "event": "exec", "command": "systemctl status nginx"}` + "\n",
	}
	for name, content := range original {
		if err := os.WriteFile(filepath.Join(sec, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	code, out := cwRun(t, bin, home, "init", "--yes")
	if code != 0 {
		t.Fatalf("init: exit %d:\n%s", code, out)
	}
	for name, content := range original {
		got, _ := os.ReadFile(filepath.Join(sec, name))
		if string(got) != content {
			t.Errorf("%s changed:\n%s", name, got)
		}
	}
	if !strings.Contains(out, "kept "+filepath.Join(sec, "command-policy.json")+" (yours") || !strings.Contains(out, "+++ template") {
		t.Errorf("init did not show how the kept policy differs:\n%s", out)
	}
	// The original policy is the one in force.
	if code, _ := cwRun(t, bin, home, "policy", "check", "--", "systemctl", "restart", "nginx"); code != 3 {
		t.Errorf("original allow list not applied: exit %d", code)
	}
	code, out = cwRun(t, bin, home, "audit", "verify")
	if code != 0 || !strings.Contains(out, "1 legacy record") {
		t.Errorf("audit verify on the original log: exit %d: %s", code, out)
	}
	// --force replaces a file and keeps the original as a backup.
	code, out = cwRun(t, bin, home, "init", "--yes", "--force")
	if code != 0 {
		t.Fatalf("init --force: exit %d:\n%s", code, out)
	}
	backups, _ := filepath.Glob(filepath.Join(sec, "command-policy.json.bak-*"))
	if len(backups) != 1 {
		t.Fatalf("backups: %v", backups)
	}
	if got, _ := os.ReadFile(backups[0]); string(got) != original["command-policy.json"] {
		t.Errorf("backup content %q", got)
	}
}
