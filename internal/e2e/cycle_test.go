package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/safefile"
	"github.com/clawwarden/clawwarden/internal/testenv"
)

// cwRun runs the clawwarden binary as the current user with HOME and the
// OpenClaw state in a fresh directory.
func cwRun(t *testing.T, bin, home string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "OPENCLAW_STATE_DIR="+filepath.Join(home, ".openclaw"), "PATH=/usr/bin:/bin")
	out, err := cmd.CombinedOutput()
	return testenv.ExitCode(err), string(out)
}

func TestCycleRunsEveryStepAndLogs(t *testing.T) {
	bin := testenv.Binary(t, "")
	home := t.TempDir()
	code, out := cwRun(t, bin, home, "cycle", "--json")
	if code != 0 && code != 10 {
		t.Fatalf("cycle: exit %d:\n%s", code, out)
	}
	var res struct {
		Steps []struct {
			Step     string `json:"step"`
			ExitCode int    `json:"exit_code"`
		} `json:"steps"`
		ExitCode int    `json:"exit_code"`
		Log      string `json:"log"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	var names []string
	for _, s := range res.Steps {
		names = append(names, s.Step)
		if s.ExitCode != 0 && s.ExitCode != 10 {
			t.Errorf("step %s: exit %d", s.Step, s.ExitCode)
		}
	}
	if got := strings.Join(names, " "); got != "preflight ports egress assess notify" {
		t.Errorf("steps %q", got)
	}
	if res.ExitCode != code {
		t.Errorf("reported exit %d, process exit %d", res.ExitCode, code)
	}
	logPath := filepath.Join(home, ".openclaw", "logs", "cyber-security-engineer-auto.log")
	if res.Log != logPath {
		t.Errorf("log %q, want %q", res.Log, logPath)
	}
	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"cycle start", "step ports: exit", "step assess: exit", "cycle end"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("log lacks %q", want)
		}
	}
	for _, f := range []string{"port-monitor-latest.json", "egress-monitor-latest.json", "openclaw-assessment.json", "compliance-summary.json", "compliance-dashboard.html"} {
		if _, err := os.Stat(filepath.Join(home, ".openclaw", "skills", "cyber-security-engineer", "assessments", f)); err != nil {
			t.Errorf("cycle did not write %s: %v", f, err)
		}
	}
	if fi, _ := os.Stat(logPath); fi.Mode().Perm() != 0o600 {
		t.Errorf("log mode %v", fi.Mode())
	}

	// One cycle at a time: with the lock held, a second cycle does nothing.
	lock, err := safefile.TryLockFor(logPath)
	if err != nil {
		t.Fatal(err)
	}
	code, out = cwRun(t, bin, home, "cycle")
	lock.Unlock()
	if code != 0 || !strings.Contains(out, "another cycle is running") {
		t.Errorf("second cycle: exit %d:\n%s", code, out)
	}
	if after, _ := os.ReadFile(logPath); len(after) != len(data) {
		t.Error("a second cycle appended to the log while the first held the lock")
	}
}
