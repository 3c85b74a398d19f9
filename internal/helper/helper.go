// Package helper is enforced mode's root helper: the one program the agent's
// account may run through sudo. It turns a request into a pending approval,
// waits for a person's signed decision, and runs exactly the file it hashed
// with nothing of the agent's but the request data.
//
// It imports only what a request needs and treats everything it inherits
// from sudo as hostile: it starts like a setuid program (see startup),
// reads no environment variable but SUDO_UID (which sudo sets) and no file
// of the agent's, parses one small argument grammar (ParseArgs), and holds
// no lock while it waits. Its configuration, state, queue and audit log are
// root's (package rootside).
//
// The steps of a request, each in the audit log:
//
//  1. check the caller (SUDO_UID is the configured agent account; no
//     inherited supplementary groups, which sudo -P would keep);
//  2. resolve the command to a root-owned file, open it and hash the open
//     file;
//  3. apply the root-side command policy;
//  4. copy agent-writable files named in argv to root-owned staging, hashed,
//     and rewrite argv to the copies (such requests cannot be kept);
//  5. reuse an approval an approver kept for exactly this request, after
//     verifying its signature against today's allowed signers; otherwise
//  6. file the request (at most MaxPending per account) for the approvers,
//     notify, and wait, up to the approval timeout on the monotonic clock,
//     for a decision signed by an allowed signer that names this request's
//     bytes, this host and a live scope;
//  7. record the request id as consumed and the command as started
//     (durably) — if that record cannot be written, nothing runs;
//  8. run the hashed file (through /proc/self/fd) as root with a fixed
//     environment, /dev/null as standard input, output through pipes, in /
//     unless the working directory is root's and not writable by others;
//     audit and return its exit status.
package helper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/clawwarden/clawwarden/internal/audit"
	"github.com/clawwarden/clawwarden/internal/policy"
	"github.com/clawwarden/clawwarden/internal/rootfile"
	"github.com/clawwarden/clawwarden/internal/rootside"
	"github.com/clawwarden/clawwarden/internal/signed"
)

// Exit statuses of the helper's own refusals; otherwise the command's.
const (
	ExitDenied         = 1  // no approval: refused, expired, signature invalid, request void
	ExitPolicyBlock    = 3  // the root-side command policy refused it
	ExitInvalidCommand = 8  // not a root-owned file, or a request that cannot be filed
	ExitUsage          = 64 // not a request in the helper's grammar
	ExitInternal       = 70 // the helper could not do its job (audit log unwritable, …)
	ExitNotPermitted   = 77 // not run as root through sudo by the agent account
)

// testNow replaces the clock in test builds only (testclock.go).
var testNow func() time.Time

// safePath is the PATH of the command run as root.
const safePath = rootfile.SecurePath

// Main runs one request and returns the exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	caller, inherited, err := startup()
	if err != nil {
		fmt.Fprintf(stderr, "clawwarden-root: %v\n", err)
		return ExitNotPermitted
	}
	h := &helper{layout: rootside.Layout{}, stdout: stdout, stderr: stderr, now: time.Now, inherited: inherited, caller: caller}
	if testNow != nil {
		h.now = testNow
	}
	return h.main(args)
}

type helper struct {
	layout    rootside.Layout
	settings  rootside.Settings
	stdout    io.Writer
	stderr    io.Writer
	now       func() time.Time
	inherited []int
	caller    string // SUDO_UID, read before the environment was cleared

	log   *audit.Log
	held  []audit.Record
	req   signed.Request
	id    string
	rule  string
	agent *user.User
	gids  []int
}

func (h *helper) say(format string, args ...any) {
	fmt.Fprintf(h.stderr, "clawwarden-root: "+format+"\n", args...)
}

// hold keeps records for the next audit append: a request that goes on to
// run is recorded in two appends (each fsynced), not one per step; a
// refusal, a pending request or a run appends what was held first.
func (h *helper) hold(recs ...audit.Record) {
	h.stamp(recs)
	h.held = append(h.held, recs...)
}

// audit appends the held records and recs, stamped with the request's
// fields, in one write.
func (h *helper) audit(recs ...audit.Record) error {
	h.stamp(recs)
	all := append(h.held, recs...)
	h.held = nil
	return h.log.Append(all...)
}

func (h *helper) stamp(recs []audit.Record) {
	for i := range recs {
		r := &recs[i]
		r.Time = h.now().UTC()
		if r.Argv == nil {
			r.Argv = h.req.Argv
		}
		r.Cwd = h.req.Cwd
		r.UID = h.settings.AgentUID
		r.SessionID = h.req.TaskID
		r.Reason = h.req.Reason
		r.RequestID = h.id
	}
}

// refuse audits a refusal and returns the status.
func (h *helper) refuse(code int, rule, format string, args ...any) int {
	msg := fmt.Sprintf(format, args...)
	h.say("%s", msg)
	if h.log != nil {
		h.audit(audit.Record{Event: "refused", Decision: "refused", Rule: rule, Detail: "enforced: " + msg})
	}
	return code
}

func (h *helper) main(args []string) int {
	var err error
	h.settings, err = h.layout.LoadSettings()
	if err != nil {
		h.say("%v", err)
		return ExitNotPermitted
	}
	h.log = h.layout.Audit(h.settings, func(err error) { h.say("warning: %v", err) })
	caller, err := strconv.Atoi(h.caller)
	if err != nil || caller != h.settings.AgentUID {
		return h.refuse(ExitNotPermitted, "caller", "the root helper serves only the agent account %s (uid %d) through sudo, not uid %q",
			h.settings.AgentUser, h.settings.AgentUID, h.caller)
	}
	if h.agent, err = user.LookupId(strconv.Itoa(caller)); err != nil {
		return h.refuse(ExitNotPermitted, "caller", "the agent account uid %d is unknown: %v", caller, err)
	}
	if gids, err := h.agent.GroupIds(); err == nil {
		for _, g := range gids {
			if n, err := strconv.Atoi(g); err == nil {
				h.gids = append(h.gids, n)
			}
		}
	}
	if g := h.keptGroups(); len(g) > 0 {
		return h.refuse(ExitNotPermitted, "sudo -P", "sudo kept the caller's groups %v (sudo -P): refused, the command would run with them", g)
	}
	switch inv, err := sudoOptions(os.Getppid()); {
	case err != nil:
		return h.refuse(ExitNotPermitted, "sudo", "%v", err)
	case inv.Has("background"):
		return h.refuse(ExitNotPermitted, "sudo -b", "sudo -b runs the request detached from the agent's sudo, out of its sight and reach: refused; run it without -b")
	}
	a, err := ParseArgs(args)
	if err != nil {
		return h.refuse(ExitUsage, "grammar", "%v", err)
	}
	return h.request(a)
}

// keptGroups lists inherited supplementary groups that are the agent's and
// not root's: sudo -P (preserve groups) keeps them.
func (h *helper) keptGroups() []int {
	var out []int
	for _, g := range h.inherited {
		if g != 0 && slices.Contains(h.gids, g) {
			out = append(out, g)
		}
	}
	return out
}

func (h *helper) request(a Args) int {
	// Where the command runs: the caller's directory only when it is root's
	// and no one else can write it (or anything above it), else /. The
	// policy, staging and the approver all see that directory, since that
	// is where relative arguments will point.
	dir := "/"
	if cwd, err := os.Getwd(); err == nil && rootOnly(cwd) {
		dir = cwd
	}
	id := signed.NewID()
	h.req = signed.Request{ID: id, InstallID: h.settings.InstallID, Account: h.settings.AgentUser, UID: h.settings.AgentUID,
		Argv: a.Argv, Cwd: dir, Reason: a.Reason, TaskID: a.Task, Scope: signed.Scope{Once: true}}
	h.id = h.req.IDString()
	if a.Keep > 0 {
		h.req.Scope = signed.Scope{Idle: a.Keep.Round(time.Minute)}
		if h.req.Scope.Idle < time.Minute {
			h.req.Scope.Idle = time.Minute
		}
	}
	h.hold(audit.Record{Event: "request", Detail: "enforced: via the root helper (pid " + strconv.Itoa(os.Getpid()) + "), runs in " + dir})

	// 2. The command: a root-owned file, opened and hashed. Names under
	// /proc, /dev and /sys (a process's exe, /dev/stdin) are refused: they
	// alias other files past the policy's names.
	abs, err := rootfile.Resolve(a.Argv[0])
	if err != nil {
		return h.refuse(ExitInvalidCommand, "resolve", "%v", err)
	}
	target, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return h.refuse(ExitInvalidCommand, "resolve", "%v", err)
	}
	for _, p := range []string{abs, target} {
		if pseudoFS(p) {
			return h.refuse(ExitInvalidCommand, "resolve", "%s names a file through /proc, /dev or /sys: give the program's own path", p)
		}
	}
	bin, sum, err := rootfile.Open(abs)
	if err != nil {
		return h.refuse(ExitInvalidCommand, "resolve", "%v", err)
	}
	defer bin.Close()
	h.req.Argv = append([]string{abs}, a.Argv[1:]...)
	h.req.Binary, h.req.BinarySHA256 = abs, sum

	// 3. The root-side policy, for the path as named and for the file it
	// leads to (an innocently named link to a shell is still a shell),
	// unless allow_exact names the command.
	pol, err := policy.Load(h.layout.PolicyFile())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return h.refuse(ExitPolicyBlock, "policy", "the command policy cannot be read: %v", err)
	}
	dec := pol.DecideIn(dir, a.Argv, abs)
	if dec.Allowed && target != abs && !strings.HasPrefix(dec.Rule, "allow_exact") {
		if d2 := pol.DecideIn(dir, append([]string{target}, a.Argv[1:]...), target); !d2.Allowed {
			dec = d2
		}
	}
	h.rule = dec.Rule
	if !dec.Allowed {
		h.audit(audit.Record{Event: "policy", Decision: "deny", Rule: dec.Rule, Detail: dec.Reason})
		return h.refuse(ExitPolicyBlock, dec.Rule, "refused by the command policy: %s (rule %s)", dec.Reason, dec.Rule)
	}

	// 4. Agent-writable inputs become root-owned copies.
	defer os.RemoveAll(filepath.Join(h.layout.StagingDir(), h.id))
	if err := h.stage(); err != nil {
		return h.refuse(ExitInvalidCommand, "stage", "%v", err)
	}
	now := h.now()
	h.req.Created = now.UTC().Truncate(time.Second)
	h.req.Expires = h.req.Created.Add(time.Duration(h.settings.ApprovalTimeout))
	if err := h.req.Validate(); err != nil {
		return h.refuse(ExitInvalidCommand, "request", "%v", err)
	}
	reqBytes := h.req.Marshal()
	if len(reqBytes) > h.settings.MaxRequestBytes {
		return h.refuse(ExitInvalidCommand, "request", "the request is %d bytes (at most %d)", len(reqBytes), h.settings.MaxRequestBytes)
	}
	h.hold(audit.Record{Event: "policy", Decision: "allow", Rule: dec.Rule,
		Detail: fmt.Sprintf("enforced: binary %s (%s) sha256 %s; %d staged input(s)", abs, target, sum, len(h.req.Staged))})

	// 5. An approval kept for exactly this request.
	key := Key{UID: h.req.UID, Argv: h.req.Argv, Binary: abs, BinarySHA256: sum, Cwd: dir, Task: a.Task}
	if signer, ok := h.keptApproval(key); ok {
		if err := h.audit(audit.Record{Event: "approval", Decision: "approved", Detail: "enforced: kept approval",
			Approver: principal(signer), KeyFP: signed.Fingerprint(signer.Key)}); err != nil {
			h.say("refusing: the audit log cannot be written: %v", err)
			return ExitInternal
		}
		h.layout.ShareAudit()
		return h.execute(bin)
	}

	// 6. File it and wait for a signed decision.
	d, signer, sig, decBytes, code := h.waitForDecision(reqBytes, dec.Rule)
	if code != 0 {
		return code
	}
	// 7. Consumed and started, durably, before anything runs.
	if h.layout.IsConsumed(h.id) {
		return h.refuse(ExitDenied, "consumed", "request %s was already used", h.id)
	}
	if err := h.layout.MarkConsumed(h.id, h.now()); err != nil {
		return h.refuse(ExitInternal, "consumed", "cannot record the request as consumed, so it does not run: %v", err)
	}
	rec := audit.Record{Event: "approval", Decision: "approved", Detail: "enforced: signed decision, scope " + d.Scope.String(),
		Approver: principal(signer), KeyFP: signed.Fingerprint(signer.Key)}
	if err := h.audit(rec); err != nil {
		h.say("refusing: the audit log cannot be written: %v", err)
		return ExitInternal
	}
	if !d.Scope.Once && len(h.req.Staged) == 0 {
		h.keep(key, reqBytes, decBytes, sig, d.Scope.Idle)
	}
	return h.execute(bin)
}

func principal(s signed.Signer) string { return strings.Join(s.Principals, ",") }

// execute is step 8. The command runs in the directory the request names
// (h.req.Cwd: the agent's working directory when it is root's and not
// writable by others, else /), which the approver saw.
func (h *helper) execute(bin *os.File) int {
	stdout, stderr := newRelay(h.stdout), newRelay(h.stderr)
	cmd := &exec.Cmd{
		Path:       "/proc/self/fd/3",
		Args:       h.req.Argv,
		Env:        []string{"PATH=" + safePath, "HOME=/root", "LANG=C.UTF-8", "PAGER=cat", "SYSTEMD_PAGER=", "TERM=dumb", "USER=root", "LOGNAME=root"},
		Dir:        h.req.Cwd,
		ExtraFiles: []*os.File{bin},
		Stdout:     stdout,
		Stderr:     stderr,
		WaitDelay:  time.Second,
		SysProcAttr: &syscall.SysProcAttr{
			Setsid:     true,
			Credential: &syscall.Credential{Uid: 0, Gid: 0, Groups: []uint32{0}},
			// If the helper dies (only root can kill it now), so does the
			// command: nothing runs as root without its result recorded.
			Pdeathsig: syscall.SIGKILL,
		},
	}
	// A SIGTERM to the helper (from sudo) reaches the command.
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	// Pdeathsig belongs to the thread that forks: keep this goroutine on it
	// until the command ends.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		h.audit(audit.Record{Event: "result", Decision: "not run", Detail: "enforced: " + err.Error()})
		h.say("cannot start %s: %v", h.req.Binary, err)
		return ExitInternal
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-term:
			cmd.Process.Signal(syscall.SIGTERM)
		case <-done:
		}
	}()
	err := cmd.Wait()
	close(done)
	stdout.close()
	stderr.close()
	code := 0
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		} else {
			code = ee.ExitCode()
		}
	case errors.Is(err, exec.ErrWaitDelay):
	default:
		code = ExitInternal
	}
	ms := float64(time.Since(start).Microseconds()) / 1000
	detail := "enforced: ran as root in " + h.req.Cwd
	if n := stdout.dropped + stderr.dropped; n > 0 {
		detail += fmt.Sprintf("; %d bytes of output dropped (the caller did not read them)", n)
	}
	h.audit(audit.Record{Event: "result", Decision: "ran", ExitCode: &code, DurationMS: &ms, Detail: detail})
	return code
}

// relay passes the command's output to the caller without ever making the
// command wait for it: it keeps up to maxRelay bytes the caller has not
// read yet and drops (and counts) the rest. The command never holds the
// caller's terminal either: it writes into a pipe.
type relay struct {
	mu      sync.Mutex
	buf     []byte
	cond    *sync.Cond
	closed  bool
	dropped int64
	done    chan struct{}
}

const maxRelay = 8 << 20

func newRelay(w io.Writer) *relay {
	r := &relay{done: make(chan struct{})}
	r.cond = sync.NewCond(&r.mu)
	go func() {
		defer close(r.done)
		for {
			r.mu.Lock()
			for len(r.buf) == 0 && !r.closed {
				r.cond.Wait()
			}
			if len(r.buf) == 0 && r.closed {
				r.mu.Unlock()
				return
			}
			chunk := r.buf
			r.buf = nil
			r.mu.Unlock()
			if _, err := w.Write(chunk); err != nil {
				w = io.Discard // the caller is gone: keep draining
			}
		}
	}()
	return r
}

func (r *relay) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	room := maxRelay - len(r.buf)
	switch {
	case room <= 0:
		r.dropped += int64(len(p))
	case len(p) > room:
		r.buf = append(r.buf, p[:room]...)
		r.dropped += int64(len(p) - room)
	default:
		r.buf = append(r.buf, p...)
	}
	r.cond.Signal()
	return len(p), nil
}

// close ends the relay once what is buffered was written (or the caller
// stopped reading for long: the helper does not wait for it beyond a
// second).
func (r *relay) close() {
	r.mu.Lock()
	r.closed = true
	r.cond.Signal()
	r.mu.Unlock()
	select {
	case <-r.done:
	case <-time.After(time.Second):
	}
}

// pseudoFS reports whether p is in a filesystem of kernel views (/proc,
// /dev, /sys), where a name can alias another file.
func pseudoFS(p string) bool {
	for _, d := range []string{"/proc", "/dev", "/sys"} {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

// rootOnly reports whether dir and every directory above it is root-owned
// and not writable by group or others.
func rootOnly(dir string) bool {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		fi, err := os.Lstat(d)
		if err != nil || !fi.IsDir() {
			return false
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok || st.Uid != 0 || fi.Mode().Perm()&0o022 != 0 {
			return false
		}
		if d == "/" {
			return true
		}
	}
}

// timeoutContext is the approval wait's deadline on the monotonic clock.
func timeoutContext(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
