package guard

import (
	"errors"
	"fmt"

	"github.com/clawwarden/clawwarden/internal/policy"
	"github.com/clawwarden/clawwarden/internal/shim"
)

// Line is the decision on a command line as the agent types it: a command
// (`clawwarden exec -- CMD`), or a whole `sudo …`/`sudoedit …` line (the
// sudo shim).
type Line struct {
	Verdict
	// Via is "exec" or "shim".
	Via string
	// Command is what the guard would run (for sudoedit, the files), with
	// the sudo options that go with it; empty when the shim refuses the
	// line or hands it to sudo unchanged.
	Command  []string
	SudoArgs []string
	// Hints say what to do about a refusal by the shim.
	Hints []string
	// Passthrough: the shim hands the line to the real sudo unchanged
	// (-l, -v, -k, -h, -V): there is no command to guard.
	Passthrough bool
}

// CheckLine decides o.Argv as [Run] would, without asking anyone or running
// anything: a line whose first word is exactly "sudo" or "sudoedit" is first
// parsed as the shim parses it, with a person at the terminal and
// OPENCLAW_ALLOW_NONINTERACTIVE_SUDO from o.Env; a line the shim refuses for
// its options is a policy refusal (ErrPolicyBlock, wrapping the shim's
// reason), -n/-S/-A without that setting the shim's shim.ErrNoPerson;
// everything else goes through [Check]. The error is
// [Check]'s; a sudo line that does not parse is ErrInvalidCommand.
func CheckLine(o Options, cwd string) (Line, error) {
	l := Line{Via: "exec", Command: o.Argv}
	if len(o.Argv) == 0 || (o.Argv[0] != "sudo" && o.Argv[0] != "sudoedit") {
		v, err := Check(o, cwd)
		l.Verdict = v
		return l, err
	}
	l.Via = "shim"
	l.PolicyFile = o.policyFile()
	pol, exists, err := loadPolicy(l.PolicyFile)
	if err != nil {
		return l, err
	}
	l.PolicyFileExists = exists
	edit := o.Argv[0] == "sudoedit"
	plan, err := shim.Decide(o.Argv[1:], shim.Options{
		Edit: edit, AllowNonInteractive: o.Env.AllowNoninteractiveSudo, Person: true,
		PolicyPath: l.PolicyFile, NamesExactly: pol.NamesExactly,
	})
	if err != nil {
		return l, fmt.Errorf("%w: %v", ErrInvalidCommand, err)
	}
	switch plan.Action {
	case shim.Passthrough:
		l.Passthrough, l.Command = true, nil
		l.Decided, l.Decision = true, policy.Decision{Allowed: true, Rule: "passthrough",
			Reason: "sudo handles it itself: there is no command to guard", Subject: policy.ShellJoin(o.Argv)}
		return l, nil
	case shim.Refuse:
		l.Command, l.Hints = nil, plan.Hints
		l.Decided, l.Decision = true, policy.Decision{Rule: "shim", Reason: plan.Err.Error(), Subject: policy.ShellJoin(o.Argv)}
		if errors.Is(plan.Err, shim.ErrNoPerson) {
			return l, plan.Err // -n/-S/-A without OPENCLAW_ALLOW_NONINTERACTIVE_SUDO=1
		}
		return l, fmt.Errorf("%w: %w", ErrPolicyBlock, plan.Err)
	}
	o.Argv, o.NamedArgv, o.SudoArgs, o.Edit = plan.Command, plan.Named, plan.SudoArgs, plan.Edit
	l.Command, l.SudoArgs = plan.Command, plan.SudoArgs
	v, err := Check(o, cwd)
	l.Verdict = v
	return l, err
}
