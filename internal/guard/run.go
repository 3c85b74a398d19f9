package guard

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clawwarden/clawwarden/internal/approval"
	"github.com/clawwarden/clawwarden/internal/audit"
	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/session"
	"github.com/clawwarden/clawwarden/internal/sudo"
)

// factors loads what a person must supply besides "yes".
func (r *run) factors() (approval.Factors, error) {
	pass, err := approval.LoadPassphrase(r.o.Paths.Security(config.PassphraseFile))
	if err != nil {
		return approval.Factors{}, err
	}
	return approval.Factors{Token: r.o.Env.ApprovalToken, Passphrase: pass}, nil
}

// approveOnTerminal asks the person at the controlling terminal, then runs
// the command here: sudo asks the same person for the password.
func (r *run) approveOnTerminal(t *approval.Terminal, req approval.Request) (int, error) {
	f, err := r.factors()
	if err != nil {
		return 0, err
	}
	t.Deadline = r.o.now().Add(r.o.ApprovalTimeout)
	if err := approval.CheckNotTraced(); err != nil {
		return 0, err
	}
	ans, err := approval.Ask(t, req, f, "Run this exact command as root?")
	if err != nil {
		if errors.Is(err, approval.ErrTimeout) {
			err = fmt.Errorf("%w: nobody answered on the terminal within %s", approval.ErrDenied, r.o.ApprovalTimeout)
		}
		r.audit(audit.Record{Event: "approval", Decision: "refused", Detail: "terminal " + t.Name() + ": " + err.Error(), Advisory: req.Advisory})
		r.finished = true
		return 0, err
	}
	rec := audit.Record{Event: "approval", Decision: "approved", Detail: "terminal " + t.Name() + keepWord(ans.Keep, req.KeepRequested), Advisory: req.Advisory}
	if req.Advisory {
		r.o.Notice("warning: sudo runs this command with no password: the approval was advisory (clawwarden enforce install makes it binding)")
	}
	if err := r.audit(rec); err != nil {
		r.finished = true
		r.afterwards(notRun(err), ans.Keep, "terminal", req.Advisory)
		return 0, fmt.Errorf("%w: refusing to run a privileged command that cannot be audited: %v", ErrNotRun, err)
	}
	return r.execute(t, ans.Keep, req.Advisory)
}

// keepWord says in the audit record whether the approval was kept.
func keepWord(keep, requested bool) string {
	switch {
	case keep:
		return "; kept by the person for the session"
	case requested:
		return "; keeping it was asked for and not granted"
	}
	return ""
}

// execute runs the approved command here, through sudo -k.
func (r *run) execute(t *approval.Terminal, keep, noPassword bool) (int, error) {
	o := &r.o
	// A person may have to type the sudo password: release the terminal
	// descriptor of the prompt first (sudo opens its own).
	if t != nil {
		t.Close()
	}
	if err := approval.CheckNotTraced(); err != nil {
		r.finished = true
		r.afterwards(notRun(err), false, "here", noPassword)
		return 0, fmt.Errorf("%w: %v", ErrNotRun, err)
	}
	opts := o.SudoArgs
	if o.Edit {
		opts = append([]string{"-e"}, opts...)
	}
	// The session state (last activity; the approval kept or consumed) is
	// written while the command runs: it does not depend on the outcome,
	// and its fsyncs then cost the caller nothing.
	state := make(chan error, 1)
	go func() { state <- r.updateState(keep, noPassword) }()
	res, err := sudo.Run(sudo.Command{Sudo: r.sudo, Opts: opts, Argv: r.abs, Env: sudo.Env(o.Getenv),
		Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr, NoPassword: noPassword})
	if err != nil {
		res = notRun(err)
	}
	r.finished = true
	r.record(res, keep, "here", <-state)
	if !res.Ran {
		return 0, fmt.Errorf("%w: %s", ErrNotRun, res.NotRun)
	}
	return res.ExitCode, nil
}

func notRun(err error) sudo.Result { return sudo.Result{NotRun: err.Error()} }

// approvePending files a pending request and waits: the person approves it
// from their own terminal with `clawwarden approve ID`, which runs the
// command there (the person types the sudo password) and relays its output
// and exit status back.
func (r *run) approvePending(ctx context.Context, req approval.Request, t *approval.Terminal) (int, error) {
	o := &r.o
	if t != nil {
		t.Close()
	}
	f, err := r.factors()
	if err != nil {
		return 0, err
	}
	q := &approval.Queue{Dir: o.Paths.PendingDir(), Now: o.Now}
	if err := q.Submit(req); err != nil {
		return 0, err
	}
	defer q.Remove(req.ID)
	why := "no terminal to ask on"
	switch {
	case r.agentWhy != "":
		why = "the terminal belongs to an agent (" + r.agentWhy + ")"
	case o.ForcePending:
		why = "non-interactive sudo"
	}
	r.audit(audit.Record{Event: "approval", Decision: "pending", Detail: why + "; waiting for 'clawwarden approve " + req.ID + "'", Advisory: req.Advisory})
	o.Notice("approval request %s is pending (%s)", req.ID, why)
	o.Notice("ask the person to run, in their own terminal:  clawwarden approve %s   (or: clawwarden deny %s)", req.ID, req.ID)
	o.Notice("it expires in %s", o.ApprovalTimeout.Round(time.Second))
	w := &approval.Waiter{Q: q, Request: req, Factors: f, Poll: o.Poll}
	d, err := w.Decision(ctx)
	if err != nil {
		r.audit(audit.Record{Event: "approval", Decision: "refused", Detail: err.Error()})
		r.finished = true
		return 0, err
	}
	r.audit(audit.Record{Event: "approval", Decision: "approved",
		Detail:   fmt.Sprintf("pending:%s; by uid %d on %s; runs there (pid %d)%s", req.ID, d.UID, d.Where, d.PID, keepWord(d.Keep, req.KeepRequested)),
		Advisory: req.Advisory})
	o.Notice("request %s approved; it runs in the approver's terminal", req.ID)
	res, err := w.Result(ctx, d)
	r.finished = true
	if err != nil {
		r.audit(audit.Record{Event: "result", Decision: "unknown", Detail: err.Error()})
		return 0, fmt.Errorf("%w: %v", ErrNotRun, err)
	}
	if err := q.CopyOutput(req.ID, o.Stdout, o.Stderr); err != nil {
		o.Notice("could not relay the command's output: %v", err)
	}
	sr := sudo.Result{Ran: res.Ran, ExitCode: res.ExitCode, NotRun: res.NotRun, Duration: res.Ended.Sub(res.Started)}
	r.afterwards(sr, d.Keep, "in the approver's terminal "+res.Where, req.Advisory)
	if !res.Ran {
		return 0, fmt.Errorf("%w: %s", ErrNotRun, res.NotRun)
	}
	return res.ExitCode, nil
}

// afterwards is step 8: record activity, keep the approval if the person
// kept it (or it was a kept one), drop the others, audit the outcome. It
// runs whether or not the command ran.
func (r *run) afterwards(res sudo.Result, keep bool, where string, noPassword bool) {
	r.record(res, keep, where, r.updateState(keep, noPassword))
}

// updateState records the activity, keeps the approval when the person kept
// it (or it was a kept one) and drops the others.
func (r *run) updateState(keep, noPassword bool) error {
	o := &r.o
	store := &session.Store{Path: o.Paths.Security(config.SessionStateFile), Now: o.Now}
	return store.Update(func(st *session.State, now time.Time) error {
		st.Touch(now)
		switch {
		case keep:
			if _, found := st.Find(r.key(), now); !found {
				st.Grant(session.Approval{Key: r.key(), NoPassword: noPassword, ApprovedAt: now.UTC(), Via: r.via(), RequestID: r.id})
			}
		default:
			st.Drop()
		}
		return nil
	})
}

// record audits how the run ended and what became of the session.
func (r *run) record(res sudo.Result, keep bool, where string, stateErr error) {
	o := &r.o
	rec := ResultRecord(res, where)
	sess := audit.Record{Event: "session", Decision: "dropped"}
	if keep {
		sess.Decision = "kept"
	}
	if stateErr != nil {
		sess.Decision = "error"
		sess.Detail = stateErr.Error()
		o.Notice("warning: session state not updated: %v", stateErr)
	}
	r.audit(rec, sess)
}

func (r *run) via() string {
	if r.agentWhy != "" || r.o.ForcePending {
		return "pending:" + r.id
	}
	return "terminal"
}

// ResultRecord is the audit record of how a run ended: "ran" with the exit
// status, or "not run" with the reason. where says where it ran.
func ResultRecord(res sudo.Result, where string) audit.Record {
	if !res.Ran {
		return audit.Record{Event: "result", Decision: "not run", Detail: strings.TrimSpace(res.NotRun + "; " + where)}
	}
	code := res.ExitCode
	ms := float64(res.Duration.Microseconds()) / 1000
	return audit.Record{Event: "result", Decision: "ran", ExitCode: &code, DurationMS: &ms, Detail: "ran " + where}
}
