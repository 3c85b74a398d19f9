// Package sudo is clawwarden's client of the real sudo in same-user mode:
// it finds and validates the sudo binary, runs privileged commands through
// it so that no credentials are ever cached, and asks sudo — without running
// anything — whether a command would run with no password at all.
//
// # No cached credentials
//
// Every command runs as `sudo -k [OPTS] -- CMD`. With -k and a command, sudo
// neither uses nor stores a credential ticket: the password (where sudoers
// asks for one) is typed for this command only, and at no moment does a
// ticket exist that another process of the account could use with
// `/usr/bin/sudo -n`, not even while the command runs or after the calling
// guard was killed or stopped.
//
// # Ran, or refused by sudo
//
// sudo exits 1 both when the command exits 1 and when sudo itself refuses
// (wrong password, no terminal to ask on, not allowed). [Run] tells the two
// apart by reading sudo's own messages on standard error, which it makes
// sudo print in the C locale (LC_MESSAGES=C; sudo's env_reset does not pass
// it to the command unless sudoers keeps it), and reports a refusal as "not
// run" with sudo's words.
//
// # When the password is not the gate
//
// [Probe] runs `sudo -n -k -ll` (never a command, never a ticket) and looks
// up the command in the listed entries (see [List.Lookup]). sudo lists
// without a password exactly when its listpw setting allows (by default:
// when at least one of the account's entries is NOPASSWD); when it cannot
// list, no entry is NOPASSWD under the default listpw, so the password is
// the gate.
package sudo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/clawwarden/clawwarden/internal/rootfile"
)

// ErrInvalid is wrapped when the sudo binary is missing or unsafe.
var ErrInvalid = errors.New("invalid sudo binary")

// DefaultPaths lists where the system sudo is looked for.
var DefaultPaths = []string{"/usr/bin/sudo", "/bin/sudo", "/usr/local/bin/sudo"}

// realNames are the file names the real sudo has: sudo itself, the
// original sudo under Debian/Ubuntu's alternatives, and sudo-rs.
var realNames = []string{"sudo", "sudo.ws", "sudo-rs"}

// Check validates the sudo binary at path: absolute; after symlinks, a
// root-owned, setuid, not group/other-writable regular file named sudo
// (sudo, sudo.ws or sudo-rs) in root-owned, non-writable directories; and
// not this program (which would make the shim call itself). A setuid-root
// file of another name, such as /usr/bin/mount, is refused: running it as
// `mount -k -- CMD` is not what anyone approved.
func Check(path string) error {
	if !filepath.IsAbs(path) {
		return fmt.Errorf("%w: %q is not an absolute path", ErrInvalid, path)
	}
	target, err := rootfile.Check(path, rootfile.WantSetuid)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if !slices.Contains(realNames, filepath.Base(target)) {
		return fmt.Errorf("%w: %s is %s, not sudo (accepted names: %s)", ErrInvalid, path, target, strings.Join(realNames, ", "))
	}
	if self, err := os.Executable(); err == nil && sameFile(self, path) {
		return fmt.Errorf("%w: %s is clawwarden itself, not the real sudo (set OPENCLAW_REAL_SUDO)", ErrInvalid, path)
	}
	return nil
}

// Find returns the sudo to use: override when non-empty (OPENCLAW_REAL_SUDO),
// else the first of [DefaultPaths] that exists. It validates the choice.
func Find(override string) (string, error) {
	if override != "" {
		return override, Check(override)
	}
	for _, p := range DefaultPaths {
		if _, err := os.Lstat(p); err == nil {
			return p, Check(p)
		}
	}
	return "", fmt.Errorf("%w: sudo not found in %s (install it, or set OPENCLAW_REAL_SUDO)", ErrInvalid, strings.Join(DefaultPaths, ", "))
}

// FindOnPath returns the first sudo in the PATH list pathList that is not
// this program (the shim), validated; without one, [Find]("").
func FindOnPath(pathList string) (string, error) {
	self, _ := os.Executable()
	for _, dir := range filepath.SplitList(pathList) {
		if dir == "" || !filepath.IsAbs(dir) {
			continue
		}
		p := filepath.Join(dir, "sudo")
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if self != "" && sameFile(self, p) {
			continue
		}
		return p, Check(p)
	}
	return Find("")
}

func sameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// Env is the whole environment given to sudo (and, through sudo's
// env_reset, what the command may see of it): PATH, TERM, LANG and HOME from
// the caller when they are plain, and LC_MESSAGES=C so that sudo's own
// messages can be read by [Run]. Nothing else of the caller's gets through:
// no SUDO_EDITOR, VISUAL or EDITOR (sudoedit uses the editor sudoers names),
// no LD_*, no SUDO_ASKPASS.
func Env(getenv func(string) string) []string {
	env := []string{"PATH=" + rootfile.SecurePath}
	for _, k := range []string{"LANG", "TERM"} {
		if v := getenv(k); safeValue(v) {
			env = append(env, k+"="+v)
		}
	}
	if h := getenv("HOME"); h != "" && len(h) < 4096 && h[0] == '/' && plainPath(h) {
		env = append(env, "HOME="+h)
	}
	return append(env, "LC_MESSAGES=C")
}

// safeValue reports whether a passed-through LANG or TERM value is plain: 1
// to 64 of [A-Za-z0-9._@+-].
func safeValue(v string) bool {
	if len(v) == 0 || len(v) > 64 {
		return false
	}
	for _, c := range []byte(v) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("._@+-", c) >= 0) {
			return false
		}
	}
	return true
}

func plainPath(s string) bool {
	for _, c := range []byte(s) {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// Command is one privileged command to run through sudo.
type Command struct {
	Sudo   string   // the validated sudo binary
	Opts   []string // sudo options placed after -k and before "--" ("-e" for sudoedit)
	Argv   []string // the command (for sudoedit: the files)
	Env    []string // see [Env]
	Dir    string   // working directory; "" keeps the caller's
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// NoPassword: sudo needs no password for this command (see [Probe]), so
	// a message about a password cannot be sudo's own refusal.
	NoPassword bool
}

// Args returns sudo's arguments for c: -k, the options, "--", the command.
func (c Command) Args() []string {
	args := make([]string, 0, 2+len(c.Opts)+len(c.Argv))
	args = append(args, "-k")
	args = append(args, c.Opts...)
	args = append(args, "--")
	return append(args, c.Argv...)
}

// Result is how a run through sudo ended.
type Result struct {
	// Ran is false when sudo refused before starting the command: wrong or
	// missing password, no terminal to ask on, not allowed by sudoers.
	Ran bool
	// ExitCode is the command's exit status (128+N when killed by signal N);
	// meaningful only when Ran.
	ExitCode int
	// NotRun is sudo's own message when it refused.
	NotRun   string
	Duration time.Duration
}

// forwarded are the signals passed on to sudo, which relays them to the
// command.
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}

// Run runs `sudo -k [opts] -- argv…` with the given streams, forwarding
// signals to sudo, and returns how it ended. The error is non-nil only when
// sudo could not be started.
func Run(c Command) (Result, error) {
	cmd := exec.Command(c.Sudo, c.Args()...)
	cmd.Env = c.Env
	cmd.Dir = c.Dir
	stderr := c.Stderr
	if stderr == nil {
		stderr = io.Discard
	}
	scan := &refusalScanner{w: stderr, noPassword: c.NoPassword}
	stdout := &countingWriter{w: c.Stdout}
	if c.Stdout == nil {
		stdout.w = io.Discard
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.Stdin, stdout, scan
	// A command that leaves a background process holding standard error
	// open must not keep the guard waiting once the command itself ended.
	cmd.WaitDelay = time.Second
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Result{}, fmt.Errorf("start %s: %w", c.Sudo, err)
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	res := Result{Ran: true, Duration: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.ExitCode = 128 + int(ws.Signal())
		} else {
			res.ExitCode = ee.ExitCode()
		}
	case errors.Is(err, exec.ErrWaitDelay):
		// The command ended; a leftover holder of stderr was cut off.
	default:
		return res, fmt.Errorf("wait for %s: %w", c.Sudo, err)
	}
	if res.ExitCode == 1 && stdout.n == 0 {
		if msg := scan.refusal(); msg != "" {
			res.Ran, res.NotRun = false, msg
		}
	}
	return res, nil
}

// passwordMarks are fragments of sudo's (and sudo-rs's) messages, in the C
// locale, that mean it did not run the command for want of a password.
var passwordMarks = []string{
	"a password is required",
	"a terminal is required",
	"incorrect password attempt",
	"incorrect authentication attempt",
	"authentication failed",
	"no password was provided",
	"timed out reading password",
	"pam authentication error",
}

// refusalMarks are the other fragments that mean sudo did not run it.
var refusalMarks = []string{
	"is not allowed to execute",
	"is not in the sudoers file",
	"may not run sudo on",
	"you must have a tty",
	"account validation failure",
	"unable to execute",
	"command not found",
	"not allowed to run sudo",
}

// refusalScanner passes sudo's standard error through and remembers a
// refusal of sudo's: only among the first lines, before anything that is not
// a line of sudo's, since sudo refuses before the command runs; and not a
// password refusal when sudo needs no password. A command that prints lines
// like sudo's first thing and exits 1 can still pass for a refusal: the
// audit then says "not run" for a command a person approved.
type refusalScanner struct {
	w          io.Writer
	noPassword bool
	line       []byte
	found      string
	done       bool // a line that is not sudo's was seen
}

func (s *refusalScanner) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	if s.found == "" && !s.done {
		for _, b := range p {
			if b == '\n' {
				s.check()
				s.line = s.line[:0]
				continue
			}
			if len(s.line) < 512 {
				s.line = append(s.line, b)
			}
		}
	}
	if err != nil {
		return n, err
	}
	return len(p), nil
}

func (s *refusalScanner) check() {
	if s.done {
		return
	}
	l := string(bytes.TrimSpace(s.line))
	lower := strings.ToLower(l)
	if !strings.HasPrefix(lower, "sudo") && !strings.HasPrefix(lower, "sorry, user") {
		s.done = true
		return
	}
	marks := refusalMarks
	if !s.noPassword {
		marks = append(slices.Clone(passwordMarks), refusalMarks...)
	}
	for _, m := range marks {
		if strings.Contains(lower, m) {
			s.found = l
			return
		}
	}
}

// countingWriter counts what the command wrote to standard output: output
// means it ran.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// refusal returns sudo's refusal message, if it printed one.
func (s *refusalScanner) refusal() string {
	if s.found == "" && len(s.line) > 0 {
		s.check()
	}
	return s.found
}

// Need says what sudo needs before it runs a command for the account.
type Need int

// The answers of [Probe].
const (
	NeedUnknown    Need = iota // the entries could not be evaluated
	NeedPassword               // sudo asks for the password: the password is the gate
	NeedNothing                // NOPASSWD: any process of the account can run it
	NeedNotAllowed             // sudoers does not allow it at all
)

func (n Need) String() string {
	switch n {
	case NeedPassword:
		return "password"
	case NeedNothing:
		return "no password"
	case NeedNotAllowed:
		return "not allowed"
	}
	return "unknown"
}

// ProbeResult is what [Probe] found, with the evidence for people.
type ProbeResult struct {
	Need   Need
	Detail string
}

// Probe asks sudo, without running argv and without using or creating a
// credential ticket, whether it would run argv (argv[0] absolute) as root for
// this account with no password. env is [Env]'s.
func Probe(ctx context.Context, sudoPath string, argv []string, env []string) ProbeResult {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sudoPath, "-n", "-k", "-ll")
	cmd.Env = append(slices.Clone(env), "LC_ALL=C")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	msg := strings.TrimSpace(stderr.String())
	if err != nil {
		lower := strings.ToLower(msg)
		if strings.Contains(lower, "may not run sudo") || strings.Contains(lower, "not in the sudoers file") {
			return ProbeResult{Need: NeedNotAllowed, Detail: "this account may not run sudo"}
		}
		if strings.Contains(lower, "a password is required") {
			return ProbeResult{Need: NeedPassword, Detail: "sudo -n -l needs a password, so no sudo entry of this account is NOPASSWD (under the default listpw)"}
		}
		return ProbeResult{Need: NeedUnknown, Detail: fmt.Sprintf("sudo -n -k -ll: %v: %s", err, msg)}
	}
	list, err := ParseList(stdout.String())
	if err != nil {
		return ProbeResult{Need: NeedUnknown, Detail: fmt.Sprintf("sudo -n -k -ll: %v", err)}
	}
	m := list.Lookup(argv, "root")
	switch {
	case m.Unknown:
		return ProbeResult{Need: NeedUnknown, Detail: "sudo lists an entry clawwarden cannot evaluate: " + m.Command}
	case !m.Allowed:
		return ProbeResult{Need: NeedNotAllowed, Detail: "no sudo entry of this account allows it"}
	case m.NoPassword:
		return ProbeResult{Need: NeedNothing, Detail: "sudo runs it with no password (entry " + m.Command + ")"}
	}
	return ProbeResult{Need: NeedPassword, Detail: "sudo asks for the password (entry " + m.Command + ")"}
}
