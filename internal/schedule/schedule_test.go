package schedule

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clawwarden/clawwarden/internal/command"
	"github.com/clawwarden/clawwarden/internal/testenv"
	"github.com/clawwarden/clawwarden/internal/unitfile"
)

// fakeRunner records argv and answers from a table keyed by the joined argv
// (prefix match); unknown commands succeed with no output.
type fakeRunner struct {
	calls   []string
	answers map[string]string
	fail    map[string]bool
}

func (f *fakeRunner) runner() command.Runner {
	return command.Func(func(_ context.Context, c command.Cmd) (command.Output, error) {
		argv := strings.Join(append([]string{c.Name}, c.Args...), " ")
		f.calls = append(f.calls, argv)
		for k, bad := range f.fail {
			if bad && strings.HasPrefix(argv, k) {
				return command.Output{}, command.Fail(c, command.Output{}, errors.New("exit status 1"))
			}
		}
		for k, v := range f.answers {
			if strings.HasPrefix(argv, k) {
				return command.Output{Stdout: []byte(v)}, nil
			}
		}
		return command.Output{}, nil
	})
}

func lookAll(string) (string, error) { return "/usr/bin/x", nil }

var fixedNow = time.Date(2026, 11, 25, 10, 3, 0, 0, time.UTC)

func testConfig(t *testing.T, goos string, r command.Runner) Config {
	t.Helper()
	home := t.TempDir()
	exe := filepath.Join(t.TempDir(), "bin dir", "clawwarden")
	if err := os.MkdirAll(filepath.Dir(exe), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return Config{
		Home:        home,
		SecurityDir: filepath.Join(home, ".openclaw", "security"),
		Exe:         exe,
		User:        "alice",
		UID:         501,
		GOOS:        goos,
		Env:         []EnvVar{{"OPENCLAW_STATE_DIR", filepath.Join(home, ".openclaw")}},
		Runner:      r,
		LookPath:    lookAll,
		Now:         func() time.Time { return fixedNow },
	}
}

func TestDetect(t *testing.T) {
	none := func(string) (string, error) { return "", exec.ErrNotFound }
	only := func(names ...string) func(string) (string, error) {
		return func(n string) (string, error) {
			if slices.Contains(names, n) {
				return "/usr/bin/" + n, nil
			}
			return "", exec.ErrNotFound
		}
	}
	tests := []struct {
		name     string
		goos     string
		look     func(string) (string, error)
		userMgr  bool
		want     string
		wantNone bool
	}{
		{"systemd user manager", "linux", lookAll, true, Systemd, false},
		{"systemctl without user manager", "linux", lookAll, false, Cron, false},
		{"linux cron only", "linux", only("crontab"), true, Cron, false},
		{"macOS", "darwin", lookAll, false, Launchd, false},
		{"nothing", "linux", none, true, "", true},
		{"freebsd cron", "freebsd", lookAll, true, Cron, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &fakeRunner{fail: map[string]bool{"systemctl --user show-environment": !tt.userMgr}}
			c := Config{GOOS: tt.goos, LookPath: tt.look, Runner: r.runner()}
			got, err := Detect(c)
			if got != tt.want || errors.Is(err, ErrNoBackend) != tt.wantNone {
				t.Errorf("Detect = %q, %v; want %q (no backend: %v)", got, err, tt.want, tt.wantNone)
			}
		})
	}
}

func TestSystemdInstallRemove(t *testing.T) {
	r := &fakeRunner{answers: map[string]string{
		"systemctl --user show clawwarden-cycle.timer": "NextElapseUSecRealtime=Wed 2026-11-25 11:00:00 UTC\nLastTriggerUSec=n/a\n",
	}}
	c := testConfig(t, "linux", r.runner())
	res, err := Install(c, 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	svc := filepath.Join(c.Home, ".config/systemd/user", ServiceName)
	timer := filepath.Join(c.Home, ".config/systemd/user", TimerName)
	if res.State.Backend != Systemd || !slices.Equal(res.State.Paths, []string{svc, timer}) {
		t.Fatalf("state = %+v", res.State)
	}
	first, _ := os.ReadFile(svc)
	if _, err := Install(c, 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(svc)
	if string(first) != string(second) {
		t.Errorf("second install changed the service:\n%s\n---\n%s", first, second)
	}
	tdata, _ := os.ReadFile(timer)
	for _, want := range []string{"OnBootSec=5min\n", "OnUnitActiveSec=7200s\n", "Persistent=true\n", "WantedBy=timers.target\n"} {
		if !strings.Contains(string(tdata), want) {
			t.Errorf("timer lacks %q:\n%s", want, tdata)
		}
	}
	for _, want := range []string{"systemctl --user daemon-reload", "systemctl --user enable --now clawwarden-cycle.timer"} {
		if !slices.Contains(r.calls, want) {
			t.Errorf("missing call %q in %q", want, r.calls)
		}
	}
	verifyUnits(t, svc, timer)

	st, err := GetStatus(c)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Installed || st.NextRun != "Wed 2026-11-25 11:00:00 UTC" || st.LastRun != "" || st.Every != "2h0m0s" {
		t.Errorf("status = %+v", st)
	}

	os.Rename(timer, timer+".away")
	if st, err := GetStatus(c); err != nil || st.Installed || !strings.Contains(st.Detail, TimerName) {
		t.Errorf("status with the timer gone = %+v, %v", st, err)
	}
	os.Rename(timer+".away", timer)

	s, err := Remove(c)
	if err != nil || s == nil {
		t.Fatalf("Remove = %v, %v", s, err)
	}
	for _, p := range []string{svc, timer, filepath.Join(c.SecurityDir, StateFile)} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still exists after remove (%v)", p, err)
		}
	}
	if !slices.Contains(r.calls, "systemctl --user disable --now clawwarden-cycle.timer") {
		t.Errorf("remove did not disable the timer: %q", r.calls)
	}
	if s, err := Remove(c); s != nil || err != nil {
		t.Errorf("second Remove = %v, %v; want no-op", s, err)
	}
	if st, err := GetStatus(c); err != nil || st.Installed {
		t.Errorf("status after remove = %+v, %v", st, err)
	}
}

// verifyUnits runs systemd-analyze verify on the written units: it parses
// them as systemd does and checks that ExecStart's binary exists.
func verifyUnits(t *testing.T, units ...string) {
	t.Helper()
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Log("systemd-analyze not installed (Debian package systemd): units not verified")
		return
	}
	out, err := exec.Command("systemd-analyze", append([]string{"verify"}, units...)...).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

func TestSystemdVerifyAwkwardPaths(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		testenv.Skip(t, "systemd-analyze not installed (Debian package systemd)")
	}
	dir := t.TempDir()
	exe := filepath.Join(dir, `b in`, `claw 100%$HOME;*x`)
	if err := os.MkdirAll(filepath.Dir(exe), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	svc, err := RenderService(exe, []EnvVar{{"OPENCLAW_STATE_DIR", `/a b/"c"/50%/$x`}})
	if err != nil {
		t.Fatal(err)
	}
	units := filepath.Join(dir, "units")
	os.Mkdir(units, 0o700)
	os.WriteFile(filepath.Join(units, ServiceName), svc, 0o600)
	os.WriteFile(filepath.Join(units, TimerName), RenderTimer(time.Hour), 0o600)
	verifyUnits(t, filepath.Join(units, ServiceName), filepath.Join(units, TimerName))
	// A path that does not exist must be reported, proving verify looked.
	bad, _ := RenderService(exe+"-missing", nil)
	os.WriteFile(filepath.Join(units, ServiceName), bad, 0o600)
	out, err := exec.Command("systemd-analyze", "verify", filepath.Join(units, ServiceName)).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "-missing") {
		t.Errorf("verify accepted a missing ExecStart binary: %v\n%s", err, out)
	}
}

func TestLaunchdInstallRemove(t *testing.T) {
	r := &fakeRunner{fail: map[string]bool{"launchctl print": true}}
	c := testConfig(t, "darwin", r.runner())
	res, err := Install(c, 45*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(c.Home, "Library/LaunchAgents/ai.clawwarden.cycle.plist")
	if res.State.Backend != Launchd || !slices.Equal(res.State.Paths, []string{p}) {
		t.Fatalf("state = %+v", res.State)
	}
	data, err := os.ReadFile(p)
	if err != nil || !strings.Contains(string(data), "<integer>2700</integer>") {
		t.Errorf("plist: %v\n%s", err, data)
	}
	if want := "launchctl bootstrap gui/501 " + p; !slices.Contains(r.calls, want) {
		t.Errorf("missing %q in %q", want, r.calls)
	}
	if st, _ := GetStatus(c); !st.Installed || !strings.Contains(st.Detail, "not loaded") {
		t.Errorf("status = %+v", st)
	}
	if _, err := Remove(c); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("plist left behind: %v", err)
	}
	if !slices.Contains(r.calls, "launchctl bootout gui/501/ai.clawwarden.cycle") {
		t.Errorf("no bootout in %q", r.calls)
	}
}

func TestRemoveRefusesSymlinkedUnit(t *testing.T) {
	c := testConfig(t, "linux", (&fakeRunner{}).runner())
	if _, err := Install(c, time.Hour); err != nil {
		t.Fatal(err)
	}
	svc := filepath.Join(c.Home, ".config/systemd/user", ServiceName)
	os.Remove(svc)
	target := filepath.Join(t.TempDir(), "precious")
	os.WriteFile(target, []byte("x"), 0o600)
	os.Symlink(target, svc)
	if _, err := Remove(c); err == nil {
		t.Error("Remove followed or deleted a symlinked unit without complaint")
	}
	if _, err := os.Stat(target); err != nil {
		t.Errorf("symlink target damaged: %v", err)
	}
}

// crontabAs runs the real crontab as root on user's crontab (crontab -u
// USER …); other commands fail, as on a host without systemd.
func crontabAs(user string) command.Runner {
	return command.Func(func(ctx context.Context, c command.Cmd) (command.Output, error) {
		if c.Name != "crontab" {
			return command.Output{}, command.Fail(c, command.Output{}, errors.New("not available in this test"))
		}
		c.Args = append([]string{"-u", user}, c.Args...)
		return command.Exec{}.Run(ctx, c)
	})
}

// asUser runs crontab -l as the test user itself, to see what cron sees.
func asUser(t *testing.T, u *user.User) string {
	t.Helper()
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	cmd := exec.Command("crontab", "-l")
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/"}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}}
	out, err := cmd.CombinedOutput()
	if err != nil && !strings.Contains(string(out), "no crontab") {
		t.Fatalf("crontab -l as %s: %v\n%s", u.Username, err, out)
	}
	if err != nil {
		return ""
	}
	return string(out)
}

// TestCronRoundTrip installs into a real crontab (the unprivileged user
// clawwarden-test's, restored afterwards), checks the other lines survive
// byte for byte, that install twice leaves one line, and that remove takes
// out only that line.
func TestCronRoundTrip(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Skip(t, "needs root to edit the test user's crontab: run ./scripts/test as root")
	}
	if _, err := exec.LookPath("crontab"); err != nil {
		testenv.Skip(t, "crontab missing: apt-get install cron (scripts/test installs it)")
	}
	u, err := user.Lookup("clawwarden-test")
	if err != nil {
		testenv.Skip(t, "test user clawwarden-test missing: run ./scripts/test-user setup as root")
	}
	r := crontabAs(u.Username)
	before := asUser(t, u)
	t.Cleanup(func() {
		if before == "" {
			exec.Command("crontab", "-u", u.Username, "-r").Run()
			return
		}
		f := filepath.Join(t.TempDir(), "restore")
		os.WriteFile(f, []byte(before), 0o600)
		if out, err := exec.Command("crontab", "-u", u.Username, f).CombinedOutput(); err != nil {
			t.Errorf("restore crontab: %v\n%s", err, out)
		}
	})
	const others = "# keep me\nMAILTO=\"\"\n0 4 * * *  /usr/bin/true   # trailing spaces  \n"
	seed := filepath.Join(t.TempDir(), "seed")
	os.WriteFile(seed, []byte(others), 0o600)
	if out, err := exec.Command("crontab", "-u", u.Username, seed).CombinedOutput(); err != nil {
		t.Fatalf("seed crontab: %v\n%s", err, out)
	}

	c := testConfig(t, "linux", r)
	c.LookPath = exec.LookPath
	c.User = u.Username
	res, err := Install(c, 7*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rounded != 6*time.Minute || res.State.Backend != Cron {
		t.Errorf("result = %+v", res)
	}
	if _, err := Install(c, 7*time.Minute); err != nil {
		t.Fatal(err)
	}
	got := asUser(t, u)
	if !strings.HasPrefix(got, others) || strings.Count(got, CronMarker) != 1 {
		t.Errorf("crontab after two installs:\n%s", got)
	}
	if !strings.Contains(got, "*/6 * * * * HOME='"+c.Home+"' OPENCLAW_STATE_DIR=") {
		t.Errorf("crontab line not as expected:\n%s", got)
	}
	c.CronDaemon = func() int { return 0 }
	st, err := GetStatus(c)
	if err != nil || !st.Installed || st.Running || st.InEffect() || st.NextRun != "" || !strings.Contains(st.Detail, "no cron daemon is running") {
		t.Errorf("status without a cron daemon = %+v, %v", st, err)
	}
	c.CronDaemon = func() int { return 4242 }
	st, err = GetStatus(c)
	if err != nil || !st.InEffect() || st.NextRun != "2026-11-25T10:06:00Z" || !strings.Contains(st.Detail, "cron daemon running (pid 4242)") {
		t.Errorf("status = %+v, %v", st, err)
	}
	if _, err := os.Lstat(filepath.Join(c.SecurityDir, ".crontab.tmp")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary crontab file left behind: %v", err)
	}
	if _, err := Remove(c); err != nil {
		t.Fatal(err)
	}
	if got := asUser(t, u); got != others {
		t.Errorf("crontab after remove = %q, want %q", got, others)
	}
}

// memCrontab is a crontab kept in memory, answering `crontab -l` and
// `crontab FILE` as the real one does.
func memCrontab(tab *string) command.Runner {
	return command.Func(func(_ context.Context, c command.Cmd) (command.Output, error) {
		switch {
		case c.Name == "crontab" && len(c.Args) == 1 && c.Args[0] == "-l":
			if *tab == "" {
				out := command.Output{Stderr: []byte("no crontab for alice\n")}
				return out, command.Fail(c, out, errors.New("exit status 1"))
			}
			return command.Output{Stdout: []byte(*tab)}, nil
		case c.Name == "crontab" && len(c.Args) == 1:
			data, err := os.ReadFile(c.Args[0])
			*tab = string(data)
			return command.Output{}, err
		}
		return command.Output{}, command.Fail(c, command.Output{}, errors.New("not available in this test"))
	})
}

// TestCronInMemory installs into an empty crontab and reads the status back.
func TestCronInMemory(t *testing.T) {
	var tab string
	c := testConfig(t, "linux", memCrontab(&tab))
	c.LookPath = func(n string) (string, error) {
		if n == "crontab" {
			return "/usr/bin/crontab", nil
		}
		return "", exec.ErrNotFound
	}
	if _, err := Install(c, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, ok := unitfile.CronLine(tab, CronMarker); !ok {
		t.Errorf("crontab after install lacks our line:\n%s", tab)
	}
	c.CronDaemon = func() int { return 1 }
	st, err := GetStatus(c)
	if err != nil || !st.Installed || st.NextRun == "" {
		t.Errorf("GetStatus = %+v, %v", st, err)
	}
	if _, err := Remove(c); err != nil || tab != "" {
		t.Errorf("after Remove: crontab %q, error %v", tab, err)
	}
}

// TestCronDaemon finds a process named cron in the real /proc: a copy of
// sleep named cron stands in for the daemon (the name is what is read).
func TestCronDaemon(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		testenv.Skip(t, "sleep missing: %v", err)
	}
	data, err := os.ReadFile(sleep)
	if err != nil {
		t.Fatal(err)
	}
	fake := filepath.Join(t.TempDir(), "cron")
	if err := os.WriteFile(fake, data, 0o755); err != nil {
		t.Fatal(err)
	}
	before := CronDaemon("/proc")
	cmd := exec.Command(fake, "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	switch got := CronDaemon("/proc"); {
	case before != 0 && got == 0:
		t.Error("a running cron daemon was not found")
	case before == 0 && os.Geteuid() == 0 && got != cmd.Process.Pid:
		t.Errorf("CronDaemon = %d, want %d", got, cmd.Process.Pid)
	case before == 0 && os.Geteuid() != 0 && got != 0:
		// Any account can name a process cron: only root's counts.
		t.Errorf("a process named cron of uid %d was taken for the daemon (pid %d)", os.Geteuid(), got)
	}
	// A /proc with no cron in it.
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "7"), 0o755)
	os.WriteFile(filepath.Join(dir, "7", "comm"), []byte("crontab\n"), 0o644)
	if got := CronDaemon(dir); got != 0 {
		t.Errorf("crontab taken for the daemon: %d", got)
	}
}
