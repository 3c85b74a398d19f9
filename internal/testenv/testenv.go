// Package testenv gives end-to-end tests the real components they need: the
// clawwarden binary, the unprivileged test user that scripts/test-user
// creates with its sudoers rule, homes owned by that user, and a
// pseudo-terminal to answer prompts on. It is imported only by tests.
package testenv

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

// UserName is the unprivileged user scripts/test-user creates, with
// NOPASSWD rules for a few commands and password rules for others.
const UserName = "clawwarden-test"

// PasswordUserName is the second test user, whose sudo rules all need a
// password: the same-user setup the README recommends.
const PasswordUserName = "clawwarden-pw"

// SudoLog is where sudo logs the test user's commands (scripts/test-user).
const SudoLog = "/var/log/clawwarden-test-sudo.log"

// User is the test user.
type User struct {
	Name     string
	UID, GID uint32
}

// RequireUser skips the test unless it runs as root and the test user with
// its sudoers rule exists.
func RequireUser(t testing.TB) User {
	t.Helper()
	return requireUser(t, UserName)
}

// Accounts of the enforced-mode tests: the agent and two approvers, with no
// sudo rules of their own (scripts/test-user).
const (
	AgentName = "clawwarden-agent"
	AliceName = "clawwarden-alice"
	BobName   = "clawwarden-bob"
)

// SetupName is the account `init --enforce` is tested as: no sudo rules and
// no other test, so that test runs beside the others without touching the
// sudo log they count (scripts/test-user).
const SetupName = "clawwarden-setup"

// RequireAccount is [RequireUser] for another account scripts/test-user
// creates.
func RequireAccount(t testing.TB, name string) User {
	t.Helper()
	return requireUser(t, name)
}

// RequirePasswordUser is [RequireUser] for [PasswordUserName].
func RequirePasswordUser(t testing.TB) User {
	t.Helper()
	return requireUser(t, PasswordUserName)
}

func requireUser(t testing.TB, name string) User {
	t.Helper()
	if os.Geteuid() != 0 {
		Skip(t, "needs root: run ./scripts/test as root (it creates the test user and sudoers rule)")
	}
	if _, err := exec.LookPath("sudo"); err != nil {
		Skip(t, "sudo is not installed: run ./scripts/test as root, which installs it")
	}
	u, err := user.Lookup(name)
	if err != nil {
		Skip(t, "test user %s missing: run ./scripts/test-user setup as root", name)
	}
	if _, err := os.Stat("/etc/sudoers.d/" + UserName); err != nil {
		Skip(t, "sudoers rule for %s missing: run ./scripts/test-user setup as root", name)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return User{Name: name, UID: uint32(uid), GID: uint32(gid)}
}

var (
	buildOnce sync.Map // tags → *buildResult
)

type buildResult struct {
	once sync.Once
	path string
	err  error
}

// Binary builds clawwarden once per test process (with the given build tags)
// into a world-readable directory the test user can execute from.
//
// CLAWWARDEN_TEST_BINARY names a prebuilt binary to test instead, e.g. an
// earlier version, to show that a new end-to-end test fails on it.
func Binary(t testing.TB, tags string) string {
	t.Helper()
	if p := os.Getenv("CLAWWARDEN_TEST_BINARY"); p != "" {
		return p
	}
	v, _ := buildOnce.LoadOrStore(tags, &buildResult{})
	br := v.(*buildResult)
	br.once.Do(func() {
		dir, err := os.MkdirTemp("", "clawwarden-bin-")
		if err != nil {
			br.err = err
			return
		}
		os.Chmod(dir, 0o755)
		br.path = filepath.Join(dir, "clawwarden")
		args := []string{"build", "-o", br.path}
		if tags != "" {
			args = append(args, "-tags", tags)
		}
		// The root helper and the agent's sudo of enforced mode are built
		// beside it, from the same build, as a release ships them (enforce
		// install checks that).
		for _, pkg := range []string{"clawwarden", "clawwarden-root", "clawwarden-sudo"} {
			a := append(slices.Clone(args), "github.com/clawwarden/clawwarden/cmd/"+pkg)
			a[2] = filepath.Join(dir, pkg)
			cmd := exec.Command("go", a...)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				br.err = fmt.Errorf("go build: %v\n%s", err, out)
				return
			}
		}
	})
	if br.err != nil {
		t.Fatal(br.err)
	}
	return br.path
}

// Home creates an empty home directory owned by u (mode 0700) inside a
// world-traversable temporary directory, removed after the test.
func Home(t testing.TB, u User) string {
	t.Helper()
	base, err := os.MkdirTemp("", "clawwarden-home-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	os.Chmod(base, 0o755)
	home := filepath.Join(base, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(home, int(u.UID), int(u.GID)); err != nil {
		t.Fatal(err)
	}
	return home
}

// Env is a minimal environment for the test user with the given HOME plus
// extra entries (a later entry for the same variable wins).
func Env(home string, extra ...string) []string {
	return append([]string{"HOME=" + home, "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "TERM=xterm", "USER=" + UserName}, extra...)
}

// RootProcess reports whether a process running as root has exactly argv
// as its command line (read from /proc).
func RootProcess(argv ...string) bool {
	want := strings.Join(argv, "\x00")
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || strings.TrimRight(string(data), "\x00") != want {
			continue
		}
		var st syscall.Stat_t
		if syscall.Stat(fmt.Sprintf("/proc/%d", pid), &st) == nil && st.Uid == 0 {
			return true
		}
	}
	return false
}

// KillRoot kills every root process whose command line is exactly argv.
func KillRoot(argv ...string) {
	want := strings.Join(argv, "\x00")
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err == nil && strings.TrimRight(string(data), "\x00") == want {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// Eventually polls cond until it holds, failing the test after a generous
// limit meant only to stop a hung test, not to measure anything.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Command returns a command that runs as u without a controlling terminal
// (in a new session), in dir.
func Command(u User, env []string, dir string, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = env
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setsid:     true,
		Credential: &syscall.Credential{Uid: u.UID, Gid: u.GID, Groups: []uint32{}},
	}
	return cmd
}

// Console is a process running on a pseudo-terminal that is its controlling
// terminal, with expect-style helpers.
type Console struct {
	t    testing.TB
	Cmd  *exec.Cmd
	pty  *os.File
	mu   sync.Mutex
	buf  bytes.Buffer
	seen int
	done chan struct{} // closed when the process has exited
	eof  chan struct{} // closed when the terminal has no writer left and all it held is read
	err  error
}

// Start runs cmd (built by Command) with a new pseudo-terminal as its
// controlling terminal and standard streams, unless cmd already has Stdin
// set, in which case only stdout/stderr and the controlling terminal are the
// pty.
func Start(t testing.TB, cmd *exec.Cmd) *Console {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	if cmd.Stdin == nil {
		cmd.Stdin = tty
	}
	cmd.Stdout, cmd.Stderr = tty, tty
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setsid = true
	cmd.SysProcAttr.Setctty = true
	// Ctty is a descriptor number in the child: the pty must be one of its
	// standard streams.
	cmd.SysProcAttr.Ctty = 1
	if err := cmd.Start(); err != nil {
		ptmx.Close()
		tty.Close()
		t.Fatal(err)
	}
	tty.Close()
	c := &Console{t: t, Cmd: cmd, pty: ptmx, done: make(chan struct{}), eof: make(chan struct{})}
	go c.read()
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			cmd.Process.Kill()
			<-c.done
		}
		ptmx.Close()
	})
	return c
}

func (c *Console) read() {
	defer close(c.eof)
	b := make([]byte, 4096)
	for {
		n, err := c.pty.Read(b)
		c.mu.Lock()
		c.buf.Write(b[:n])
		c.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// Exited reports whether the process has ended.
func (c *Console) Exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Output returns everything the process wrote so far.
func (c *Console) Output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// Expect waits until output after the last match matches re, and returns
// the match. It fails the test after a generous limit meant only to stop a
// hung test, not to measure anything.
func (c *Console) Expect(re string) string {
	c.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		rest := c.buf.String()[c.seen:]
		if loc := rx.FindStringIndex(rest); loc != nil {
			c.seen += loc[1]
			c.mu.Unlock()
			return rest[loc[0]:loc[1]]
		}
		c.mu.Unlock()
		select {
		case <-c.done:
			c.drain()
			c.mu.Lock()
			rest = c.buf.String()[c.seen:]
			c.mu.Unlock()
			if loc := rx.FindStringIndex(rest); loc != nil {
				c.seen += loc[1]
				return rest[loc[0]:loc[1]]
			}
			c.t.Fatalf("process exited before printing %q; output:\n%s", re, c.Output())
		case <-time.After(20 * time.Millisecond):
		}
	}
	c.t.Fatalf("timed out waiting for %q; output:\n%s", re, c.Output())
	return ""
}

// Send types s on the terminal.
func (c *Console) Send(s string) {
	c.t.Helper()
	if _, err := c.pty.Write([]byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

// Wait waits for the process and returns its exit status.
func (c *Console) Wait() int {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(60 * time.Second):
		c.t.Fatalf("process did not exit; output:\n%s", c.Output())
	}
	c.drain()
	return ExitCode(c.err)
}

// drain waits, once the process has exited, until the reader has taken
// everything the terminal holds: the master reads EIO once the last
// writer is gone and its buffer is empty. A process the command left
// behind may still hold the terminal; the limit only stops a hung test.
func (c *Console) drain() {
	select {
	case <-c.eof:
	case <-time.After(30 * time.Second):
	}
}

// ExitCode returns the exit status carried by err from exec.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// SudoLogLines returns the lines of the sudo log for the test user that
// mention needle.
func SudoLogLines(needle string) []string {
	data, _ := os.ReadFile(SudoLog)
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, needle) {
			out = append(out, l)
		}
	}
	return out
}

// SetPassword gives u a random password and returns it.
func SetPassword(t testing.TB, u User) string {
	t.Helper()
	pw := "cw-" + rand.Text()
	cmd := exec.Command("chpasswd")
	cmd.Stdin = strings.NewReader(u.Name + ":" + pw + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chpasswd: %v: %s", err, out)
	}
	return pw
}

// EnforcedLock is the [LockHost] lock that keeps enforced mode's tests
// apart from what needs the host without enforced mode.
const EnforcedLock = "enforced"

// LockHost takes the host-wide test lock name (safefile.LockFor on a file
// in the temporary directory), waiting for whoever holds it, in this test
// process or another one: the suite runs its slow end-to-end tests in a
// second go test process beside the rest. unlock releases it.
//
// [EnforcedLock] is held by every enforced-mode test for as long as its
// enforced mode is installed, and by whatever needs the host without it:
// an OpenClaw gateway running as another account than the agent's (enforce
// install refuses then: a route to root), an assessment that judges
// same-user mode.
func LockHost(name string) (unlock func(), err error) {
	l, err := safefile.LockFor(filepath.Join(os.TempDir(), "clawwarden-test-"+name))
	if err != nil {
		return nil, err
	}
	return func() { l.Unlock() }, nil
}
