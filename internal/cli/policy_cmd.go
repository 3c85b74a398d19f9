package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/guard"
	"github.com/clawwarden/clawwarden/internal/policy"
	"github.com/clawwarden/clawwarden/internal/rootfile"
)

func init() { subcommands = append(subcommands, newPolicyCmd) }

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
		Long: `Evaluate CMD against the command policy and the built-in rules exactly as
'clawwarden exec' would, without asking anyone or running anything.
Exit status: 0 allowed, 3 refused by policy, 8 invalid command, 12 malformed
policy file.`,
		Example:               "  clawwarden policy check -- systemctl restart nginx\n  clawwarden policy check --json -- bash -c id",
		DisableFlagsInUseLine: true,
		Args:                  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return withCode(ExitNoCommand, errors.New("policy check needs a command: clawwarden policy check -- CMD [ARG...]"))
			}
			paths, err := a.Paths()
			if err != nil {
				return err
			}
			if file == "" {
				file = paths.Security(config.CommandPolicyFile)
			}
			pol, err := policy.Load(file)
			exists := true
			if errors.Is(err, fs.ErrNotExist) {
				pol, err, exists = nil, nil, false
			}
			if err != nil {
				return err
			}
			abs, rerr := rootfile.Resolve(args[0])
			out := policyCheckJSON{Argv: args, PolicyFile: file, PolicyFileExists: exists}
			if rerr != nil {
				out.Decision, out.Rule, out.Reason = "invalid", "resolve", rerr.Error()
			} else {
				cwd, _ := os.Getwd()
				d := guard.Decide(pol, file, cwd, args, append([]string{abs}, args[1:]...), false, nil)
				out.Resolved, out.Subject, out.Rule, out.Reason = abs, d.Subject, d.Rule, d.Reason
				out.Decision = "deny"
				if d.Allowed {
					out.Decision = "allow"
				}
			}
			if asJSON {
				if err := writeJSON(a.stdio.Out, out); err != nil {
					return err
				}
			} else {
				w := a.stdio.Out
				fmt.Fprintf(w, "decision: %s\n", out.Decision)
				fmt.Fprintf(w, "rule:     %s\n", out.Rule)
				if out.Reason != "" {
					fmt.Fprintf(w, "reason:   %s\n", out.Reason)
				}
				if out.Resolved != "" {
					fmt.Fprintf(w, "command:  %s\n", policy.ShellJoin(append([]string{out.Resolved}, args[1:]...)))
				}
				if !exists {
					fmt.Fprintf(w, "policy:   %s does not exist; only the built-in rules apply\n", file)
				} else {
					fmt.Fprintf(w, "policy:   %s\n", file)
				}
				if out.Decision == "allow" {
					fmt.Fprintln(w, "note:     'clawwarden exec' still asks a person to approve it")
				}
			}
			switch out.Decision {
			case "invalid":
				return silent(ExitInvalidCommand)
			case "deny":
				return silent(ExitPolicyBlock)
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
	Resolved         string   `json:"resolved,omitempty"`
	Subject          string   `json:"subject,omitempty"`
	Decision         string   `json:"decision"` // allow | deny | invalid
	Rule             string   `json:"rule"`
	Reason           string   `json:"reason,omitempty"`
	PolicyFile       string   `json:"policy_file"`
	PolicyFileExists bool     `json:"policy_file_exists"`
}
