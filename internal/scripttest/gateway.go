package scripttest

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/clawwarden/clawwarden/internal/testenv"
)

// gatewayEnv lists what the gateway sees of the script's environment:
// testscript lends a command one variable at a time.
var gatewayEnv = []string{"HOME", "PATH", "TMPDIR", "LANG", "NO_COLOR", "USER",
	"OPENCLAW_STATE_DIR", "OPENCLAW_CONFIG_PATH", "OPENCLAW_PROFILE", "OPENCLAW_GATEWAY_TOKEN"}

// gatewayLimit stops a script whose gateway never listens nor exits; it
// measures nothing (a gateway that is slow to start is waited for).
const gatewayLimit = 10 * time.Minute

type gateway struct {
	cmd    *exec.Cmd
	done   chan struct{}
	log    string
	unlock func() // the host's testenv.EnforcedLock, held while it runs
}

// cmdGateway starts and stops a real OpenClaw gateway:
//
//	gateway start VAR [args...]   openclaw gateway run (or openclaw gateway
//	                              args, when given) on a free port, which VAR
//	                              is set to; returns once it accepts
//	                              connections on 127.0.0.1
//	gateway stop                  stop it and its workers
//
// A script runs one gateway at a time; it is stopped when the script ends.
// Its output goes to $WORK/gateway.log. While it runs it holds
// testenv.EnforcedLock, which enforced-mode tests hold while enforced mode
// is installed: enforce install refuses while a gateway runs as another
// account than the agent's.
func cmdGateway(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: gateway start VAR [args...] | gateway stop")
	}
	gw, _ := ts.Value(gatewayKey{}).(*gateway)
	switch {
	case args[0] == "stop" && len(args) == 1:
		if gw == nil || gw.cmd == nil {
			ts.Fatalf("gateway stop: no gateway running")
		}
		gw.stop()
		gw.cmd = nil
	case args[0] == "start" && len(args) >= 2:
		if gw == nil {
			ts.Fatalf("gateway: no state (use scripttest.Params)")
		}
		if gw.cmd != nil {
			ts.Fatalf("gateway start: one is running already")
		}
		gw.start(ts, args[1], args[2:])
	default:
		ts.Fatalf("usage: gateway start VAR [args...] | gateway stop")
	}
}

type gatewayKey struct{}

func (gw *gateway) start(ts *testscript.TestScript, name string, extra []string) {
	unlock, err := testenv.LockHost(testenv.EnforcedLock)
	ts.Check(err)
	gw.unlock = unlock
	started := false
	defer func() {
		if !started {
			gw.release()
		}
	}()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	var env []string
	for _, k := range gatewayEnv {
		if v := ts.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	oc := lookPath(ts.Getenv("PATH"), "openclaw")
	if oc == "" {
		ts.Fatalf("gateway start: openclaw is not on the script's PATH")
	}
	argv := []string{"gateway"}
	if len(extra) == 0 {
		argv = append(argv, "run")
	}
	argv = append(append(argv, extra...), "--port", strconv.Itoa(port))
	gw.log = ts.MkAbs("gateway.log")
	logf, err := os.OpenFile(gw.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	ts.Check(err)
	defer logf.Close()
	cmd := exec.Command(oc, argv...)
	cmd.Env, cmd.Dir = env, ts.MkAbs(".")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	ts.Check(cmd.Start())
	started = true
	gw.cmd, gw.done = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(gw.done) }()
	ts.Setenv(name, strconv.Itoa(port))

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	limit := time.After(gatewayLimit)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		select {
		case <-gw.done:
			log, _ := os.ReadFile(gw.log)
			gw.cmd = nil
			gw.release()
			ts.Fatalf("gateway exited before it listened on %s: %v\n%s", addr, cmd.ProcessState, log)
		case <-limit:
			gw.stop()
			gw.cmd = nil
			log, _ := os.ReadFile(gw.log)
			ts.Fatalf("gateway neither listened on %s nor exited in %v\n%s", addr, gatewayLimit, log)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop ends the gateway's process group and the workers it started in
// groups of their own: SIGTERM, then SIGKILL for what is left after 15s.
func (gw *gateway) stop() {
	pid := gw.cmd.Process.Pid
	workers := children(pid)
	syscall.Kill(-pid, syscall.SIGTERM)
	for _, w := range workers {
		syscall.Kill(w, syscall.SIGTERM)
	}
	select {
	case <-gw.done:
	case <-time.After(15 * time.Second):
		syscall.Kill(-pid, syscall.SIGKILL)
		<-gw.done
	}
	for _, w := range workers {
		syscall.Kill(w, syscall.SIGKILL)
	}
	gw.release()
}

// release gives up testenv.EnforcedLock.
func (gw *gateway) release() {
	if gw.unlock != nil {
		gw.unlock()
		gw.unlock = nil
	}
}

// children returns the pids whose parent is pid.
func children(pid int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		s := string(data)
		rest := s[strings.LastIndexByte(s, ')')+1:]
		f := strings.Fields(rest)
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, p)
		}
	}
	return out
}

// lookPath finds prog in the directories of path.
func lookPath(path, prog string) string {
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, prog)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}
