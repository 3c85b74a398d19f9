// Package guard is the approval-first pipeline every privileged command goes
// through, whether it arrives as `clawwarden exec` or through the sudo shim,
// and the approver's side of it (`clawwarden approve`).
//
// The steps, each recorded in the audit log:
//
//  1. check the input (no control characters) and resolve the command to an
//     absolute, root-owned, non-writable, non-setuid file, hashed; validate
//     the sudo binary (it must be sudo);
//  2. apply the command policy (deny wins; built-in refusals of shells,
//     interpreters, escape routes and privilege files unless the exact argv
//     is allowed; sudo options that change identity and sudoedit only when
//     allow_exact names the whole sudo command line);
//  3. require a task session id when OPENCLAW_REQUIRE_SESSION_ID=1;
//  4. require an extra confirmation for untrusted content when the prompt
//     policy asks for it;
//  5. look up an approval the person kept for this exact command: argv,
//     sudo options, working directory, binary SHA-256 and session id (30
//     idle minutes void them all);
//  6. otherwise ask sudo whether the password is the gate for this command
//     (NOPASSWD makes the approval advisory, and the prompt and audit say
//     so), then ask a person: on the controlling terminal when a person can
//     use it, or — without a terminal, or on one the agent controls — as a
//     pending request that the person approves and runs from their own
//     terminal with `clawwarden approve ID`;
//  7. run `sudo -k -- /abs/cmd args…` with a fixed environment: sudo neither
//     uses nor stores a credential ticket, so no elevation exists before,
//     during or after the command for any other process;
//  8. afterwards, also on failure or signal: record the activity, keep the
//     approval only if the person kept it, audit the result ("ran, exit N"
//     or "not run" with the reason).
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
	"path/filepath"
	"slices"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/clawwarden/clawwarden/internal/agent"
	"github.com/clawwarden/clawwarden/internal/approval"
	"github.com/clawwarden/clawwarden/internal/audit"
	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/policy"
	"github.com/clawwarden/clawwarden/internal/rootfile"
	"github.com/clawwarden/clawwarden/internal/session"
	"github.com/clawwarden/clawwarden/internal/sudo"
)

// Sentinel errors for the guard's own refusals.
var (
	ErrNoCommand          = errors.New("no command given")
	ErrPolicyBlock        = errors.New("refused by the command policy")
	ErrSessionIDMissing   = errors.New("a task session id is required (OPENCLAW_REQUIRE_SESSION_ID=1)")
	ErrPolicyFilesMissing = errors.New("policy files are required (OPENCLAW_REQUIRE_POLICY_FILES=1)")
	ErrInvalidCommand     = errors.New("invalid command")
	// ErrNotRun: the command was approved but did not run (sudo refused the
	// password, the approver's run failed to start, the audit log could not
	// be written).
	ErrNotRun = errors.New("the command did not run")
	// ErrAgentTerminal: `approve` was run where an agent, not a person, is
	// at the terminal.
	ErrAgentTerminal = errors.New("this terminal belongs to an agent, not a person")
)

// DefaultApprovalTimeout is how long a person has to answer, on the
// terminal or through a pending request.
const DefaultApprovalTimeout = 5 * time.Minute

// Options describe one guarded privileged command.
type Options struct {
	Argv            []string // the command; for sudoedit (Edit), the files
	Reason          string
	SessionID       string
	KeepSession     bool          // the agent asks to keep the approval; the person decides
	ApprovalTimeout time.Duration // 0 means DefaultApprovalTimeout
	Via             string        // "exec" or "shim", for the audit log

	// SudoArgs are sudo options placed before "--" (from the shim: harmless
	// ones, non-interactive ones when allowed, or risky ones the policy
	// names exactly). They are part of what a person approves.
	SudoArgs []string
	// Edit is sudoedit (sudo -e): Argv are the files.
	Edit bool
	// Sudo is the sudo binary to use; empty means OPENCLAW_REAL_SUDO or the
	// system sudo.
	Sudo string
	// NamedArgv is the whole sudo command line (from the shim) when it
	// carries options the shim refuses unless allow_exact names it exactly;
	// such a match decides the policy step. sudoedit always needs it.
	NamedArgv []string
	// ForcePending makes approval come only from a pending request, never
	// from the caller's terminal (non-interactive sudo through the shim).
	ForcePending bool
	// Refused, when set, is a refusal the caller (the shim) already made:
	// Run only records it in the audit log and returns it.
	Refused error

	// PolicyFile is the command policy to apply; empty means the one in
	// Paths (`policy check --file` tries another).
	PolicyFile string

	Paths  config.Paths
	Env    config.Env
	Getenv func(string) string
	Now    func() time.Time

	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer

	// Notice prints a line for the caller (the agent) on stderr.
	Notice func(format string, args ...any)
	// Poll is how often a pending request is checked; 0 means 100ms.
	Poll time.Duration
	// AuditForward is where audit records also go when Env.AuditSyslog is
	// set; nil means the host's journald or syslog socket (tests point it
	// at their own).
	AuditForward *audit.Forwarder
}

func (o *Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o *Options) policyFile() string {
	if o.PolicyFile != "" {
		return o.PolicyFile
	}
	return o.Paths.Security(config.CommandPolicyFile)
}

func (o *Options) defaults() {
	if o.ApprovalTimeout <= 0 {
		o.ApprovalTimeout = DefaultApprovalTimeout
	}
	if o.Notice == nil {
		o.Notice = func(string, ...any) {}
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.SessionID == "" {
		o.SessionID = o.Env.TaskSessionID
	}
	if o.Reason == "" {
		o.Reason = o.Env.PrivReason
	}
}

// Run guards and runs one privileged command. It returns the command's exit
// status when the command ran, or an error wrapping one of the sentinel
// errors (or of package approval) when it did not.
func Run(ctx context.Context, o Options) (int, error) {
	o.defaults()
	cwd, _ := os.Getwd()
	r := &run{o: o, id: approval.NewID(), cwd: cwd}
	r.log = auditLog(o.Paths, o.Env, o.AuditForward, func(err error) { o.Notice("warning: %v", err) })
	if o.Refused != nil {
		r.audit(audit.Record{Event: "request", Detail: "via " + o.Via},
			audit.Record{Event: "refused", Decision: "refused", Detail: o.Refused.Error()})
		return 0, o.Refused
	}
	// No other process of the account may read or rewrite this one's
	// memory while it holds an approval.
	if err := approval.Harden(); err != nil {
		r.audit(audit.Record{Event: "refused", Decision: "refused", Detail: err.Error()})
		return 0, err
	}
	code, err := r.guard(ctx)
	if err != nil && !r.finished {
		r.audit(audit.Record{Event: "refused", Decision: "refused", Rule: r.rule, Detail: err.Error()})
	}
	return code, err
}

// run is the state of one guarded command.
type run struct {
	o        Options
	log      *audit.Log
	id       string
	cwd      string
	sudo     string
	abs      []string // argv with argv[0] resolved
	sha      string   // the resolved binary's SHA-256
	rule     string
	probe    sudo.ProbeResult
	agentWhy string // why the terminal was not asked
	auditErr error
	finished bool // the result is recorded; no refusal record follows
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

func (r *run) key() session.Key {
	return session.Key{Argv: r.abs, SudoArgs: r.o.SudoArgs, Edit: r.o.Edit, SessionID: r.o.SessionID, Cwd: r.cwd, BinarySHA256: r.sha}
}

func (r *run) guard(ctx context.Context) (int, error) {
	o := &r.o
	if err := checkInput(o); err != nil {
		return 0, err
	}
	if err := r.resolveSudo(); err != nil {
		return 0, err
	}
	recs, untrusted, err := r.decide()
	if err != nil {
		return 0, err
	}

	// 5. An approval the person kept for exactly this command.
	store := &session.Store{Path: o.Paths.Security(config.SessionStateFile), Now: o.Now}
	st, err := store.Load()
	if err != nil {
		r.audit(recs...)
		return 0, err
	}
	if st.Expired(o.now()) && len(st.Approvals) > 0 {
		recs = append(recs, audit.Record{Event: "session", Decision: "expired", Detail: "idle for more than 30 minutes (or no valid last activity): approvals dropped"})
		if err := store.Update(func(st *session.State, now time.Time) error { st.Expire(now); return nil }); err != nil {
			r.audit(recs...)
			return 0, err
		}
	}
	tty, person := r.personTerminal()
	if tty != nil {
		defer tty.Close()
	}
	if kept, ok := st.Find(r.key(), o.now()); ok && !untrusted && (kept.NoPassword || person) {
		recs = append(recs, audit.Record{Event: "approval", Decision: "approved", Detail: "kept by the person (" + kept.Via + ")", Advisory: kept.NoPassword})
		if err := r.audit(recs...); err != nil {
			return 0, fmt.Errorf("%w: refusing to run a privileged command that cannot be audited: %v", ErrNotRun, err)
		}
		return r.execute(tty, true, kept.NoPassword)
	}

	// 6. Ask a person.
	r.probe = r.probeSudo(ctx)
	if err := r.audit(recs...); err != nil {
		return 0, fmt.Errorf("%w: refusing to run a privileged command that cannot be audited: %v", ErrNotRun, err)
	}
	req := r.request(untrusted)
	if err := req.CheckShowable(); err != nil {
		return 0, fmt.Errorf("%w: %v: a person could not review it", ErrInvalidCommand, err)
	}
	if person {
		return r.approveOnTerminal(tty, req)
	}
	return r.approvePending(ctx, req, tty)
}

// checkInput refuses control characters and invalid UTF-8, which could fake
// lines in the approval prompt or the audit view.
func checkInput(o *Options) error {
	if len(o.Argv) == 0 {
		return fmt.Errorf("%w: usage: clawwarden exec [--reason TEXT] [--session-id ID] [--keep-session] -- CMD [ARG…]", ErrNoCommand)
	}
	for i, a := range o.Argv {
		if err := checkText(fmt.Sprintf("argument %d", i), a); err != nil {
			return err
		}
	}
	if err := checkText("reason", o.Reason); err != nil {
		return err
	}
	if err := checkText("session id", o.SessionID); err != nil || len(o.SessionID) > 200 {
		return fmt.Errorf("%w: the session id must be printable text of at most 200 bytes", ErrInvalidCommand)
	}
	return nil
}

// resolveSudo is the first half of step 1: the sudo binary.
func (r *run) resolveSudo() error {
	var err error
	if r.o.Sudo == "" {
		r.sudo, err = sudo.Find(r.o.Env.RealSudo)
	} else {
		r.sudo, err = r.o.Sudo, sudo.Check(r.o.Sudo)
	}
	return err
}

// decide is the rest of step 1 and steps 2 to 4, through [Check]. It
// records the request and the policy's decision, and returns the audit
// records so far and whether the untrusted-content confirmation applies.
func (r *run) decide() ([]audit.Record, bool, error) {
	v, err := Check(r.o, r.cwd)
	r.abs, r.sha, r.rule = v.Abs, v.SHA256, v.Decision.Rule
	if !v.Decided {
		return nil, false, err
	}
	request := audit.Record{Event: "request", Detail: "via " + r.o.Via + "; sudo " + r.sudo}
	if !v.Decision.Allowed {
		r.audit(request, audit.Record{Event: "policy", Decision: "deny", Rule: v.Decision.Rule, Detail: v.Decision.Reason})
		r.finished = true
		r.audit(audit.Record{Event: "refused", Decision: "refused", Rule: r.rule, Detail: v.Decision.Reason})
		return nil, false, err
	}
	recs := []audit.Record{request, {Event: "policy", Decision: "allow", Rule: v.Decision.Rule}}
	if err != nil {
		r.audit(recs...)
		return nil, false, err
	}
	return recs, v.Untrusted, nil
}

// Verdict is what steps 1 to 4 decided about a command, before anyone is
// asked.
type Verdict struct {
	Abs    []string // argv with argv[0] resolved (for sudoedit, the files)
	SHA256 string   // the resolved binary's SHA-256 (not for sudoedit)
	// Decided is set once the policy step ran; Decision is its outcome.
	Decided  bool
	Decision policy.Decision
	// PolicyFile is the command policy consulted; PolicyFileExists is false
	// when only the built-in rules applied.
	PolicyFile       string
	PolicyFileExists bool
	// Untrusted: the prompt policy asks for the untrusted-content
	// confirmation (step 4).
	Untrusted bool
}

// Check runs steps 1 to 4 for o in working directory cwd without asking
// anyone, running anything or writing anything: the input check, the
// command's resolution and hash, the policy files (required with
// OPENCLAW_REQUIRE_POLICY_FILES=1), the policy decision (including the full
// sudo command line for sudoedit and sudo options), the task session id
// (OPENCLAW_REQUIRE_SESSION_ID=1) and the untrusted-content rule. It is the
// one decision both [Run] and `clawwarden policy check` use. The error wraps
// ErrNoCommand, ErrInvalidCommand, ErrPolicyFilesMissing, ErrPolicyBlock or
// ErrSessionIDMissing, or is a malformed policy file's; the verdict holds
// whatever was decided before it.
func Check(o Options, cwd string) (Verdict, error) {
	o.defaults()
	v := Verdict{PolicyFile: o.policyFile()}
	if err := checkInput(&o); err != nil {
		return v, err
	}
	var err error
	if v.Abs, v.SHA256, err = resolveCommand(o.Argv, o.Edit); err != nil {
		return v, err
	}
	pol, exists, err := loadPolicy(v.PolicyFile)
	if err != nil {
		return v, err
	}
	v.PolicyFileExists = exists
	if !exists && o.Env.RequirePolicyFiles {
		return v, fmt.Errorf("%w: %s is missing (create it, or run 'clawwarden init')", ErrPolicyFilesMissing, v.PolicyFile)
	}
	promptPolicyPath := o.Paths.Security(config.PromptPolicyFile)
	prompt, promptExists, err := policy.LoadPrompt(promptPolicyPath)
	if err != nil {
		return v, err
	}
	if !promptExists && o.Env.RequirePolicyFiles {
		return v, fmt.Errorf("%w: %s is missing (create it, or run 'clawwarden init')", ErrPolicyFilesMissing, promptPolicyPath)
	}
	v.Decided, v.Decision = true, Decide(pol, v.PolicyFile, cwd, o.Argv, v.Abs, o.Edit, o.NamedArgv)
	if !v.Decision.Allowed {
		return v, fmt.Errorf("%w: %s (rule %s)", ErrPolicyBlock, v.Decision.Reason, v.Decision.Rule)
	}
	v.Untrusted = o.Env.UntrustedSource && prompt.RequireConfirmationForUntrusted
	if o.Env.RequireSessionID && o.SessionID == "" {
		return v, fmt.Errorf("%w: set OPENCLAW_TASK_SESSION_ID or pass --session-id", ErrSessionIDMissing)
	}
	return v, nil
}

// loadPolicy reads the command policy; a missing file is a nil policy
// (only the built-in rules apply).
func loadPolicy(path string) (*policy.Policy, bool, error) {
	pol, err := policy.Load(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	return pol, err == nil, err
}

// resolveCommand is the command half of step 1: for sudoedit, clean
// absolute file paths; otherwise argv[0] resolved to a file root can trust,
// and its SHA-256.
func resolveCommand(argv []string, edit bool) (abs []string, sha string, err error) {
	if edit {
		for _, f := range argv {
			if !filepath.IsAbs(f) || filepath.Clean(f) != f {
				return nil, "", fmt.Errorf("%w: sudoedit through clawwarden needs clean absolute file paths, got %q", ErrInvalidCommand, f)
			}
		}
		return slices.Clone(argv), "", nil
	}
	p, err := rootfile.Resolve(argv[0])
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrInvalidCommand, err)
	}
	abs = append([]string{p}, argv[1:]...)
	if sha, err = rootfile.Hash(p); err != nil {
		return abs, "", fmt.Errorf("%w: %v", ErrInvalidCommand, err)
	}
	return abs, sha, nil
}

// Decide is the policy step, the one function both the guard and `policy
// check` use: for a plain command the policy's decision; for sudo options
// the shim refuses by default and for sudoedit, allowed only when
// allow_exact names the whole sudo command line (named, or for sudoedit
// either spelling: ["sudoedit", FILE…] or ["sudo", "-e", FILE…]); deny
// rules still refuse the command itself.
func Decide(pol *policy.Policy, policyPath, cwd string, argv, abs []string, edit bool, named []string) policy.Decision {
	if !edit && len(named) == 0 {
		return pol.DecideIn(cwd, argv, abs[0])
	}
	if !edit {
		if d, denied := pol.Denies(argv, abs[0]); denied {
			return d
		}
	}
	names := [][]string{named}
	if edit {
		names = append(names, append([]string{"sudoedit"}, argv...), append([]string{"sudo", "-e"}, argv...))
	}
	subject := named
	if len(subject) == 0 {
		subject = names[1]
	}
	d := policy.Decision{Rule: "not named in allow_exact",
		Reason:  "sudoedit and sudo options that change identity, open a shell or keep the environment need the exact sudo command line in allow_exact of " + policyPath,
		Subject: policy.ShellJoin(subject)}
	for _, n := range names {
		if len(n) > 0 && pol.NamesExactly(n) {
			d.Allowed, d.Rule, d.Reason, d.Subject = true, "allow_exact (full sudo command line)", "", policy.ShellJoin(n)
			break
		}
	}
	return d
}

// personTerminal opens the controlling terminal and reports whether a person
// can be asked on it: not when the caller forces a pending request, and not
// when the terminal (or this process) belongs to an agent.
func (r *run) personTerminal() (*approval.Terminal, bool) {
	t, err := approval.OpenTerminal()
	if err != nil {
		return nil, false
	}
	if r.o.ForcePending {
		return t, false
	}
	if c := agent.Detect(r.o.Getenv, t.File()); c.Agent {
		r.agentWhy = c.Why
		return t, false
	}
	return t, true
}

// probeSudo asks sudo whether the password is the gate for this command.
func (r *run) probeSudo(ctx context.Context) sudo.ProbeResult {
	if r.o.Edit {
		return sudo.ProbeResult{Need: sudo.NeedUnknown, Detail: "not probed for sudoedit"}
	}
	return sudo.Probe(ctx, r.sudo, r.abs, sudo.Env(r.o.Getenv))
}

func (r *run) request(untrusted bool) approval.Request {
	o := &r.o
	now := o.now()
	return approval.Request{Version: approval.RequestVersion, ID: r.id, Argv: r.abs, SudoArgs: o.SudoArgs, Edit: o.Edit,
		Named: o.NamedArgv, BinarySHA256: r.sha, Cwd: r.cwd, Reason: o.Reason, SessionID: o.SessionID, Rule: r.rule,
		Untrusted: untrusted, NeedToken: o.Env.ApprovalToken != "", KeepRequested: o.KeepSession,
		Advisory: r.probe.Need == sudo.NeedNothing, AdvisoryDetail: r.probe.Detail, Agent: r.agentWhy,
		UID: os.Getuid(), PID: os.Getpid(), Created: now.UTC(), Expires: now.Add(o.ApprovalTimeout).UTC()}
}

// checkText refuses control characters and invalid UTF-8, which could fake
// lines in the approval prompt or the audit view.
func checkText(what, s string) error {
	for i, c := range s {
		if unicode.IsControl(c) {
			return fmt.Errorf("%w: %s contains a control character at byte %d", ErrInvalidCommand, what, i)
		}
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s is not valid UTF-8 text", ErrInvalidCommand, what)
	}
	return nil
}
