package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/guard"
	"github.com/clawwarden/clawwarden/internal/policy"
)

func init() { subcommands = append(subcommands, subcommand{"policy", newPolicyCmd}) }

func newPolicyCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Inspect the command policy",
		Args:  noArgs,
	}
	var asJSON bool
	var file string
	check := &cobra.Command{
		Use:   "check [--json] [--file PATH] -- CMD [ARG...]",
		Short: "Say whether the guard would allow CMD, and which rule decided",
		Long: `Evaluate CMD exactly as the guard would, with the same decision function,
without asking anyone or running anything: the input check, the command's
resolution, the command policy and the built-in rules, then the settings
OPENCLAW_REQUIRE_POLICY_FILES and OPENCLAW_REQUIRE_SESSION_ID. A line that
starts with the word sudo or sudoedit is read as the sudo shim reads it:
sudo options that change identity, open a shell or keep the environment, and
sudoedit, are allowed only when allow_exact names the whole line.

Exit status: 0 allowed, 3 refused by policy, 6 session id required, 7 policy
files required and missing, 8 invalid command, 12 malformed policy file.`,
		Example:               "  clawwarden policy check -- systemctl restart nginx\n  clawwarden policy check --json -- bash -c id\n  clawwarden policy check -- sudo -u postgres /usr/bin/psql",
		DisableFlagsInUseLine: true,
		Args:                  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			paths, err := a.Paths()
			if err != nil {
				return err
			}
			cwd, _ := os.Getwd()
			line, err := guard.CheckLine(guard.Options{Argv: args, Paths: paths, Env: a.env, PolicyFile: file}, cwd)
			out := policyCheckJSON{Argv: args, Via: line.Via, PolicyFile: line.PolicyFile, PolicyFileExists: line.PolicyFileExists,
				Subject: line.Decision.Subject, Rule: line.Decision.Rule, Reason: line.Decision.Reason, Hints: line.Hints}
			if len(line.Abs) > 0 && !line.Passthrough {
				out.Resolved = line.Abs[0]
				out.Command = line.Abs
			}
			switch {
			case errors.Is(err, guard.ErrNoCommand):
				return withCode(ExitNoCommand, errors.New("policy check needs a command: clawwarden policy check -- CMD [ARG...]"))
			case errors.Is(err, guard.ErrInvalidCommand):
				out.Decision, out.Rule, out.Reason = "invalid", "resolve", err.Error()
				if line.Via == "shim" && len(line.Command) == 0 {
					out.Rule = "sudo options"
				}
			case !line.Decided:
				return err // a malformed policy file, or policy files required
			case !line.Decision.Allowed:
				out.Decision = "deny"
			case err != nil:
				out.Decision, out.Refusal = "refused", err.Error() // allowed by the policy, refused by a setting
			default:
				out.Decision = "allow"
			}
			if asJSON {
				if werr := writeJSON(a.stdio.Out, out); werr != nil {
					return werr
				}
			} else {
				printPolicyCheck(a.stdio.Out, out, line.SudoArgs)

			}
			if err != nil {
				return silent(exitCode(err))
			}
			return nil
		},
	}
	f := check.Flags()
	f.SetInterspersed(false)
	f.BoolVar(&asJSON, "json", false, "print JSON")
	f.StringVar(&file, "file", "", "policy file to use (default ~/.openclaw/security/"+config.CommandPolicyFile+")")
	cmd.AddCommand(check)
	return cmd
}

type policyCheckJSON struct {
	Argv             []string `json:"argv"`
	Via              string   `json:"via"` // exec | shim (the line starts with sudo or sudoedit)
	Resolved         string   `json:"resolved,omitempty"`
	Command          []string `json:"command,omitempty"`
	Subject          string   `json:"subject,omitempty"`
	Decision         string   `json:"decision"` // allow | deny | invalid | refused
	Rule             string   `json:"rule"`
	Reason           string   `json:"reason,omitempty"`
	Refusal          string   `json:"refusal,omitempty"` // why a command the policy allows is refused
	Hints            []string `json:"hints,omitempty"`
	PolicyFile       string   `json:"policy_file"`
	PolicyFileExists bool     `json:"policy_file_exists"`
}

func printPolicyCheck(w io.Writer, out policyCheckJSON, sudoArgs []string) {
	fmt.Fprintf(w, "decision: %s\n", out.Decision)
	fmt.Fprintf(w, "rule:     %s\n", out.Rule)
	if out.Reason != "" {
		fmt.Fprintf(w, "reason:   %s\n", out.Reason)
	}
	if out.Refusal != "" {
		fmt.Fprintf(w, "refused:  %s\n", out.Refusal)
	}
	if len(out.Command) > 0 {
		fmt.Fprintf(w, "command:  %s\n", policy.ShellJoin(out.Command))
	}
	if len(sudoArgs) > 0 {
		fmt.Fprintf(w, "sudo:     %s\n", policy.ShellJoin(sudoArgs))
	}
	fmt.Fprintf(w, "via:      %s\n", out.Via)
	if !out.PolicyFileExists {
		fmt.Fprintf(w, "policy:   %s does not exist; only the built-in rules apply\n", out.PolicyFile)
	} else {
		fmt.Fprintf(w, "policy:   %s\n", out.PolicyFile)
	}
	for _, h := range out.Hints {
		fmt.Fprintf(w, "hint:     %s\n", h)
	}
	if out.Decision == "allow" && out.Rule != "passthrough" {
		fmt.Fprintln(w, "note:     it still needs a person's approval to run")
	}
}
