package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/clawwarden/clawwarden/internal/approval"
	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/guard"
	"github.com/clawwarden/clawwarden/internal/policy"
	"github.com/clawwarden/clawwarden/internal/shim"
)

func init() { shimMode = runShim }

// runShim is clawwarden invoked as "sudo" (or "sudoedit") through the
// opt-in shim on the agent's PATH.
func runShim(ctx context.Context, a *app, args []string) int {
	err := a.shim(ctx, args)
	if err != nil {
		a.reportShimError(err)
	}
	return exitCode(err)
}

func (a *app) reportShimError(err error) {
	var q *quietError
	if errors.As(err, &q) {
		return
	}
	fmt.Fprintf(a.stdio.Err, "sudo (clawwarden shim): %v\n", err)
	var h *hintError
	if errors.As(err, &h) {
		for _, line := range h.hints {
			fmt.Fprintf(a.stdio.Err, "sudo (clawwarden shim): hint: %s\n", line)
		}
	}
}

// realSudo finds the sudo the shim hands over to: OPENCLAW_REAL_SUDO, else
// the first sudo on PATH that is not the shim itself.
func (a *app) realSudo() (string, error) {
	if a.env.RealSudo != "" {
		return a.env.RealSudo, guard.CheckSudo(a.env.RealSudo)
	}
	return guard.FindSudoOnPath(a.getenv("PATH"))
}

func hasTerminal() bool {
	t, err := approval.OpenTerminal()
	if err != nil {
		return false
	}
	t.Close()
	return true
}

func (a *app) shim(ctx context.Context, args []string) error {
	inv, err := shim.Parse(args, filepath.Base(a.argv0) == "sudoedit")
	if err != nil {
		return usageErr("%v", err)
	}
	sudo, err := a.realSudo()
	if err != nil {
		return err
	}
	d := shim.Classify(inv, a.env.AllowNoninteractiveSudo, hasTerminal())
	var sudoArgs, named []string
	switch d.Action {
	case shim.Passthrough:
		argv0 := "sudo"
		if inv.Edit {
			argv0 = "sudoedit"
		}
		return syscall.Exec(sudo, append([]string{argv0}, args...), os.Environ())
	case shim.Refuse:
		if len(d.Risky) == 0 || !a.policyNamesExactly(append([]string{"sudo"}, args...)) {
			code := ExitPolicyBlock
			if len(d.Risky) == 0 {
				code = ExitDenied
			}
			return withCode(code, withHint(fmt.Errorf("refused: %s", d.Reason),
				"privileged commands go through clawwarden's approval: run 'sudo CMD ARGS' without these options",
				"to allow this exact invocation, add it to allow_exact in "+a.policyPath()))
		}
		sudoArgs = args[:len(args)-len(inv.Command)]
		sudoArgs = slices.DeleteFunc(slices.Clone(sudoArgs), func(s string) bool { return s == "--" })
		named = append([]string{"sudo"}, args...)
	default:
		for _, f := range inv.Flags {
			switch f.Name {
			case "non-interactive", "stdin", "askpass", "bell", "no-update", "reset-timestamp":
				sudoArgs = append(sudoArgs, f.Raw)
			case "prompt":
				sudoArgs = append(sudoArgs, "--prompt="+f.Value)
			}
		}
	}
	forcePending := inv.Has("non-interactive") || inv.Has("stdin") || inv.Has("askpass") || !hasTerminal()
	return a.runGuard(ctx, guard.Options{
		Argv:         inv.Command,
		Reason:       a.env.PrivReason,
		Via:          "shim",
		Sudo:         sudo,
		SudoArgs:     sudoArgs,
		NamedArgv:    named,
		KeepSession:  strings.TrimSpace(a.getenv("CLAWWARDEN_KEEP_SESSION")) == "1",
		ForcePending: forcePending,
	})
}

func (a *app) policyPath() string {
	p, _ := a.Paths()
	return p.Security(config.CommandPolicyFile)
}

// policyNamesExactly reports whether allow_exact lists argv as it is.
func (a *app) policyNamesExactly(argv []string) bool {
	pol, err := policy.Load(a.policyPath())
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			a.printf("%v", err)
		}
		return false
	}
	return pol.NamesExactly(argv)
}
