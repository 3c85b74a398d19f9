package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/testenv"
)

// shimFixture installs ~/.openclaw/bin/sudo and sudoedit → clawwarden for
// the test user, the way `clawwarden hook install` does, and puts them first
// on PATH.
func shimFixture(t *testing.T) (*fixture, string) {
	f := newFixture(t)
	return f, shimInstall(t, f)
}

// shimInstall installs the shims into f's home and PATH and returns the
// sudo shim's path.
func shimInstall(t *testing.T, f *fixture) string {
	bin := filepath.Join(f.home, ".openclaw", "bin")
	for _, d := range []string{filepath.Join(f.home, ".openclaw"), bin} {
		os.Mkdir(d, 0o700)
		os.Chown(d, int(f.u.UID), int(f.u.GID))
	}
	for _, name := range []string{"sudo", "sudoedit"} {
		p := filepath.Join(bin, name)
		if err := os.Symlink(f.bin, p); err != nil {
			t.Fatal(err)
		}
		os.Lchown(p, int(f.u.UID), int(f.u.GID))
	}
	for i, e := range f.env {
		if strings.HasPrefix(e, "PATH=") {
			f.env[i] = "PATH=" + bin + ":/usr/local/bin:/usr/bin:/bin"
		}
	}
	return filepath.Join(bin, "sudo")
}

// sudo runs the shim as the test user, without a terminal.
func (f *fixture) sudo(extraEnv []string, stdin string, args ...string) (int, string) {
	f.t.Helper()
	c := testenv.Command(f.u, append(append([]string{}, f.env...), extraEnv...), f.home, "sudo", args...)
	c.Path = filepath.Join(f.home, ".openclaw", "bin", "sudo")
	c.Stdin = strings.NewReader(stdin)
	out, err := c.CombinedOutput()
	return testenv.ExitCode(err), string(out)
}

// sudoConsole runs the shim on a pseudo-terminal.
func (f *fixture) sudoConsole(args ...string) *testenv.Console {
	c := testenv.Command(f.u, f.env, f.home, "sudo", args...)
	c.Path = filepath.Join(f.home, ".openclaw", "bin", "sudo")
	return testenv.Start(f.t, c)
}

func TestShimPassthroughReachesRealSudo(t *testing.T) {
	f, _ := shimFixture(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-V"}, "Sudo version"},
		{[]string{"--version"}, "Sudo version"},
		{[]string{"-h"}, "usage: sudo"},
		{[]string{"-n", "-l"}, "may run the following commands"},
		{[]string{"-l", "/usr/bin/id"}, "/usr/bin/id"},
		{[]string{"-k"}, ""},
		{[]string{"-K"}, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out := f.sudo(nil, "", tt.args...)
			if code != 0 || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d, want 0 and %q in:\n%s", code, tt.want, out)
			}
			if strings.Contains(out, "clawwarden shim") || strings.Contains(out, "clawwarden:") {
				t.Errorf("passthrough went through clawwarden:\n%s", out)
			}
		})
	}
}

func TestShimRefusals(t *testing.T) {
	f, _ := shimFixture(t)
	sudoLines := len(testenv.SudoLogLines(testenv.UserName))
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		msg   string
	}{
		{"sudo -n id", "", []string{"-n", "id"}, 1, "non-interactive"},
		{"echo y | sudo id", "y\n", []string{"id"}, 1, "no terminal"},
		{"sudo -S id", "secret\n", []string{"-S", "id"}, 1, "non-interactive"},
		{"sudo -s", "", []string{"-s"}, 3, "opens a root shell"},
		{"sudo -u root -i", "", []string{"-u", "root", "-i"}, 3, "runs the command as another user"},
		{"sudo -su root", "", []string{"-su", "root"}, 3, "opens a root shell"},
		{"sudo -E env", "", []string{"-E", "env"}, 3, "keeps the caller's environment"},
		{"sudo --preserve-env=PATH id", "", []string{"--preserve-env=PATH", "id"}, 3, "keeps the caller's environment"},
		{"sudo VAR=x id", "", []string{"LD_PRELOAD=/tmp/x.so", "id"}, 3, "environment"},
		{"sudo -e", "", []string{"-e", "/etc/sudoers"}, 3, "edits files"},
		{"sudo -D / id", "", []string{"-D", "/", "id"}, 3, "another directory"},
		{"sudo -v", "", []string{"-v"}, 3, "cached credentials"},
		{"sudo --bogus", "", []string{"--bogus", "id"}, 64, "unknown option"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := f.sudo(nil, tt.stdin, tt.args...)
			if code != tt.code || !strings.Contains(out, tt.msg) {
				t.Errorf("exit %d, want %d with %q:\n%s", code, tt.code, tt.msg, out)
			}
			if strings.Contains(out, "uid=0") {
				t.Errorf("ran as root:\n%s", out)
			}
		})
	}
	// On a terminal, bash -c passes the shim and is refused by the guard's
	// built-in rules before anyone is asked.
	c := f.sudoConsole("bash", "-c", "id")
	if code := c.Wait(); code != 3 || !strings.Contains(c.Output(), "builtin:shell") {
		t.Errorf("sudo bash -c: exit %d, want 3:\n%s", code, c.Output())
	}
	if after := len(testenv.SudoLogLines(testenv.UserName)); after != sudoLines {
		t.Errorf("refused invocations reached sudo:\n%s", strings.Join(testenv.SudoLogLines(testenv.UserName)[sudoLines:], "\n"))
	}
}

func TestShimApprovedCommandRuns(t *testing.T) {
	f, _ := shimFixture(t)
	c := f.sudoConsole("id", "-u")
	c.Expect(`command:  /usr/bin/id -u`)
	c.Expect(`\[y/N\] `)
	c.Send("y\n")
	c.Expect(`\n0\r*\n`)
	if code := c.Wait(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, c.Output())
	}
	// The command's own exit status comes back.
	c = f.sudoConsole("sh", "-c", "exit 7")
	if code := c.Wait(); code != 3 {
		t.Errorf("sudo sh -c: exit %d, want 3 (refused)", code)
	}
	c = f.sudoConsole("/usr/bin/id", "-u", "clawwarden-no-such-user")
	c.Expect(`\[y/N\] `)
	c.Send("y\n")
	if code := c.Wait(); code != 1 || !strings.Contains(c.Output(), "no such user") {
		t.Errorf("sudo id -u clawwarden-no-such-user: exit %d, want id's 1:\n%s", code, c.Output())
	}
	// y piped on stdin while a terminal is present approves nothing.
	cmd := testenv.Command(f.u, f.env, f.home, "sudo", "id")
	cmd.Path = filepath.Join(f.home, ".openclaw", "bin", "sudo")
	cmd.Stdin = strings.NewReader("y\ny\n")
	c = testenv.Start(t, cmd)
	c.Expect(`\[y/N\] `)
	c.Send("n\n")
	if code := c.Wait(); code != 1 || strings.Contains(c.Output(), "uid=0") {
		t.Errorf("echo y | sudo id on a terminal: exit %d:\n%s", code, c.Output())
	}
	if n := f.events("request", ""); n < 2 {
		t.Errorf("audit has %d requests from the shim", n)
	}
}

func TestShimCannotCallItself(t *testing.T) {
	f, shim := shimFixture(t)
	// OPENCLAW_REAL_SUDO pointing at the shim is refused, not followed.
	code, out := f.sudo([]string{"OPENCLAW_REAL_SUDO=" + shim}, "", "-V")
	if code != 9 || !strings.Contains(out, "invalid sudo binary") {
		t.Errorf("OPENCLAW_REAL_SUDO=shim: exit %d, want 9:\n%s", code, out)
	}
	// A second copy of the shim earlier on PATH is skipped too.
	other := filepath.Join(f.home, "other")
	os.Mkdir(other, 0o755)
	os.Symlink(f.bin, filepath.Join(other, "sudo"))
	env := []string{"PATH=" + other + ":" + filepath.Dir(shim) + ":/usr/bin:/bin"}
	code, out = f.sudo(env, "", "-V")
	if code != 0 || !strings.Contains(out, "Sudo version") {
		t.Errorf("two shims on PATH: exit %d:\n%s", code, out)
	}
	// With no real sudo on PATH it falls back to the system sudo, never itself.
	code, out = f.sudo([]string{"PATH=" + filepath.Dir(shim)}, "", "-V")
	if code != 0 || !strings.Contains(out, "Sudo version") {
		t.Errorf("only the shim on PATH: exit %d:\n%s", code, out)
	}
}

func TestShimNonInteractiveWhenAllowedNeedsAPerson(t *testing.T) {
	f, _ := shimFixture(t)
	allow := []string{"OPENCLAW_ALLOW_NONINTERACTIVE_SUDO=1"}
	g := testenv.Command(f.u, append(append([]string{}, f.env...), allow...), f.home, "sudo", "-n", "/usr/bin/id", "-u")
	g.Path = filepath.Join(f.home, ".openclaw", "bin", "sudo")
	g.Stdin = strings.NewReader("y\n")
	var out strings.Builder
	g.Stdout, g.Stderr = &out, &out
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	id := f.waitPending(t)
	c := f.console(nil, "approve", id)
	c.Expect(`command:  /usr/bin/id -u`)
	c.Expect(`\[y/N\] `)
	c.Send("y\n")
	if code := c.Wait(); code != 0 {
		t.Fatalf("approve: exit %d:\n%s", code, c.Output())
	}
	if code := testenv.ExitCode(g.Wait()); code != 0 || !strings.Contains(out.String(), "0\n") {
		t.Fatalf("sudo -n after approval: exit %d:\n%s", code, out.String())
	}
}

func TestShimRiskyOptionsNamedByPolicy(t *testing.T) {
	f, _ := shimFixture(t)
	f.writePolicy(`{"allow_exact": [["sudo", "-u", "root", "/usr/bin/id", "-u"]]}`)
	c := f.sudoConsole("-u", "root", "/usr/bin/id", "-u")
	c.Expect(`command:  sudo --user=root -- /usr/bin/id -u`)
	c.Expect(`\[y/N\] `)
	c.Send("y\n")
	c.Expect(`\n0\r*\n`)
	if code := c.Wait(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, c.Output())
	}
	// One more argument is no longer named: refused.
	if code, out := f.sudo(nil, "", "-u", "root", "/usr/bin/id", "-u", "-n"); code != 3 {
		t.Errorf("extra argument: exit %d, want 3:\n%s", code, out)
	}
}
