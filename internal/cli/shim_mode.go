package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/clawwarden/clawwarden/internal/agent"
	"github.com/clawwarden/clawwarden/internal/approval"
	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/guard"
	"github.com/clawwarden/clawwarden/internal/policy"
	"github.com/clawwarden/clawwarden/internal/shim"
	"github.com/clawwarden/clawwarden/internal/sudo"
)

func init() { shimMode = runShim }

// runShim is clawwarden invoked as "sudo" or "sudoedit" through the opt-in
// shim on the agent's PATH.
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
		return a.env.RealSudo, sudo.Check(a.env.RealSudo)
	}
	return sudo.FindOnPath(a.getenv("PATH"))
}

// personTerminal reports whether a person can be asked on the controlling
// terminal: there is one, and neither it nor this process belongs to an
// agent.
func (a *app) personTerminal() bool {
	t, err := approval.OpenTerminal()
	if err != nil {
		return false
	}
	defer t.Close()
	return !agent.Detect(a.getenv, t.File()).Agent
}

func (a *app) shim(ctx context.Context, args []string) error {
	sudoPath, err := a.realSudo()
	if err != nil {
		return err
	}
	edit := filepath.Base(a.argv0) == "sudoedit"
	if s, ok := a.enforced(); ok && os.Getuid() == s.AgentUID {
		keep := strings.TrimSpace(a.getenv("CLAWWARDEN_KEEP_SESSION")) == "1"
		sargs, err := shim.ToHelper(args, edit, enforcedLayout.Helper(), a.env.PrivReason, a.env.TaskSessionID, keep)
		if err != nil {
			return withCode(ExitPolicyBlock, err)
		}
		return a.execSudo(sudoPath, sargs)
	}
	plan, err := shim.Decide(args, shim.Options{
		Edit:                edit,
		AllowNonInteractive: a.env.AllowNoninteractiveSudo,
		Person:              a.personTerminal(),
		PolicyPath:          a.policyPath(),
		NamesExactly:        a.policyNamesExactly,
	})
	if err != nil {
		return usageErr("%v", err)
	}
	argv0 := "sudo"
	if edit {
		argv0 = "sudoedit"
	}
	o := guard.Options{
		Argv:         plan.Command,
		Reason:       a.env.PrivReason,
		Via:          "shim",
		Sudo:         sudoPath,
		SudoArgs:     plan.SudoArgs,
		NamedArgv:    plan.Named,
		Edit:         plan.Edit,
		KeepSession:  strings.TrimSpace(a.getenv("CLAWWARDEN_KEEP_SESSION")) == "1",
		ForcePending: plan.ForcePending,
	}
	switch plan.Action {
	case shim.Passthrough:
		if edit {
			return errors.New("sudoedit without files")
		}
		return syscall.Exec(sudoPath, append([]string{argv0}, plan.Args...), os.Environ())
	case shim.Refuse:
		o.Argv = append([]string{argv0}, args...)
		o.Refused = withHint(plan.Err, plan.Hints...)
	}
	return a.runGuard(ctx, o)
}

// execSudo replaces this process with the real sudo (enforced mode: the
// agent asks the root helper; sudo's own rule is the boundary).
func (a *app) execSudo(sudoPath string, args []string) error {
	return syscall.Exec(sudoPath, append([]string{"sudo"}, args...), shim.HelperEnv(a.getenv))
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
