package cli

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/clawwarden/clawwarden/internal/approval"
	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/enforce"
	"github.com/clawwarden/clawwarden/internal/guard"
	"github.com/clawwarden/clawwarden/internal/quote"
)

func init() {
	subcommands = append(subcommands, subcommand{"pending", newPendingCmd}, subcommand{"approve", newApproveCmd}, subcommand{"deny", newDenyCmd}, subcommand{"approval", newApprovalCmd})
}

func (a *app) queue() (*approval.Queue, config.Paths, error) {
	paths, err := a.Paths()
	if err != nil {
		return nil, paths, err
	}
	return &approval.Queue{Dir: paths.PendingDir(), Now: a.now}, paths, nil
}

func (a *app) approver() (*guard.Approver, error) {
	paths, err := a.Paths()
	if err != nil {
		return nil, err
	}
	return &guard.Approver{Paths: paths, Env: a.env, Getenv: a.getenv, Now: a.now, Stdout: a.stdio.Out, Stderr: a.stdio.Err}, nil
}

// whoseQueue says whose pending queue was read, and why others' requests
// are not in it.
func whoseQueue(dir string) string {
	name := strconv.Itoa(os.Getuid())
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return fmt.Sprintf("read the pending queue of %s (uid %d): %s; requests of another account's agent are in that account's own queue (run 'clawwarden pending' as that account)",
		name, os.Getuid(), dir)
}

func newPendingCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "pending [--json]",
		Short: "List privileged commands waiting for approval",
		Long: `List the privileged commands waiting for a person's approval in this
account's pending queue (` + config.PendingDirName + ` in the security directory). Every value the
agent chose is shown escaped: control, invisible and direction-changing
characters appear as $'\u202e'. Decide with 'clawwarden approve ID' or
'clawwarden deny ID' from your own terminal.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, ok := a.enforced(); ok {
				return a.enforcedPending(asJSON)
			}
			q, _, err := a.queue()
			if err != nil {
				return err
			}
			reqs, err := q.List()
			if err != nil {
				return err
			}
			if asJSON {
				if reqs == nil {
					reqs = []approval.Request{}
				}
				return writeJSON(a.stdio.Out, reqs)
			}
			if len(reqs) == 0 {
				fmt.Fprintln(a.stdio.Out, "no pending approval requests")
				fmt.Fprintln(a.stdio.Out, whoseQueue(q.Dir))
				return nil
			}
			now := a.now()
			for _, r := range reqs {
				state := "expires in " + r.Expires.Sub(now).Round(time.Second).String()
				if now.After(r.Expires) {
					state = "expired"
				}
				fmt.Fprintf(a.stdio.Out, "%s  %s  (%s)\n", r.ID, r.Command(), state)
				fmt.Fprintf(a.stdio.Out, "    cwd=%s pid=%d reason=%s session=%s\n", quote.Word(r.Cwd), r.PID, quote.Word(r.Reason), quote.Word(r.SessionID))
				if r.Advisory {
					fmt.Fprintln(a.stdio.Out, "    warning: sudo runs this command with no password: approving is advisory")
				}
			}
			fmt.Fprintln(a.stdio.Out, "decide with: clawwarden approve ID  |  clawwarden deny ID")
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newApproveCmd(a *app) *cobra.Command {
	var forD time.Duration
	var keyFile string
	cmd := &cobra.Command{
		Use:   "approve ID [--for DURATION] [--key FILE]",
		Short: "Approve a pending privileged command and run it, from your own terminal",
		Long: `Approve the pending request ID (see 'clawwarden pending') and run it here.

The request is checked again (the binary must still have the SHA-256 the
request names, and the command policy must still allow it) and shown in
full: the facts clawwarden worked out first, then argv one escaped element
per line, then the agent's own words. You confirm on the controlling
terminal; piped input is never read, and a terminal that belongs to an
agent (OPENCLAW_SHELL=exec, or a session under an OpenClaw gateway) is
refused. When the agent asked to keep the approval, you are asked whether
to keep it for 30 idle minutes.

Once approved, the command runs right here as 'sudo -k -- CMD' in the
request's working directory, so you type your sudo password for it: in
same-user mode your password is what the agent cannot produce. Its output
is shown to you and relayed, with its exit status, to the waiting request.

In enforced mode (see 'clawwarden help enforce') the request comes from the
root-side queue, with the facts the root helper worked out; you confirm on
your terminal, and the decision is signed with your approval key, from
ssh-agent (SSH_AUTH_SOCK) or --key FILE, and handed to the waiting root
helper, which verifies it and runs the command. --for DURATION (at most 30m)
keeps the approval of this exact request for that long idle.

Exit status: 0 approved and run (whatever the command's own status, which
is printed) or, enforced, signed and submitted; 1 refused or not run, 4
wrong token or passphrase, 13 no such pending request (or it expired).`,
		Args:              exactArgs(1),
		ValidArgsFunction: a.completePending,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, ok := a.enforced(); ok {
				return a.enforcedDecide(args[0], true, forD, keyFile)
			}
			if forD != 0 || keyFile != "" {
				return usageErr("--for and --key are enforced mode's; in same-user mode you are asked whether to keep the approval")
			}
			ap, err := a.approver()
			if err != nil {
				return err
			}
			out, err := ap.Approve(cmd.Context(), args[0])
			if err != nil {
				if errors.Is(err, approval.ErrNoTerminal) {
					return withHint(err, "approve runs only on a person's terminal; piped input cannot approve")
				}
				if errors.Is(err, guard.ErrAgentTerminal) {
					return withHint(err, "run 'clawwarden approve "+args[0]+"' in your own terminal, not in one the agent started")
				}
				return err
			}
			r, res := out.Request, out.Result
			switch {
			case !res.Ran:
				return fmt.Errorf("%w: request %s approved, but the command did not run: %s", guard.ErrNotRun, r.ID, res.NotRun)
			default:
				fmt.Fprintf(a.stdio.Err, "clawwarden: request %s approved and run: %s (exit %d)\n", r.ID, r.Command(), res.ExitCode)
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&forD, "for", 0, "enforced mode: keep the approval of this exact request for up to DURATION idle (at most 30m)")
	cmd.Flags().StringVar(&keyFile, "key", "", "enforced mode: sign with this private key file instead of ssh-agent")
	return cmd
}

func newDenyCmd(a *app) *cobra.Command {
	var keyFile string
	cmd := &cobra.Command{
		Use:   "deny ID [--key FILE]",
		Short: "Refuse a pending privileged command",
		Long: `Refuse the pending request ID (see 'clawwarden pending'). In enforced mode the
refusal is a signed decision too (ssh-agent, or --key FILE).

Exit status 13 when there is no such pending request.`,
		Args:              exactArgs(1),
		ValidArgsFunction: a.completePending,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, ok := a.enforced(); ok {
				return a.enforcedDecide(args[0], false, 0, keyFile)
			}
			if keyFile != "" {
				return usageErr("--key is enforced mode's")
			}
			ap, err := a.approver()
			if err != nil {
				return err
			}
			r, err := ap.Deny(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdio.Out, "request %s refused: %s\n", r.ID, r.Command())
			return nil
		},
	}
	cmd.Flags().StringVar(&keyFile, "key", "", "enforced mode: sign with this private key file instead of ssh-agent")
	return cmd
}

func newApprovalCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "approval",
		Short: "Manage the approval passphrase",
		Args:  noArgs,
	}
	set := &cobra.Command{
		Use:   "set-passphrase",
		Short: "Set the approval passphrase (typed twice on the terminal; stored only as a salted Argon2id-derived key)",
		Long: `Set the approval passphrase. Once set, every approval — on the terminal or
with 'clawwarden approve' — needs it, and an out-of-band approval is signed
with a key derived from it. Only a random salt, the Argon2id parameters and
the derived public key are stored (` + config.PassphraseFile + `, mode 0600);
the passphrase itself is never written or placed in any environment.
Changing an existing passphrase asks for the current one first.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			paths, err := a.Paths()
			if err != nil {
				return err
			}
			if _, err := approval.LoadPassphrase(paths.Security(config.PassphraseFile)); err != nil {
				return err
			}
			t, err := approval.OpenTerminal()
			if err != nil {
				return withHint(err, "set the passphrase from your own terminal")
			}
			defer t.Close()
			return a.setPassphrase(t)
		},
	}
	status := &cobra.Command{
		Use:   "status",
		Short: "Say whether an approval passphrase is set",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			paths, err := a.Paths()
			if err != nil {
				return err
			}
			p, err := approval.LoadPassphrase(paths.Security(config.PassphraseFile))
			if err != nil {
				return err
			}
			if p == nil {
				fmt.Fprintln(a.stdio.Out, "approval passphrase: not set (set it with 'clawwarden approval set-passphrase')")
				return nil
			}
			fmt.Fprintf(a.stdio.Out, "approval passphrase: set on %s (%s)\n", p.CreatedAt.Local().Format(time.RFC3339), p.KDF)
			return nil
		},
	}
	cmd.AddCommand(set, status)
	return cmd
}

// setPassphrase asks on t for the current passphrase (when one is set)
// and a new one, twice, and stores its verifier.
func (a *app) setPassphrase(t *approval.Terminal) error {
	ap, err := a.approver()
	if err != nil {
		return err
	}
	path, done, err := ap.SetPassphrase(t)
	if !done {
		return err
	}
	if err != nil {
		a.printf("warning: %v", err)
	}
	fmt.Fprintf(a.stdio.Out, "approval passphrase set (%s)\n", path)
	return nil
}

// completePending offers the ids of the pending requests the person could
// decide (the root-side queue in enforced mode), described by their
// commands.
func (a *app) completePending(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var ids []cobra.Completion
	if _, ok := a.enforced(); ok {
		reqs, _ := enforce.Pending(enforcedLayout)
		for _, r := range reqs {
			ids = append(ids, cobra.CompletionWithDesc(r.ID, quote.Argv(r.Parsed.Argv)))
		}
		return ids, cobra.ShellCompDirectiveNoFileComp
	}
	q, _, err := a.queue()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	reqs, _ := q.List()
	for _, r := range reqs {
		ids = append(ids, cobra.CompletionWithDesc(r.ID, r.Command()))
	}
	return ids, cobra.ShellCompDirectiveNoFileComp
}
