package cli

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/clawwarden/clawwarden/internal/approval"
	"github.com/clawwarden/clawwarden/internal/audit"
	"github.com/clawwarden/clawwarden/internal/config"
)

func init() {
	subcommands = append(subcommands, newPendingCmd, newApproveCmd, newDenyCmd, newApprovalCmd)
}

func (a *app) queue() (*approval.Queue, config.Paths, error) {
	paths, err := a.Paths()
	if err != nil {
		return nil, paths, err
	}
	return &approval.Queue{Dir: paths.PendingDir(), Now: a.now}, paths, nil
}

// auditEvent records a person's action; a failure is reported, not fatal.
func (a *app) auditEvent(paths config.Paths, rec audit.Record) {
	rec.Time = a.now().UTC()
	if cwd, err := os.Getwd(); err == nil {
		rec.Cwd = cwd
	}
	log := &audit.Log{Path: paths.Security(config.AuditLogFile)}
	if err := log.Append(rec); err != nil {
		a.printf("warning: audit log: %v", err)
	}
}

func newPendingCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "pending [--json]",
		Short: "List privileged commands waiting for approval",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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
				return nil
			}
			now := a.now()
			for _, r := range reqs {
				state := "expires in " + r.Expires.Sub(now).Round(time.Second).String()
				if now.After(r.Expires) {
					state = "expired"
				}
				fmt.Fprintf(a.stdio.Out, "%s  %s  (%s)\n", r.ID, r.Prompt().Command, state)
				fmt.Fprintf(a.stdio.Out, "    reason=%q session=%q cwd=%q pid=%d\n", r.Reason, r.SessionID, r.Cwd, r.PID)
			}
			fmt.Fprintln(a.stdio.Out, "decide with: clawwarden approve ID  |  clawwarden deny ID")
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newApproveCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "approve ID",
		Short: "Approve a pending privileged command, from your own terminal",
		Long: `Approve the pending request ID (see 'clawwarden pending'). The request is shown
in full and you confirm it on the controlling terminal; piped input is never
read. When an approval passphrase is set, you type it and the approval is
signed with the key it derives, so the waiting guard can tell it came from
someone who knows the passphrase.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q, paths, err := a.queue()
			if err != nil {
				return err
			}
			r, err := q.Get(args[0])
			if err != nil {
				return err
			}
			if a.now().After(r.Expires) {
				return withCode(ExitDenied, fmt.Errorf("request %s expired at %s", r.ID, r.Expires.Local().Format(time.RFC3339)))
			}
			pass, err := approval.LoadPassphrase(paths.Security(config.PassphraseFile))
			if err != nil {
				return err
			}
			t, err := approval.OpenTerminal()
			if err != nil {
				return withHint(err, "approve runs only on a person's terminal; piped input cannot approve")
			}
			defer t.Close()
			d, err := approval.AskApprove(t, r, pass, a.now(), os.Getuid())
			if err != nil {
				if errors.Is(err, approval.ErrDenied) {
					d.Approved = false
					if derr := q.Decide(d); derr != nil {
						return derr
					}
					a.auditEvent(paths, audit.Record{Event: "approval", Decision: "refused", Argv: r.Argv, RequestID: r.ID, SessionID: r.SessionID, Detail: "clawwarden approve: not confirmed"})
					fmt.Fprintf(a.stdio.Out, "request %s refused\n", r.ID)
				}
				return err
			}
			if err := q.Decide(d); err != nil {
				return err
			}
			a.auditEvent(paths, audit.Record{Event: "approval", Decision: "granted", Argv: r.Argv, RequestID: r.ID, SessionID: r.SessionID, Detail: "clawwarden approve"})
			fmt.Fprintf(a.stdio.Out, "request %s approved: %s\n", r.ID, r.Command)
			return nil
		},
	}
}

func newDenyCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "deny ID",
		Short: "Refuse a pending privileged command",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q, paths, err := a.queue()
			if err != nil {
				return err
			}
			r, err := q.Get(args[0])
			if err != nil {
				return err
			}
			d := approval.Decision{ID: r.ID, Approved: false, DecidedAt: a.now().UTC(), UID: os.Getuid()}
			if err := q.Decide(d); err != nil {
				return err
			}
			a.auditEvent(paths, audit.Record{Event: "approval", Decision: "refused", Argv: r.Argv, RequestID: r.ID, SessionID: r.SessionID, Detail: "clawwarden deny"})
			fmt.Fprintf(a.stdio.Out, "request %s refused: %s\n", r.ID, r.Command)
			return nil
		},
	}
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
			path := paths.Security(config.PassphraseFile)
			old, err := approval.LoadPassphrase(path)
			if err != nil {
				return err
			}
			t, err := approval.OpenTerminal()
			if err != nil {
				return withHint(err, "set the passphrase from your own terminal")
			}
			defer t.Close()
			return a.setPassphrase(t, old, path)
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

// setPassphrase asks on t for the current passphrase (when old is set) and
// a new one, twice, and stores its verifier at path.
func (a *app) setPassphrase(t *approval.Terminal, old *approval.Passphrase, path string) error {
	paths, err := a.Paths()
	if err != nil {
		return err
	}
	if old != nil {
		cur, err := t.Secret("Current approval passphrase: ")
		if err != nil {
			return approval.ErrBadToken
		}
		if _, err := old.Key(cur); err != nil {
			return err
		}
	}
	p1, err := t.Secret("New approval passphrase (at least 8 characters): ")
	if err != nil {
		return err
	}
	p2, err := t.Secret("Repeat it: ")
	if err != nil {
		return err
	}
	if p1 != p2 {
		return withCode(ExitBadToken, errors.New("the two passphrases differ; nothing changed"))
	}
	p, err := approval.NewPassphrase(p1, approval.DefaultKDF, a.now())
	if err != nil {
		return usageErr("%v", err)
	}
	if err := p.Save(path); err != nil {
		return err
	}
	a.auditEvent(paths, audit.Record{Event: "passphrase", Decision: "set", Detail: "approval passphrase set"})
	fmt.Fprintf(a.stdio.Out, "approval passphrase set (%s)\n", path)
	return nil
}
