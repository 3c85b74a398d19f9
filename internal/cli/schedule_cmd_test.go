package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/schedule"
	"github.com/clawwarden/clawwarden/internal/testenv"
)

// memCrontab is a crontab kept in memory, driven through the argv that
// package schedule uses (crontab -l, crontab FILE).
type memCrontab struct {
	content string
	has     bool
}

func (m *memCrontab) Run(name string, args ...string) ([]byte, error) {
	switch {
	case name == "crontab" && len(args) == 1 && args[0] == "-l":
		if !m.has {
			return []byte("no crontab for test\n"), fmt.Errorf("crontab -l: exit status 1")
		}
		return []byte(m.content), nil
	case name == "crontab" && len(args) == 1:
		data, err := os.ReadFile(args[0])
		if err != nil {
			return nil, err
		}
		m.content, m.has = string(data), true
		return nil, nil
	}
	return nil, fmt.Errorf("%s %q: not available in this test", name, args)
}

// scheduleFakes installs runner and a PATH lookup that finds only the named
// commands, restoring the real ones after the test.
func scheduleFakes(t *testing.T, r schedule.Runner, found ...string) {
	t.Helper()
	oldR, oldL := scheduleRunner, scheduleLookPath
	t.Cleanup(func() { scheduleRunner, scheduleLookPath = oldR, oldL })
	scheduleRunner = r
	scheduleLookPath = func(name string) (string, error) {
		for _, f := range found {
			if f == name {
				return "/usr/bin/" + name, nil
			}
		}
		return "", exec.ErrNotFound
	}
}

func TestScheduleUsageAndNotInstalled(t *testing.T) {
	hookEnv(t)
	scheduleFakes(t, &memCrontab{}, "crontab")
	tests := []struct {
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{[]string{"schedule", "install", "--every", "1m"}, ExitUsage, "", "the minimum is 5m0s"},
		{[]string{"schedule", "install", "--every", "often"}, ExitUsage, "", "want a Go duration"},
		{[]string{"schedule", "install", "extra"}, ExitUsage, "", "takes no arguments"},
		{[]string{"schedule", "status"}, ExitFindings, "installed: no\n", ""},
		{[]string{"schedule", "remove"}, ExitOK, "not installed: nothing to remove\n", ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := runCW(t, tt.args...)
			if code != tt.wantCode || !strings.Contains(out, tt.wantOut) || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, out, errOut)
			}
		})
	}
	code, out, _ := runCW(t, "schedule", "status", "--json")
	var st schedule.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != ExitFindings || st.Installed || st.Paths == nil {
		t.Errorf("status --json: exit %d, %v\n%s", code, err, out)
	}
}

func TestScheduleNoBackend(t *testing.T) {
	hookEnv(t)
	scheduleFakes(t, &memCrontab{})
	code, _, errOut := runCW(t, "schedule", "install")
	if code != ExitFindings || !strings.Contains(errOut, "no scheduler available") || !strings.Contains(errOut, "hint: install cron") {
		t.Errorf("exit %d, want %d\n%s", code, ExitFindings, errOut)
	}
}

func TestScheduleCronInProcess(t *testing.T) {
	if runtime.GOOS == "darwin" {
		t.Skip("launchd is preferred on macOS")
	}
	hookEnv(t)
	m := &memCrontab{content: "0 1 * * * /usr/bin/backup\n", has: true}
	scheduleFakes(t, m, "crontab")
	for range 2 {
		code, out, errOut := runCW(t, "schedule", "install", "--every", "45m")
		if code != ExitOK || !strings.Contains(out, "rounded to 30m0s") || !strings.Contains(out, "scheduled: clawwarden cycle every 30m0s (cron)") {
			t.Fatalf("install: exit %d\n%s%s", code, out, errOut)
		}
	}
	if strings.Count(m.content, schedule.CronMarker) != 1 || !strings.HasPrefix(m.content, "0 1 * * * /usr/bin/backup\n*/30 * * * * ") {
		t.Errorf("crontab:\n%s", m.content)
	}
	code, out, _ := runCW(t, "schedule", "status", "--json")
	var st schedule.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != ExitOK || !st.Installed || st.Backend != "cron" || st.NextRun == "" {
		t.Errorf("status --json: exit %d, %v\n%s", code, err, out)
	}
	code, out, _ = runCW(t, "schedule", "remove")
	if code != ExitOK || m.content != "0 1 * * * /usr/bin/backup\n" {
		t.Errorf("remove: exit %d\n%s\ncrontab: %q", code, out, m.content)
	}
}

// TestScheduleCronAsUser runs the real binary as the unprivileged test user,
// who has no systemd user manager here, so the real crontab is used.
func TestScheduleCronAsUser(t *testing.T) {
	u := testenv.RequireUser(t)
	if _, err := exec.LookPath("crontab"); err != nil {
		t.Skip("crontab missing: apt-get install cron (scripts/test installs it)")
	}
	if out, err := exec.Command("crontab", "-u", u.Name, "-l").CombinedOutput(); err == nil {
		t.Skipf("%s already has a crontab; not touching it:\n%s", u.Name, out)
	}
	t.Cleanup(func() { exec.Command("crontab", "-u", u.Name, "-r").Run() })
	bin := testenv.Binary(t, "")
	home := testenv.Home(t, u)
	run := func(args ...string) (int, string) {
		cmd := testenv.Command(u, testenv.Env(home), home, bin, args...)
		out, err := cmd.CombinedOutput()
		return testenv.ExitCode(err), string(out)
	}
	if code, out := run("schedule", "install", "--every", "2h"); code != 0 || !strings.Contains(out, "(cron)") {
		t.Fatalf("install: exit %d\n%s", code, out)
	}
	run("schedule", "install", "--every", "2h")
	tab, _ := exec.Command("crontab", "-u", u.Name, "-l").CombinedOutput()
	if strings.Count(string(tab), schedule.CronMarker) != 1 || !strings.Contains(string(tab), "'"+bin+"' cycle") {
		t.Errorf("crontab after install twice:\n%s", tab)
	}
	code, out := run("schedule", "status")
	if code != 0 || !strings.Contains(out, "backend: cron") || !strings.Contains(out, "next run: ") {
		t.Errorf("status: exit %d\n%s", code, out)
	}
	if code, out := run("schedule", "remove"); code != 0 {
		t.Errorf("remove: exit %d\n%s", code, out)
	}
	tab, _ = exec.Command("crontab", "-u", u.Name, "-l").CombinedOutput()
	if strings.Contains(string(tab), schedule.CronMarker) {
		t.Errorf("line left after remove:\n%s", tab)
	}
	if code, _ := run("schedule", "status"); code != ExitFindings {
		t.Errorf("status after remove: exit %d, want %d", code, ExitFindings)
	}
}
