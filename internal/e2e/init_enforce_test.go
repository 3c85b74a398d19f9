package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/schedule"
	"github.com/clawwarden/clawwarden/internal/testenv"
)

// TestInitEnforceThenUninstall runs `init --enforce --yes` as an
// unprivileged account (testenv.SetupName) with a real OpenClaw CLI on PATH:
// the sudo hook and the schedule are in place afterwards, and `hook
// uninstall` plus `schedule remove` take them away again.
func TestInitEnforceThenUninstall(t *testing.T) {
	// Slow (a real OpenClaw) and independent of the other tests, with an
	// account of its own: it runs beside the other slow ones.
	t.Parallel()
	u := testenv.RequireAccount(t, testenv.SetupName)
	cache := openclawCache()
	nodeBin := filepath.Join(cache, "node24", "node_modules", "node", "bin")
	ocBin := filepath.Join(cache, "openclaw", "node_modules", ".bin")
	if _, err := os.Stat(filepath.Join(ocBin, "openclaw")); err != nil {
		testenv.Skip(t, "OpenClaw is not installed in %s: run scripts/openclaw-env", cache)
	}
	bin := testenv.Binary(t, "")
	home := testenv.Home(t, u)
	env := testenv.Env(home, "NO_COLOR=1")
	for i, e := range env {
		if strings.HasPrefix(e, "PATH=") {
			env[i] = "PATH=" + strings.Join([]string{filepath.Dir(bin), nodeBin, ocBin, "/usr/local/bin", "/usr/bin", "/bin"}, ":")
		}
	}
	run := func(args ...string) (int, string) {
		c := testenv.Command(u, env, home, bin, args...)
		out, err := c.CombinedOutput()
		return testenv.ExitCode(err), string(out)
	}
	crontab := func() string {
		c := testenv.Command(u, env, home, "crontab", "-l")
		out, _ := c.CombinedOutput()
		return string(out)
	}
	t.Cleanup(func() { run("schedule", "remove"); run("hook", "uninstall") })

	code, out := run("init", "--enforce", "--yes")
	if code != 0 && code != 10 {
		t.Fatalf("init --enforce: exit %d:\n%s", code, out)
	}
	shim := filepath.Join(home, ".openclaw", "bin", "sudo")
	if target, err := os.Readlink(shim); err != nil || target != bin {
		t.Errorf("shim %s → %q (%v), want %s\n%s", shim, target, err, bin, out)
	}
	if code, out := run("hook", "status"); !strings.Contains(out, "pathPrepend      ok") {
		t.Errorf("hook status after init --enforce: exit %d:\n%s", code, out)
	}
	// The schedule is in effect only where a cron daemon runs to read it.
	if code, out := run("schedule", "status"); schedule.CronDaemon("/proc") > 0 && code != 0 ||
		schedule.CronDaemon("/proc") == 0 && (code != 10 || !strings.Contains(out, "installed: yes") || !strings.Contains(out, "no cron daemon is running")) {
		t.Errorf("schedule status after init --enforce: exit %d:\n%s", code, out)
	}
	if !strings.Contains(out, "approval passphrase") {
		t.Errorf("init did not mention the passphrase step:\n%s", out)
	}

	if code, out := run("hook", "uninstall"); code != 0 {
		t.Errorf("hook uninstall: exit %d:\n%s", code, out)
	}
	if code, out := run("schedule", "remove"); code != 0 {
		t.Errorf("schedule remove: exit %d:\n%s", code, out)
	}
	if _, err := os.Lstat(shim); err == nil {
		t.Error("the shim is still there after hook uninstall")
	}
	if code, _ := run("hook", "status"); code != 10 {
		t.Errorf("hook status after uninstall: exit %d, want 10", code)
	}
	if code, _ := run("schedule", "status"); code != 10 {
		t.Errorf("schedule status after remove: exit %d, want 10", code)
	}
	if strings.Contains(crontab(), "clawwarden") {
		t.Errorf("crontab still mentions clawwarden:\n%s", crontab())
	}
}
