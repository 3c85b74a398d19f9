package guard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/clawwarden/clawwarden/internal/agent"
	"github.com/clawwarden/clawwarden/internal/approval"
	"github.com/clawwarden/clawwarden/internal/audit"
	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/policy"
	"github.com/clawwarden/clawwarden/internal/rootfile"
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
	cwd, _ := os.Getwd()
	for i := range recs {
		recs[i].Time = a.now().UTC()
		recs[i].Argv = r.Argv
		recs[i].RequestID = r.ID
		recs[i].SessionID = r.SessionID
		recs[i].Reason = r.Reason
		recs[i].Cwd = cwd
	}
	(&audit.Log{Path: a.Paths.Security(config.AuditLogFile)}).Append(recs...)
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
	sudoPath, err := a.revalidate(r)
	if err != nil {
		a.deny(r, "clawwarden approve: "+err.Error())
		return out, err
	}
	pass, err := approval.LoadPassphrase(a.Paths.Security(config.PassphraseFile))
	if err != nil {
		return out, err
	}
	t.Deadline = r.Expires
	ans, err := approval.Ask(t, r, approval.Factors{Token: a.Env.ApprovalToken, Passphrase: pass}, "Approve, and run this exact command as root here?")
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
	a.audit(r, audit.Record{Event: "approval", Decision: "granted", Detail: d.Where + keepWord(d.Keep, r.KeepRequested), Advisory: r.Advisory})
	t.Close()
	out.Result = a.run(r, sudoPath, t.Name())
	return out, nil
}

// revalidate checks r again as the guard would, and returns the sudo to run
// it with.
func (a *Approver) revalidate(r approval.Request) (string, error) {
	sudoPath, err := sudo.Find(a.Env.RealSudo)
	if err != nil {
		return "", err
	}
	for i, s := range r.Argv {
		if err := checkText(fmt.Sprintf("argument %d", i), s); err != nil {
			return "", err
		}
	}
	if !r.Edit {
		abs, err := rootfile.Resolve(r.Argv[0])
		if err != nil || abs != r.Argv[0] {
			return "", fmt.Errorf("%w: %s is no longer a file root can run: %v", ErrInvalidCommand, r.Argv[0], err)
		}
		sum, err := rootfile.Hash(abs)
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrInvalidCommand, err)
		}
		if !approval.Equal(sum, r.BinarySHA256) {
			return "", fmt.Errorf("%w: %s changed since the request was filed (sha256 %s, the request names %s); the agent must ask again",
				ErrInvalidCommand, abs, sum, r.BinarySHA256)
		}
	}
	path := a.Paths.Security(config.CommandPolicyFile)
	pol, err := policy.Load(path)
	if errors.Is(err, fs.ErrNotExist) {
		pol, err = nil, nil
	}
	if err != nil {
		return "", err
	}
	if d := Decide(pol, path, r.Cwd, r.Argv, r.Argv, r.Edit, r.Named); !d.Allowed {
		return "", fmt.Errorf("%w: %s (rule %s)", ErrPolicyBlock, d.Reason, d.Rule)
	}
	return sudoPath, nil
}

// run runs the approved request here and records the result for the
// waiting guard.
func (a *Approver) run(r approval.Request, sudoPath, tty string) approval.Result {
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
	c := sudo.Command{Sudo: sudoPath, Opts: r.SudoArgs, Argv: r.Argv, Env: sudo.Env(a.Getenv), Dir: r.Cwd}
	if fi, err := os.Stat(r.Cwd); err != nil || !fi.IsDir() {
		return finish(sudo.Result{NotRun: fmt.Sprintf("the request's working directory %s is not a directory here", r.Cwd)})
	}
	if r.Edit {
		// The editor needs the person's terminal; nothing is relayed.
		c.Opts = append([]string{"-e"}, c.Opts...)
		tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
		if err != nil {
			return finish(sudo.Result{NotRun: err.Error()})
		}
		defer tty.Close()
		c.Stdin, c.Stdout, c.Stderr = tty, tty, a.Stderr
	} else {
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
	sr, err := sudo.Run(c)
	if err != nil {
		sr = notRun(err)
	}
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
