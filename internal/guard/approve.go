package guard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/clawwarden/clawwarden/internal/agent"
	"github.com/clawwarden/clawwarden/internal/approval"
	"github.com/clawwarden/clawwarden/internal/audit"
	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/policy"
	"github.com/clawwarden/clawwarden/internal/quote"
	"github.com/clawwarden/clawwarden/internal/rootfile"
	"github.com/clawwarden/clawwarden/internal/shim"
	"github.com/clawwarden/clawwarden/internal/sudo"
)

// Approver is the person's side of a pending request: `clawwarden approve`
// and `clawwarden deny`, run from the person's own terminal.
type Approver struct {
	Paths  config.Paths
	Env    config.Env
	Getenv func(string) string
	Now    func() time.Time
	// Stdout and Stderr are where the approved command's output is shown
	// (the person's terminal); it is relayed to the waiting guard too.
	Stdout io.Writer
	Stderr io.Writer
	// AuditForward is where audit records also go when Env.AuditSyslog is
	// set; nil means the host's journald or syslog socket.
	AuditForward *audit.Forwarder

	alog *audit.Log // built on first use, so one outage warns once
}

// log is the audit log; a record it could not send off the host is
// reported on Stderr (once per outage: the log and its forwarder are kept
// for the approver's life).
func (a *Approver) log() *audit.Log {
	if a.alog == nil {
		a.alog = auditLog(a.Paths, a.Env, a.AuditForward, func(err error) {
			if a.Stderr != nil {
				fmt.Fprintf(a.Stderr, "clawwarden: warning: %v\n", err)
			}
		})
	}
	return a.alog
}

func (a *Approver) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Approver) queue() *approval.Queue {
	return &approval.Queue{Dir: a.Paths.PendingDir(), Now: a.Now}
}

func (a *Approver) audit(r approval.Request, recs ...audit.Record) {
	for i := range recs {
		recs[i].Time = a.now().UTC()
		recs[i].Argv = r.Argv
		recs[i].RequestID = r.ID
		recs[i].SessionID = r.SessionID
		recs[i].Reason = r.Reason
		recs[i].Cwd = r.Cwd
	}
	a.log().Append(recs...)
}

// Outcome is what `approve` did.
type Outcome struct {
	Request  approval.Request
	Approved bool
	Result   approval.Result // when approved: how the run went
}

// Get returns the pending request id, refusing an expired one.
func (a *Approver) Get(id string) (approval.Request, error) {
	r, err := a.queue().Get(id)
	if err != nil {
		return r, err
	}
	if a.now().After(r.Expires) {
		return r, fmt.Errorf("%w: request %s expired at %s", approval.ErrNoRequest, id, r.Expires.Local().Format(time.RFC3339))
	}
	return r, nil
}

// Approve shows the pending request id to the person at the controlling
// terminal and asks them; once approved it runs the command right there as
// `sudo -k -- CMD` in the request's working directory (the person types
// the sudo password), shows its output and relays output and exit status
// to the waiting guard. Before anything is shown the request is checked
// again as the guard would: the binary must still have the SHA-256 the
// request names and the policy must still allow the command. It refuses on
// a terminal that belongs to an agent.
func (a *Approver) Approve(ctx context.Context, id string) (Outcome, error) {
	if err := approval.Harden(); err != nil {
		return Outcome{}, err
	}
	r, err := a.Get(id)
	if err != nil {
		return Outcome{}, err
	}
	out := Outcome{Request: r}
	t, err := approval.OpenTerminal()
	if err != nil {
		return out, err
	}
	defer t.Close()
	if c := agent.Detect(a.Getenv, t.File()); c.Agent {
		a.audit(r, audit.Record{Event: "approval", Decision: "refused", Detail: "clawwarden approve refused: " + c.Why})
		return out, fmt.Errorf("%w: %s", ErrAgentTerminal, c.Why)
	}
	chk, err := a.revalidate(ctx, r)
	if err != nil {
		a.deny(r, "clawwarden approve: "+err.Error())
		return out, err
	}
	defer chk.dir.Close()
	pass, err := approval.LoadPassphrase(a.Paths.Security(config.PassphraseFile))
	if err != nil {
		return out, err
	}
	t.Deadline = r.Expires
	ans, err := approval.Ask(t, chk.view, approval.Factors{Token: a.Env.ApprovalToken, Passphrase: pass}, "Approve, and run this exact command as root here?")
	if err != nil {
		if errors.Is(err, approval.ErrDenied) || errors.Is(err, approval.ErrTimeout) {
			a.deny(r, "clawwarden approve: not confirmed")
		}
		return out, err
	}
	d := approval.Decision{ID: r.ID, RequestSHA256: r.Digest(), Approved: true, Keep: ans.Keep,
		UntrustedConfirmed: ans.UntrustedConfirmed, TokenProof: ans.TokenProof, DecidedAt: a.now().UTC(),
		UID: os.Getuid(), PID: os.Getpid(), Where: "clawwarden approve on " + t.Name()}
	approval.Sign(&d, ans.Key)
	if err := a.queue().Decide(d); err != nil {
		return out, err
	}
	out.Approved = true
	a.audit(r, audit.Record{Event: "approval", Decision: "granted", Detail: d.Where + optionsWord(r) + keepWord(d.Keep, r.KeepRequested), Advisory: chk.view.Advisory})
	t.Close()
	out.Result = a.run(r, chk, t.Name())
	return out, nil
}

// checked is what revalidate worked out for the person and the run: the
// request as shown (policy rule and NOPASSWD recomputed, not taken from the
// file), the sudo to use, and the working directory, opened.
type checked struct {
	view approval.Request
	sudo string
	dir  *os.File
}

// optionsWord names the sudo options of r for the audit record.
func optionsWord(r approval.Request) string {
	if len(r.SudoArgs) == 0 && !r.Edit {
		return ""
	}
	return "; sudo options " + quote.Argv(r.SudoArgs) + map[bool]string{true: " (sudoedit)", false: ""}[r.Edit]
}

// revalidate checks r again as the guard would — the request file is the
// agent's to write — and works out what the person is shown.
func (a *Approver) revalidate(ctx context.Context, r approval.Request) (checked, error) {
	var c checked
	if err := r.CheckShowable(); err != nil {
		return c, fmt.Errorf("%w: %v; inspect it with 'clawwarden pending --json'", ErrInvalidCommand, err)
	}
	var err error
	if c.sudo, err = sudo.Find(a.Env.RealSudo); err != nil {
		return c, err
	}
	for i, s := range append(append(slices.Clone(r.Argv), r.SudoArgs...), r.Named...) {
		if err := checkText(fmt.Sprintf("element %d", i), s); err != nil {
			return c, err
		}
	}
	if err := checkOptions(r); err != nil {
		return c, err
	}
	if !r.Edit {
		abs, err := rootfile.Resolve(r.Argv[0])
		if err != nil || abs != r.Argv[0] {
			return c, fmt.Errorf("%w: %s is no longer a file root can run: %v", ErrInvalidCommand, r.Argv[0], err)
		}
		sum, err := rootfile.Hash(abs)
		if err != nil {
			return c, fmt.Errorf("%w: %v", ErrInvalidCommand, err)
		}
		if !approval.Equal(sum, r.BinarySHA256) {
			return c, fmt.Errorf("%w: %s changed since the request was filed (sha256 %s, the request names %s); the agent must ask again",
				ErrInvalidCommand, abs, sum, r.BinarySHA256)
		}
	}
	if c.dir, err = openDir(r.Cwd); err != nil {
		return c, fmt.Errorf("%w: the working directory: %v", ErrInvalidCommand, err)
	}
	path := a.Paths.Security(config.CommandPolicyFile)
	pol, err := policy.Load(path)
	if errors.Is(err, fs.ErrNotExist) {
		pol, err = nil, nil
	}
	if err != nil {
		c.dir.Close()
		return c, err
	}
	d := Decide(pol, path, r.Cwd, r.Argv, r.Argv, r.Edit, r.Named)
	if !d.Allowed {
		c.dir.Close()
		return c, fmt.Errorf("%w: %s (rule %s)", ErrPolicyBlock, d.Reason, d.Rule)
	}
	c.view = r
	c.view.Rule = d.Rule
	c.view.Advisory, c.view.AdvisoryDetail = false, ""
	if !r.Edit {
		p := sudo.Probe(ctx, c.sudo, r.Argv, sudo.Env(a.Getenv))
		c.view.Advisory, c.view.AdvisoryDetail = p.Need == sudo.NeedNothing, p.Detail
	}
	c.view.CwdWritable = unix.Access(r.Cwd, unix.W_OK) == nil
	return c, nil
}

// checkOptions refuses sudo options that do not follow from the request:
// without a named command line only the options the shim forwards; with
// one, exactly the command, options and sudoedit flag the shim derives from
// it (the policy step then checks that allow_exact names that line).
func checkOptions(r approval.Request) error {
	if len(r.Named) == 0 {
		if r.Edit || !shim.Forwarded(r.SudoArgs) {
			return fmt.Errorf("%w: sudo options %s (or sudoedit) without a command line the policy names", ErrPolicyBlock, quote.Argv(r.SudoArgs))
		}
		return nil
	}
	p, err := shim.FromNamed(r.Named)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidCommand, err)
	}
	cmd := slices.Clone(p.Command)
	if !p.Edit && len(cmd) > 0 {
		if abs, err := rootfile.Resolve(cmd[0]); err == nil {
			cmd[0] = abs
		}
	}
	if p.Edit != r.Edit || !slices.Equal(p.SudoArgs, r.SudoArgs) || !slices.Equal(cmd, r.Argv) {
		return fmt.Errorf("%w: the request's command and sudo options do not follow from the command line it names (%s)", ErrInvalidCommand, quote.Argv(r.Named))
	}
	return nil
}

// run runs the approved request here, in the directory opened when it was
// checked, and records the result for the waiting guard.
func (a *Approver) run(r approval.Request, chk checked, tty string) approval.Result {
	q := a.queue()
	res := approval.Result{ID: r.ID, RequestSHA256: r.Digest(), Where: "clawwarden approve on " + tty, PID: os.Getpid(), Started: a.now().UTC()}
	finish := func(sr sudo.Result) approval.Result {
		res.Ran, res.ExitCode, res.NotRun, res.Ended = sr.Ran, sr.ExitCode, sr.NotRun, a.now().UTC()
		if err := q.WriteResult(res); err != nil {
			fmt.Fprintf(a.Stderr, "clawwarden: could not hand the result to the waiting guard: %v\n", err)
		}
		a.audit(r, ResultRecord(sr, "in "+res.Where))
		return res
	}
	// The command runs in the directory that was checked: by handle, not
	// by path.
	if err := unix.Fchdir(int(chk.dir.Fd())); err != nil {
		return finish(sudo.Result{NotRun: "cannot enter the working directory: " + err.Error()})
	}
	if err := approval.CheckNotTraced(); err != nil {
		return finish(sudo.Result{NotRun: err.Error()})
	}
	c := sudo.Command{Sudo: chk.sudo, Opts: r.SudoArgs, Argv: r.Argv, Env: sudo.Env(a.Getenv), NoPassword: chk.view.Advisory}
	if r.Edit {
		// The editor needs the person's terminal; nothing is relayed.
		c.Opts = append([]string{"-e"}, c.Opts...)
		tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
		if err != nil {
			return finish(sudo.Result{NotRun: err.Error()})
		}
		defer tty.Close()
		c.Stdin, c.Stdout, c.Stderr = tty, tty, a.Stderr
		sr, err := sudo.Run(c)
		if err != nil {
			sr = notRun(err)
		}
		return finish(sr)
	}
	stdout, stderr, err := q.OutputFiles(r.ID)
	if err != nil {
		return finish(sudo.Result{NotRun: "cannot create the output files: " + err.Error()})
	}
	defer stdout.Close()
	defer stderr.Close()
	outCap, errCap := &capped{w: stdout}, &capped{w: stderr}
	c.Stdin = nil // /dev/null: what runs gets no input the person did not see
	c.Stdout = io.MultiWriter(a.Stdout, outCap)
	c.Stderr = io.MultiWriter(a.Stderr, errCap)
	sr, err := sudo.Run(c)
	if err != nil {
		sr = notRun(err)
	}
	res.OutputTruncated = outCap.cut || errCap.cut
	return finish(sr)
}

// deny records a refusal for the waiting guard.
func (a *Approver) deny(r approval.Request, why string) {
	d := approval.Decision{ID: r.ID, RequestSHA256: r.Digest(), DecidedAt: a.now().UTC(), UID: os.Getuid(), PID: os.Getpid()}
	a.queue().Decide(d)
	a.audit(r, audit.Record{Event: "approval", Decision: "refused", Detail: why})
}

// Deny refuses the pending request id.
func (a *Approver) Deny(id string) (approval.Request, error) {
	r, err := a.Get(id)
	if err != nil {
		return r, err
	}
	d := approval.Decision{ID: r.ID, RequestSHA256: r.Digest(), DecidedAt: a.now().UTC(), UID: os.Getuid(), PID: os.Getpid()}
	if err := a.queue().Decide(d); err != nil {
		return r, err
	}
	a.audit(r, audit.Record{Event: "approval", Decision: "refused", Detail: "clawwarden deny"})
	return r, nil
}

// capped writes up to approval.MaxOutput bytes and drops the rest, so a
// flood of output cannot fill the disk; the person sees all of it.
type capped struct {
	w   io.Writer
	n   int
	cut bool
}

func (c *capped) Write(p []byte) (int, error) {
	if room := approval.MaxOutput - c.n; room < len(p) {
		c.cut = true
		if room > 0 {
			c.w.Write(p[:room])
			c.n += room
		}
		return len(p), nil
	}
	n, err := c.w.Write(p)
	c.n += n
	if err != nil {
		return len(p), nil // the person still sees the output
	}
	return len(p), nil
}
