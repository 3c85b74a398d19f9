// Package scripttest runs clawwarden's end-to-end testscript files
// (testdata/script/*.txtar): it makes the test binary act as clawwarden
// when the scripts run it, and adds the commands the scripts need beyond
// testscript's own:
//
//	exits N prog [args...]   run prog and require exit status N (or one
//	                         of a list: exits 0,10 prog)
//	asuser prog [args...]    run prog as the unprivileged test user
//	                         (scripts/test-user) in a new session, with no
//	                         controlling terminal; "exits N asuser prog"
//	                         combines the two
//	listen tcp|udp ADDR [VAR]
//	                         hold a listener on ADDR until the script ends
//	                         and set VAR (default PORT) to its port
//	userhome VAR             create an empty home owned by the test user,
//	                         reachable by it, and set VAR to its path
//	defer prog [args...]     run prog when the script ends, pass or fail,
//	                         ignoring its status (cleanup outside $WORK)
//	gateway start VAR [args...] | gateway stop
//	                         run a real OpenClaw gateway (openclaw from the
//	                         script's PATH) on a free port, set VAR to it,
//	                         and return once it listens; see cmdGateway
//	pty DIALOG prog [args...]
//	                         run prog on a new pseudo-terminal that is its
//	                         controlling terminal and standard streams, and
//	                         hold the dialog in file DIALOG with it: lines
//	                         "expect REGEXP" wait for output, "send TEXT"
//	                         types TEXT and a newline ($VARS expanded),
//	                         "stdin" gives prog the script's stdin instead of
//	                         the terminal; stdout is all the terminal showed. "exits N asuser pty DIALOG prog"
//	                         combines all three.
//
// In exits and asuser, prog "clawwarden" is always the clawwarden under
// test, whatever PATH the script has set; $CLAWWARDEN is its path. Scripts
// see $TESTPID (the process that holds the listeners) and the conditions
// [root], [testuser] (root, setpriv, setsid and the test user exist) and
// [usercrontab] (the test user has a crontab), [crond] (a cron daemon
// runs) and [have:PROG] (PROG is on PATH). [root], [testuser] and
// [have:PROG] are what the host provides: with CLAWWARDEN_TEST_STRICT=1 an
// unmet one fails the script instead of letting it skip.
//
// It is imported only by tests.
package scripttest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/clawwarden/clawwarden/internal/schedule"
	"github.com/clawwarden/clawwarden/internal/sockets/sockettest"
	"github.com/clawwarden/clawwarden/internal/testenv"
)

// TestUser is the unprivileged account scripts/test-user creates.
const TestUser = "clawwarden-test"

// Main runs the tests of m; when the test binary is started by a script as
// clawwarden, it runs main instead, which returns the exit status (main nil:
// the scripts run a clawwarden binary, see Params). It also lets the test
// binary act as the pty command's driver. Call it from TestMain.
func Main(m testscript.TestingM, main func() int) {
	cmds := map[string]func(){ptyDriver: func() { os.Exit(ptyMain()) }}
	if main != nil {
		cmds["clawwarden"] = func() { os.Exit(main()) }
	}
	testscript.Main(m, cmds)
}

// Run runs every script in dir as a parallel subtest, with the test binary
// as clawwarden (see Main).
func Run(t *testing.T, dir string) {
	t.Helper()
	testscript.Run(t, Params(dir, binary(t)))
}

// Params returns the parameters for running the scripts in dir with bin as
// the clawwarden under test. The pty command needs Main in TestMain.
func Params(dir, bin string) testscript.Params {
	return testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Values[gatewayKey{}] = &gateway{}
			env.Defer(func() {
				if gw := env.Values[gatewayKey{}].(*gateway); gw.cmd != nil {
					gw.stop()
				}
			})
			env.Setenv("TESTPID", strconv.Itoa(os.Getpid()))
			env.Setenv("CLAWWARDEN", bin)
			return nil
		},
		Condition: condition,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":    func(ts *testscript.TestScript, neg bool, args []string) { run(ts, bin, neg, "exits", args) },
			"asuser":   func(ts *testscript.TestScript, neg bool, args []string) { run(ts, bin, neg, "asuser", args) },
			"pty":      func(ts *testscript.TestScript, neg bool, args []string) { run(ts, bin, neg, "pty", args) },
			"listen":   cmdListen,
			"userhome": cmdUserhome,
			"defer":    cmdDefer,
			"gateway":  cmdGateway,
		},
	}
}

// binary returns a copy of the test binary named clawwarden in a directory
// every user can reach (the test user runs it too), removed when the test
// ends.
func binary(t *testing.T) string {
	t.Helper()
	return sockettest.CopyTestBinary(t, "clawwarden")
}

func condition(cond string) (bool, error) {
	switch cond {
	case "root":
		return need(cond, os.Geteuid() == 0, "needs root")
	case "testuser":
		_, err := testUser()
		return need(cond, err == nil, fmt.Sprint(err))
	case "usercrontab":
		return exec.Command("crontab", "-u", TestUser, "-l").Run() == nil, nil
	case "crond":
		return schedule.CronDaemon("/proc") > 0, nil
	}
	if prog, ok := strings.CutPrefix(cond, "have:"); ok {
		_, err := exec.LookPath(prog)
		return need(cond, err == nil, prog+" is not installed")
	}
	return false, fmt.Errorf("unknown condition %q", cond)
}

// need is a condition about what the host provides ([root], [testuser],
// [have:PROG]), which scripts use to skip: with CLAWWARDEN_TEST_STRICT=1 an
// unmet one fails the script instead, as testenv.Skip does for Go tests.
func need(cond string, met bool, why string) (bool, error) {
	if !met && testenv.Strict() {
		return false, fmt.Errorf("%s=1: the host lacks [%s]: %s", testenv.StrictEnv, cond, why)
	}
	return met, nil
}

// testUser returns the test user, or why it cannot be used.
func testUser() (*user.User, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("needs root")
	}
	for _, prog := range []string{"setpriv", "setsid"} {
		if _, err := exec.LookPath(prog); err != nil {
			return nil, fmt.Errorf("needs %s (util-linux)", prog)
		}
	}
	u, err := user.Lookup(TestUser)
	if err != nil {
		return nil, fmt.Errorf("test user %s missing: run ./scripts/test-user setup as root", TestUser)
	}
	return u, nil
}

// run implements exits, asuser and pty, which may prefix each other in that
// order.
func run(ts *testscript.TestScript, bin string, neg bool, name string, args []string) {
	var want []int // nil: any non-zero status with !, else 0
	var as *user.User
	var dialog string
	for {
		switch name {
		case "exits":
			if neg {
				ts.Fatalf("use exits N instead of ! exits")
			}
			if len(args) < 2 {
				ts.Fatalf("usage: exits N prog [args...]")
			}
			for _, f := range strings.Split(args[0], ",") {
				n, err := strconv.Atoi(f)
				if err != nil || n < 0 {
					ts.Fatalf("exits: bad status %q", args[0])
				}
				want = append(want, n)
			}
			args = args[1:]
		case "asuser":
			if len(args) < 1 {
				ts.Fatalf("usage: asuser prog [args...]")
			}
			u, err := testUser()
			if err != nil {
				ts.Fatalf("asuser: %v (guard the script with [!testuser] skip)", err)
			}
			as = u
		case "pty":
			if len(args) < 2 {
				ts.Fatalf("usage: pty DIALOG prog [args...]")
			}
			dialog, args = ts.MkAbs(args[0]), args[1:]
		}
		if dialog != "" || (args[0] != "exits" && args[0] != "asuser" && args[0] != "pty") {
			break
		}
		name, args = args[0], args[1:]
	}
	prog, rest := args[0], args[1:]
	if prog == "clawwarden" {
		prog = bin
	}
	if as != nil {
		setpriv, err := exec.LookPath("setpriv")
		ts.Check(err)
		if dialog == "" {
			// Without pty, in a session of its own: no controlling
			// terminal, as an agent's commands run.
			setsid, err := exec.LookPath("setsid")
			ts.Check(err)
			rest = append([]string{setsid, "--wait", prog}, rest...)
		} else {
			rest = append([]string{prog}, rest...)
		}
		rest = append([]string{"--reuid=" + as.Uid, "--regid=" + as.Gid, "--clear-groups"}, rest...)
		prog = setpriv
	}
	if dialog != "" {
		driver, err := exec.LookPath(ptyDriver)
		if err != nil {
			ts.Fatalf("pty needs scripttest.Main in TestMain: %v", err)
		}
		rest = append([]string{dialog, prog}, rest...)
		prog = driver
	}
	err := ts.Exec(prog, rest...)
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("%s: %v", args[0], err)
		}
		code = ee.ExitCode()
	}
	switch {
	case want != nil && !slices.Contains(want, code):
		ts.Fatalf("%s: exit status %d, want %s", args[0], code, strings.Trim(fmt.Sprint(want), "[]"))
	case want == nil && neg && code == 0:
		ts.Fatalf("%s: unexpected success", args[0])
	case want == nil && !neg && code != 0:
		ts.Fatalf("%s: exit status %d, want 0", args[0], code)
	}
}

// cmdListen holds a listener until the script ends.
func cmdListen(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: listen tcp|udp ADDR [VAR]")
	}
	name := "PORT"
	if len(args) == 3 {
		name = args[2]
	}
	var port int
	switch args[0] {
	case "tcp", "tcp4", "tcp6":
		l, err := net.Listen(args[0], args[1])
		ts.Check(err)
		ts.Defer(func() { l.Close() })
		port = l.Addr().(*net.TCPAddr).Port
	case "udp", "udp4", "udp6":
		c, err := net.ListenPacket(args[0], args[1])
		ts.Check(err)
		ts.Defer(func() { c.Close() })
		port = c.LocalAddr().(*net.UDPAddr).Port
	default:
		ts.Fatalf("listen: unknown network %q", args[0])
	}
	ts.Setenv(name, strconv.Itoa(port))
}

// cmdUserhome creates a home directory for the test user.
func cmdUserhome(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: userhome VAR")
	}
	u, err := testUser()
	if err != nil {
		ts.Fatalf("userhome: %v", err)
	}
	// The script's work directory is private to root: use one the test
	// user can traverse.
	base, err := os.MkdirTemp("", "clawwarden-script-home-")
	ts.Check(err)
	ts.Defer(func() { os.RemoveAll(base) })
	ts.Check(os.Chmod(base, 0o755))
	home := filepath.Join(base, "home")
	ts.Check(os.Mkdir(home, 0o700))
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	ts.Check(os.Chown(home, uid, gid))
	ts.Setenv(args[0], home)
}

// cmdDefer runs a command when the script ends.
func cmdDefer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: defer prog [args...]")
	}
	prog, err := exec.LookPath(args[0])
	ts.Check(err)
	ts.Defer(func() { exec.Command(prog, args[1:]...).Run() })
}
