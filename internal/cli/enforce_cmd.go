package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/clawwarden/clawwarden/internal/approval"
	"github.com/clawwarden/clawwarden/internal/enforce"
	"github.com/clawwarden/clawwarden/internal/rootside"
	"github.com/clawwarden/clawwarden/internal/signed"
)

func init() {
	subcommands = append(subcommands, subcommand{"enforce", newEnforceCmd}, subcommand{"decision", newDecisionCmd})
}

// enforcedLayout is where enforced mode's files are: the real ones. The
// package's tests point it at an empty directory, so that enforced mode
// installed on the test host (by the end-to-end tests, running at the same
// time) does not change what the command-line tests see.
var enforcedLayout = rootside.Layout{}

// enforced reports whether this host is in enforced mode.
func (a *app) enforced() (rootside.Settings, bool) { return enforcedLayout.Enforced() }

func newEnforceCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "enforce",
		Short: "Enforced mode: the agent's account reaches root only with a person's signed decision (Linux)",
		Long: `Enforced mode gives the agent's own unix account exactly one sudo right: clawwarden's
root helper (/usr/local/libexec/clawwarden/clawwarden-root). Configuration, approver keys,
sessions and the audit log live where that account cannot write, and an approver approves
each command with an SSH signature ('clawwarden approve ID', with ssh-agent or --key).
Same-user mode, where the person's sudo password is the gate, is advisory against a
hostile agent; enforced mode is the one that stops it.`,
		Args: noArgs,
	}
	var install struct {
		agent       string
		approvers   []string
		force       bool
		auditSyslog bool
	}
	in := &cobra.Command{
		Use:   "install --agent-user ACCOUNT --approver ACCOUNT=KEY.pub [--approver …] [--audit-syslog] [--force]",
		Short: "Install enforced mode (root only)",
		Long: `Install lists every system path it writes, then: copies the root helper from beside
this binary (both must come from one build), writes /etc/clawwarden (settings with a random
install id, allowed_signers from the approvers' public keys, the command policy moved from
the agent's ~/.openclaw/security/command-policy.json after showing it), creates
/var/lib/clawwarden and /var/log/clawwarden, the clawwarden-approvers group (the approvers
join it to read the queue), and /etc/sudoers.d/clawwarden (checked with visudo before it is
moved into place), and points the agent's ~/.openclaw/bin/sudo and sudoedit at the helper.

It refuses, listing each one, when the agent account has another route to root: another sudo
right, a group that is root in disguise (sudo, wheel, admin, docker, lxd, disk, …), the docker
socket, polkit or doas rules, root cron jobs or units that run files it can write, file
capabilities or setuid files it owns, a gateway service with NoNewPrivileges. --force installs
anyway, and 'enforce status' keeps saying "not enforced" and why. Running it again is
idempotent. Linux only.

--audit-syslog sets audit_syslog in /etc/clawwarden/settings.json: the root helper then also
sends every audit record to the host's log pipeline (journald's native socket when it exists,
else /dev/log as RFC 5424 with structured data [clawwarden@32473 …]), each with its hash and
the previous record's hash, for a collector to keep off the host. The local log stays the
record: a send that fails is reported, never blocks beyond a short deadline, and never fails
the request. The setting is root's, so the agent cannot turn it off; --audit-syslog=false
turns it off, and running install again without the flag keeps it as it is.

Exit status: 0 installed, 10 refused for other routes to root, 64 usage, 70 failure.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if install.agent == "" {
				return usageErr("--agent-user is required")
			}
			var as []enforce.Approver
			for _, s := range install.approvers {
				acct, key, ok := strings.Cut(s, "=")
				if !ok || acct == "" || key == "" {
					return usageErr("--approver wants ACCOUNT=PUBLIC_KEY_FILE, got %q", s)
				}
				as = append(as, enforce.Approver{Account: acct, KeyFile: key})
			}
			self, err := os.Executable()
			if err != nil {
				return err
			}
			o := enforce.Options{AgentUser: install.agent, Approvers: as, Force: install.force, Binary: self, Out: a.stdio.Out}
			if cmd.Flags().Changed("audit-syslog") {
				o.AuditSyslog = &install.auditSyslog
			}
			_, err = enforce.Install(cmd.Context(), o)
			if errors.Is(err, enforce.ErrOtherRoutes) {
				return withCode(ExitFindings, err)
			}
			return err
		},
	}
	in.Flags().StringVar(&install.agent, "agent-user", "", "the agent's unix account (e.g. openclaw)")
	in.Flags().StringArrayVar(&install.approvers, "approver", nil, "ACCOUNT=PUBLIC_KEY_FILE of a person who may approve (repeat)")
	in.Flags().BoolVar(&install.force, "force", false, "install even when the agent account has other routes to root")
	in.Flags().BoolVar(&install.auditSyslog, "audit-syslog", false, "also send every audit record to the host's log pipeline (journald or syslog); =false turns it off")
	un := &cobra.Command{
		Use:   "uninstall",
		Short: "Remove exactly what 'enforce install' added (root only); the audit log is kept",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return enforce.Uninstall(enforce.Options{Out: a.stdio.Out})
		},
	}
	var statusJSON bool
	st := &cobra.Command{
		Use:   "status [--json]",
		Short: "Say whether enforced mode holds here, and why not",
		Long: `Status says "enforced: yes" when enforced mode is installed, the root helper and its sudoers
rule are in place and unchanged, the approvers' keys parse, and the agent account has no other
route to root (run it as root for the complete check); otherwise "enforced: no" and the exact
list of what blocks it.

Exit status: 0 enforced, 10 not enforced.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s := enforce.Check(cmd.Context(), enforce.Options{})
			if statusJSON {
				if err := writeJSON(a.stdio.Out, s); err != nil {
					return err
				}
			} else {
				w := a.stdio.Out
				fmt.Fprintf(w, "enforced: %s\n", map[bool]string{true: "yes", false: "no"}[s.Enforced])
				if s.AgentUser != "" {
					fmt.Fprintf(w, "agent account: %s\n", s.AgentUser)
				}
				for _, sg := range s.Signers {
					fmt.Fprintf(w, "approver: %s\n", sg)
				}
				if s.AuditSyslog {
					fmt.Fprintf(w, "audit records: also sent to the host's log pipeline (audit_syslog)\n")
				}
				for _, r := range s.Reasons {
					fmt.Fprintf(w, "not enforced because: %s\n", r)
				}
			}
			if !s.Enforced {
				return silent(ExitFindings)
			}
			return nil
		},
	}
	st.Flags().BoolVar(&statusJSON, "json", false, "print JSON")
	cmd.AddCommand(in, un, st)
	return cmd
}

func newDecisionCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "decision",
		Short: "Sign a decision elsewhere: draft its exact bytes, then submit them with the signature",
		Long: `For signing on another machine or with another tool (enforced mode):

  clawwarden decision draft ID --approve [--for 30m] > decision
  ssh-keygen -Y sign -n ` + signed.Namespace + ` -f ~/.ssh/approval_key decision
  clawwarden decision submit ID decision decision.sig

submit works from any account: the root helper trusts nothing but the signature.`,
		Args: noArgs,
	}
	var approve, deny bool
	var forD time.Duration
	draft := &cobra.Command{
		Use:   "draft ID --approve|--deny [--for DURATION]",
		Short: "Print the exact decision bytes for request ID",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if approve == deny {
				return usageErr("give exactly one of --approve and --deny")
			}
			r, err := enforce.Get(enforcedLayout, args[0])
			if err != nil {
				return err
			}
			d, err := enforce.DecisionFor(enforcedLayout, r, approve, forD)
			if err != nil {
				return err
			}
			_, err = a.stdio.Out.Write(d.Marshal())
			return err
		},
	}
	draft.Flags().BoolVar(&approve, "approve", false, "approve the request")
	draft.Flags().BoolVar(&deny, "deny", false, "deny the request")
	draft.Flags().DurationVar(&forD, "for", 0, "keep the approval of this exact request for up to DURATION idle (at most 30m)")
	submit := &cobra.Command{
		Use:   "submit ID DECISION_FILE SIGNATURE_FILE",
		Short: "Hand a decision and its signature to the waiting root helper",
		Args:  exactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := os.ReadFile(args[1])
			if err != nil {
				return err
			}
			sig, err := os.ReadFile(args[2])
			if err != nil {
				return err
			}
			if err := enforce.SubmitFiles(enforcedLayout, args[0], d, sig); err != nil {
				return err
			}
			fmt.Fprintf(a.stdio.Out, "decision on %s submitted; the root helper verifies it\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(draft, submit)
	return cmd
}

// enforcedPending lists the root-side queue for approvers.
func (a *app) enforcedPending(asJSON bool) error {
	reqs, err := enforce.Pending(enforcedLayout)
	if err != nil {
		return err
	}
	if asJSON {
		type item struct {
			ID      string         `json:"id"`
			Argv    []string       `json:"argv"`
			Account string         `json:"account"`
			Cwd     string         `json:"cwd"`
			Reason  string         `json:"reason,omitempty"`
			Task    string         `json:"task,omitempty"`
			Expires time.Time      `json:"expires"`
			Facts   rootside.Facts `json:"facts"`
		}
		out := []item{}
		for _, r := range reqs {
			out = append(out, item{r.ID, r.Parsed.Argv, r.Parsed.Account, r.Parsed.Cwd, r.Parsed.Reason, r.Parsed.TaskID, r.Parsed.Expires, r.Facts})
		}
		return writeJSON(a.stdio.Out, out)
	}
	if len(reqs) == 0 {
		fmt.Fprintln(a.stdio.Out, "no pending approval requests (enforced mode: "+enforcedLayout.PendingDir()+")")
		return nil
	}
	for _, r := range reqs {
		fmt.Fprintln(a.stdio.Out, r.Summary())
	}
	fmt.Fprintln(a.stdio.Out, "decide with: clawwarden approve ID [--for D]  |  clawwarden deny ID")
	return nil
}

// enforcedDecide shows request id, asks, signs and submits the decision.
func (a *app) enforcedDecide(id string, approve bool, forD time.Duration, keyFile string) error {
	l := enforcedLayout
	r, err := enforce.Get(l, id)
	if err != nil {
		return err
	}
	text, err := enforce.Describe(r)
	if err != nil {
		return err
	}
	t, err := approval.OpenTerminal()
	if err != nil {
		return withHint(err, "decide on a person's terminal; to sign elsewhere use 'clawwarden decision draft'")
	}
	defer t.Close()
	t.Printf("\n%s", text)
	verb := "Approve"
	if !approve {
		verb = "Deny"
	}
	scope := "once"
	if approve && forD > 0 {
		scope = "and keep it for " + forD.String() + " idle"
	}
	ans, err := t.Line(fmt.Sprintf("%s this exact request (%s)? [y/N] ", verb, scope))
	if err != nil || !yesAnswer(ans) {
		return fmt.Errorf("%w: not confirmed; nothing was signed", approval.ErrDenied)
	}
	d, err := enforce.DecisionFor(l, r, approve, forD)
	if err != nil {
		return err
	}
	s, signer, err := enforce.Signer(l, keyFile, a.getenv("SSH_AUTH_SOCK"), t.Secret)
	if err != nil {
		return err
	}
	if err := enforce.Submit(l, id, d, s); err != nil {
		return err
	}
	fmt.Fprintf(a.stdio.Out, "%s request %s, signed by %s (%s); the root helper verifies it\n",
		map[bool]string{true: "approved", false: "denied"}[approve], id, strings.Join(signer.Principals, ","), signed.Fingerprint(signer.Key))
	return nil
}

func yesAnswer(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	return s == "y" || s == "yes"
}
