// Package guard is the approval-first pipeline every privileged command goes
// through, whether it arrives as `clawwarden exec` or through the sudo shim.
//
// The steps, each recorded in the audit log:
//
//  1. resolve the command to an absolute, root-owned, non-writable,
//     non-setuid file, and validate the sudo binary;
//  2. apply the command policy (deny wins; built-in refusals of shells,
//     interpreters and escape routes unless the exact argv is allowed);
//  3. require a task session id when OPENCLAW_REQUIRE_SESSION_ID=1;
//  4. require an extra confirmation for untrusted content when the prompt
//     policy asks for it;
//  5. look up a still-valid approval of the exact argv for this session id
//     (30 idle minutes expire them all);
//  6. otherwise ask a person: on the controlling terminal, or as a pending
//     request granted with `clawwarden approve ID`;
//  7. run `sudo -- /abs/cmd args…` with a sanitised environment, standard
//     streams passed through and signals forwarded;
//  8. always afterwards, also on failure or signal: `sudo -k`, record the
//     activity, drop the approval unless the session is kept, audit.
//
// The guard's own refusals are sentinel errors; the command line maps them
// to the original skill's exit statuses.
package guard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/clawwarden/clawwarden/internal/approval"
	"github.com/clawwarden/clawwarden/internal/audit"
	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/policy"
	"github.com/clawwarden/clawwarden/internal/session"
)

// Sentinel errors for the guard's own refusals.
var (
	ErrNoCommand          = errors.New("no command given")
	ErrPolicyBlock        = errors.New("refused by the command policy")
	ErrSessionIDMissing   = errors.New("a task session id is required (OPENCLAW_REQUIRE_SESSION_ID=1)")
	ErrPolicyFilesMissing = errors.New("policy files are required (OPENCLAW_REQUIRE_POLICY_FILES=1)")
	ErrInvalidCommand     = errors.New("invalid command")
	ErrInvalidSudo        = errors.New("invalid sudo binary")
)

// DefaultApprovalTimeout is how long a pending request waits for a person.
const DefaultApprovalTimeout = 5 * time.Minute

// Options describe one guarded privileged command.
type Options struct {
	Argv            []string
	Reason          string
	SessionID       string
	KeepSession     bool
	ApprovalTimeout time.Duration // 0 means DefaultApprovalTimeout
	Via             string        // "exec" or "shim", for the audit log

	// SudoArgs are sudo options placed before "--" (from the shim: harmless
	// ones, non-interactive ones when allowed, or risky ones the policy
	// names exactly). They are part of what a person approves.
	SudoArgs []string
	// Sudo is the sudo binary to use; empty means OPENCLAW_REAL_SUDO or the
	// system sudo.
	Sudo string
	// NamedArgv is the whole sudo command line (from the shim) when it
	// carries options the shim refuses unless allow_exact names it exactly;
	// such a match decides the policy step.
	NamedArgv []string
	// ForcePending makes approval come only from a pending request, never
	// from the caller's terminal (non-interactive sudo through the shim).
	ForcePending bool

	Paths  config.Paths
	Env    config.Env
	Getenv func(string) string
	Now    func() time.Time

	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer

	// Notice prints a line for the caller (the agent) on stderr.
	Notice func(format string, args ...any)
}

func (o *Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// Run guards and runs one privileged command. It returns the command's exit
// status when the command ran, or an error wrapping one of the sentinel
// errors (or of package approval) when the guard refused.
func Run(ctx context.Context, o Options) (int, error) {
	if o.ApprovalTimeout <= 0 {
		o.ApprovalTimeout = DefaultApprovalTimeout
	}
	if o.Notice == nil {
		o.Notice = func(string, ...any) {}
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	cwd, _ := os.Getwd()
	r := &run{o: o, log: &audit.Log{Path: o.Paths.Security(config.AuditLogFile)}, id: approval.NewID(), cwd: cwd}
	if o.SessionID == "" {
		r.o.SessionID = o.Env.TaskSessionID
	}
	if r.o.Reason == "" {
		r.o.Reason = o.Env.PrivReason
	}
	code, err := r.guard(ctx)
	if err != nil {
		r.audit(audit.Record{Event: "refused", Decision: "refused", Rule: r.rule, Detail: err.Error()})
	}
	return code, err
}

type run struct {
	o        Options
	log      *audit.Log
	id       string
	cwd      string
	abs      []string // argv with argv[0] resolved
	rule     string
	auditErr error
}

// audit appends records stamped with the request's common fields. The first
// failure is remembered; before the command runs a failure refuses it.
func (r *run) audit(recs ...audit.Record) error {
	argv := r.abs
	if argv == nil {
		argv = r.o.Argv
	}
	for i := range recs {
		rec := &recs[i]
		rec.Time = r.o.now().UTC()
		if rec.Argv == nil {
			rec.Argv = argv
		}
		rec.Cwd = r.cwd
		rec.SessionID = r.o.SessionID
		rec.Reason = r.o.Reason
		rec.RequestID = r.id
		if rec.Detail == "" && r.o.Via != "" {
			rec.Detail = "via " + r.o.Via
		}
	}
	err := r.log.Append(recs...)
	if err != nil && r.auditErr == nil {
		r.auditErr = err
		r.o.Notice("audit log: %v", err)
	}
	return err
}

func (r *run) guard(ctx context.Context) (int, error) {
	o := &r.o
	if len(o.Argv) == 0 {
		return 0, fmt.Errorf("%w: usage: clawwarden exec [--reason TEXT] [--session-id ID] [--keep-session] -- CMD [ARG…]", ErrNoCommand)
	}
	for i, a := range o.Argv[1:] {
		if err := checkText(fmt.Sprintf("argument %d", i+1), a); err != nil {
			return 0, err
		}
	}
	if err := checkText("reason", o.Reason); err != nil {
		return 0, err
	}
	if err := checkText("session id", o.SessionID); err != nil || len(o.SessionID) > 200 {
		return 0, fmt.Errorf("%w: the session id must be printable text of at most 200 bytes", ErrInvalidCommand)
	}

	// 1. The command and sudo.
	sudo := o.Sudo
	var err error
	if sudo == "" {
		sudo, err = FindSudo(o.Env.RealSudo)
	} else {
		err = CheckSudo(sudo)
	}
	if err != nil {
		return 0, err
	}
	abs, err := ResolveCommand(o.Argv[0])
	if err != nil {
		return 0, err
	}
	r.abs = append([]string{abs}, o.Argv[1:]...)

	// 2. Policy.
	cmdPolicyPath := o.Paths.Security(config.CommandPolicyFile)
	promptPolicyPath := o.Paths.Security(config.PromptPolicyFile)
	pol, err := policy.Load(cmdPolicyPath)
	if errors.Is(err, fs.ErrNotExist) {
		pol, err = nil, nil
		if o.Env.RequirePolicyFiles {
			return 0, fmt.Errorf("%w: %s is missing (create it, or run 'clawwarden init')", ErrPolicyFilesMissing, cmdPolicyPath)
		}
	}
	if err != nil {
		return 0, err
	}
	prompt, promptExists, err := policy.LoadPrompt(promptPolicyPath)
	if err != nil {
		return 0, err
	}
	if !promptExists && o.Env.RequirePolicyFiles {
		return 0, fmt.Errorf("%w: %s is missing (create it, or run 'clawwarden init')", ErrPolicyFilesMissing, promptPolicyPath)
	}
	request := audit.Record{Event: "request", Detail: "via " + o.Via + "; sudo " + sudo}
	dec := pol.Decide(o.Argv, abs)
	if len(o.NamedArgv) > 0 {
		dec = policy.Decision{Rule: "not named in allow_exact", Reason: "sudo options that change identity, open a shell or keep the environment need the exact sudo command line in allow_exact of " + cmdPolicyPath, Subject: policy.ShellJoin(o.NamedArgv)}
		if pol.NamesExactly(o.NamedArgv) {
			dec.Allowed, dec.Rule, dec.Reason = true, "allow_exact (full sudo command line)", ""
		}
	}
	r.rule = dec.Rule
	if !dec.Allowed {
		r.audit(request, audit.Record{Event: "policy", Decision: "deny", Rule: dec.Rule, Detail: dec.Reason})
		return 0, fmt.Errorf("%w: %s (rule %s)", ErrPolicyBlock, dec.Reason, dec.Rule)
	}
	recs := []audit.Record{request, {Event: "policy", Decision: "allow", Rule: dec.Rule}}

	// 3. Session id.
	if o.Env.RequireSessionID && o.SessionID == "" {
		r.audit(recs...)
		return 0, fmt.Errorf("%w: set OPENCLAW_TASK_SESSION_ID or pass --session-id", ErrSessionIDMissing)
	}

	// 4. Untrusted content.
	untrusted := o.Env.UntrustedSource && prompt.RequireConfirmationForUntrusted

	// 5. A still-valid approval of exactly this argv and session id. Writes
	// are atomic renames, so an unlocked read sees a whole state; the state
	// is rewritten (under the lock) only when it has expired.
	store := &session.Store{Path: o.Paths.Security(config.SessionStateFile), Now: o.Now}
	st, err := store.Load()
	if err != nil {
		r.audit(recs...)
		return 0, err
	}
	if st.Expired(o.now()) && len(st.Approvals) > 0 {
		expired := false
		err = store.Update(func(st *session.State, now time.Time) error {
			expired = st.Expire(now)
			return nil
		})
		if err != nil {
			r.audit(recs...)
			return 0, err
		}
		if expired {
			recs = append(recs, audit.Record{Event: "session", Decision: "expired", Detail: "idle for more than 30 minutes: approvals dropped"})
		}
		st, err = store.Load()
		if err != nil {
			r.audit(recs...)
			return 0, err
		}
	}
	_, approved := st.Find(r.abs, o.SudoArgs, o.SessionID)
	approved = approved && !untrusted

	// 6. Approval.
	via := "preapproved"
	if !approved {
		if err := r.audit(recs...); err != nil {
			return 0, fmt.Errorf("refusing to run a privileged command that cannot be audited: %w", err)
		}
		recs = nil
		via, err = r.approve(ctx, dec.Rule, untrusted)
		if err != nil {
			r.audit(audit.Record{Event: "approval", Decision: "refused", Detail: err.Error()})
			return 0, err
		}
		err = store.Update(func(st *session.State, now time.Time) error {
			st.Grant(session.Approval{Argv: r.abs, SudoArgs: o.SudoArgs, SessionID: o.SessionID, ApprovedAt: now.UTC(), Via: via, RequestID: r.id})
			st.Touch(now)
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	recs = append(recs, audit.Record{Event: "approval", Decision: "approved", Detail: via})
	if err := r.audit(recs...); err != nil {
		r.afterwards(sudo, errNotRun, 0, 0)
		return 0, fmt.Errorf("refusing to run a privileged command that cannot be audited: %w", err)
	}

	// 7 and 8.
	start := time.Now()
	code, runErr := runSudo(sudo, o.SudoArgs, r.abs, sanitizedEnv(o.Getenv), o.Stdin, o.Stdout, o.Stderr)
	r.afterwards(sudo, runErr, code, time.Since(start))
	if runErr != nil {
		return 0, runErr
	}
	return code, nil
}

// display is the command as a person reads it, sudo options included.
func (r *run) display() string {
	if len(r.o.SudoArgs) == 0 {
		return policy.ShellJoin(r.abs)
	}
	return "sudo " + policy.ShellJoin(append(append(append([]string{}, r.o.SudoArgs...), "--"), r.abs...))
}

// approve asks a person, on the terminal when there is one, else through a
// pending request. It returns how the approval was given.
func (r *run) approve(ctx context.Context, rule string, untrusted bool) (string, error) {
	o := &r.o
	pass, err := approval.LoadPassphrase(o.Paths.Security(config.PassphraseFile))
	if err != nil {
		return "", err
	}
	f := approval.Factors{Token: o.Env.ApprovalToken, Passphrase: pass}
	p := approval.Prompt{Argv: r.abs, Command: r.display(), Reason: o.Reason,
		SessionID: o.SessionID, Cwd: r.cwd, Rule: rule, Untrusted: untrusted}
	if t, err := approval.OpenTerminal(); err == nil && !o.ForcePending {
		defer t.Close()
		if err := approval.AskTerminal(t, p, f); err != nil {
			return "", err
		}
		return "terminal", nil
	}
	q := &approval.Queue{Dir: o.Paths.PendingDir(), Now: o.Now}
	now := o.now()
	req := approval.Request{ID: r.id, Argv: r.abs, Command: p.Command, Reason: o.Reason, SessionID: o.SessionID,
		Cwd: r.cwd, Rule: rule, Untrusted: untrusted, NeedToken: f.Token != "", UID: os.Getuid(), PID: os.Getpid(),
		Created: now.UTC(), Expires: now.Add(o.ApprovalTimeout).UTC()}
	if err := q.Submit(req); err != nil {
		return "", err
	}
	r.audit(audit.Record{Event: "approval", Decision: "pending", Detail: "waiting for 'clawwarden approve " + r.id + "'"})
	o.Notice("no terminal to ask on: approval request %s is pending", r.id)
	o.Notice("ask the person to run, in their own terminal:  clawwarden approve %s   (or: clawwarden deny %s)", r.id, r.id)
	o.Notice("it expires in %s", o.ApprovalTimeout.Round(time.Second))
	if err := q.Wait(ctx, req, f, 100*time.Millisecond); err != nil {
		return "", err
	}
	return "pending:" + r.id, nil
}

// errNotRun is recorded as the result when the command was not started.
var errNotRun = errors.New("not run: the audit log could not be written")

// afterwards is step 8: reset sudo's cached credentials, record activity,
// drop the approval unless the session is kept, audit the outcome. It runs
// whether or not the command ran.
func (r *run) afterwards(sudo string, runErr error, code int, dur time.Duration) {
	o := &r.o
	// sudo -k runs while the state is updated; its outcome is audited below.
	waitReset := startResetSudo(sudo, sanitizedEnv(o.Getenv))
	store := &session.Store{Path: o.Paths.Security(config.SessionStateFile), Now: o.Now}
	stateErr := store.Update(func(st *session.State, now time.Time) error {
		st.Touch(now)
		if !o.KeepSession {
			st.Drop()
		}
		return nil
	})
	resetErr := waitReset()
	res := audit.Record{Event: "result", Decision: "ran"}
	if runErr != nil {
		res.Decision = "failed"
		res.Detail = runErr.Error()
	} else {
		res.ExitCode = &code
	}
	if runErr == nil {
		ms := float64(dur.Microseconds()) / 1000
		res.DurationMS = &ms
	}
	reset := audit.Record{Event: "sudo-reset", Decision: "ok", Detail: "sudo -k"}
	if resetErr != nil {
		reset.Decision = "failed"
		reset.Detail = resetErr.Error()
		o.Notice("warning: 'sudo -k' failed: %v", resetErr)
	}
	sess := audit.Record{Event: "session", Decision: "dropped"}
	if o.KeepSession {
		sess.Decision = "kept"
	}
	if stateErr != nil {
		sess.Decision = "error"
		sess.Detail = stateErr.Error()
		o.Notice("warning: session state not updated: %v", stateErr)
	}
	r.audit(res, reset, sess)
}
