package cli

import (
	"context"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/clawwarden/clawwarden/internal/guard"
	"github.com/clawwarden/clawwarden/internal/sudo"
)

func init() { subcommands = append(subcommands, subcommand{"exec", newExecCmd}) }

type execOptions struct {
	reason          string
	sessionID       string
	keepSession     bool
	approvalTimeout time.Duration
}

func newExecCmd(a *app) *cobra.Command {
	var opts execOptions
	cmd := &cobra.Command{
		Use:   "exec [--reason TEXT] [--session-id ID] [--keep-session] -- CMD [ARG...]",
		Short: "Run one privileged command through the approval-first guard",
		Long: `Run CMD as root through sudo, after the command policy allows it and a person
approves this exact argv on the controlling terminal (or, without a terminal,
with 'clawwarden approve ID' from their own terminal).

Standard input never approves anything. The approval is bound to the exact
argv and the task session id; with --keep-session it stays valid for the same
argv until 30 idle minutes pass, otherwise it is dropped after the command.
'sudo -k' always runs afterwards. Every step is recorded in the audit log.

The exit status is the command's own, or one of the guard's refusals:
1 denied, 2 no command, 3 policy block, 4 bad token or passphrase,
5 untrusted source refused, 6 session id missing, 7 policy files missing,
8 invalid command, 9 invalid sudo binary, 12 unsafe or corrupt state.`,
		Example: `  clawwarden exec --reason "restart after config change" -- systemctl restart nginx
  OPENCLAW_TASK_SESSION_ID=task-42 clawwarden exec --keep-session -- /usr/bin/apt-get update`,
		Args:                  cobra.ArbitraryArgs,
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runExec(cmd, opts, args, "exec")
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false)
	f.StringVar(&opts.reason, "reason", "", "why the command is needed (default $OPENCLAW_PRIV_REASON)")
	f.StringVar(&opts.sessionID, "session-id", "", "task session id the approval is bound to (default $OPENCLAW_TASK_SESSION_ID)")
	f.BoolVar(&opts.keepSession, "keep-session", false, "keep the approval of this exact argv after it runs (until 30 idle minutes)")
	f.DurationVar(&opts.approvalTimeout, "approval-timeout", guard.DefaultApprovalTimeout, "how long a pending request waits for 'clawwarden approve'")
	return cmd
}

func (a *app) runExec(cmd *cobra.Command, opts execOptions, argv []string, via string) error {
	if opts.approvalTimeout <= 0 || opts.approvalTimeout > 24*time.Hour {
		return usageErr("--approval-timeout must be between 1s and 24h")
	}
	if s, ok := a.enforced(); ok && os.Getuid() == s.AgentUID {
		// Enforced mode: the root helper decides; sudo's rule is the boundary.
		sudoPath, err := sudo.Find(a.env.RealSudo)
		if err != nil {
			return err
		}
		reason, task := opts.reason, opts.sessionID
		if reason == "" {
			reason = a.env.PrivReason
		}
		if task == "" {
			task = a.env.TaskSessionID
		}
		args := []string{"-n", "--", enforcedLayout.Helper(), "request", "--reason=" + reason, "--task=" + task}
		if opts.keepSession {
			args = append(args, "--keep=30m")
		}
		return a.execSudo(sudoPath, append(append(args, "--"), argv...))
	}
	return a.runGuard(cmd.Context(), guard.Options{
		Argv:            argv,
		Reason:          opts.reason,
		SessionID:       opts.sessionID,
		KeepSession:     opts.keepSession,
		ApprovalTimeout: opts.approvalTimeout,
		Via:             via,
	})
}

// runGuard fills in what every guarded command shares and runs it. The
// command's own non-zero status becomes the exit status, silently.
func (a *app) runGuard(ctx context.Context, o guard.Options) error {
	paths, err := a.Paths()
	if err != nil {
		return err
	}
	o.Paths, o.Env, o.Getenv, o.Now = paths, a.env, a.getenv, a.now
	o.Stdin, o.Stdout, o.Stderr, o.Notice = a.stdio.In, a.stdio.Out, a.stdio.Err, a.printf
	code, err := guard.Run(ctx, o)
	if err != nil {
		return err
	}
	if code != 0 {
		return silent(code)
	}
	return nil
}
