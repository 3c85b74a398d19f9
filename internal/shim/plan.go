package shim

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/clawwarden/clawwarden/internal/rootfile"
)

// Sentinel errors of a refused invocation; the command line maps them to
// exit statuses.
var (
	// ErrRiskyOptions: sudo options or sudoedit that the command policy does
	// not name exactly.
	ErrRiskyOptions = errors.New("refused by the sudo shim")
	// ErrNoPerson: no person can be asked (no terminal, or the agent's), and
	// non-interactive approval is not allowed; or -n/-S/-A without it.
	ErrNoPerson = errors.New("refused by the sudo shim: no person to approve")
)

// Plan is what the shim does with one invocation of sudo or sudoedit.
type Plan struct {
	Action Action
	// Args are the real sudo's arguments (Passthrough). An invocation that
	// makes sudo authenticate without running a command (-l) gets -k, so it
	// leaves no credential ticket behind.
	Args []string
	// Err and Hints explain a refusal (Refuse); Err wraps ErrRiskyOptions
	// or ErrNoPerson.
	Err   error
	Hints []string
	// The guarded command (Guard): the command (for sudoedit, the files),
	// the sudo options that go with it, the whole command line when the
	// policy named it, and whether only a pending request may approve it.
	Command      []string
	SudoArgs     []string
	Named        []string
	Edit         bool
	ForcePending bool
}

// Options are what [Decide] needs beyond the command line.
type Options struct {
	Edit                bool // invoked as sudoedit
	AllowNonInteractive bool // OPENCLAW_ALLOW_NONINTERACTIVE_SUDO=1
	// Person reports whether a person can be asked on the controlling
	// terminal: there is one and it does not belong to an agent.
	Person bool
	// PolicyPath names the command policy in messages.
	PolicyPath string
	// NamesExactly reports whether the command policy's allow_exact names
	// the whole command line.
	NamesExactly func(argv []string) bool
}

// forwardFlags are the harmless options passed on to the real sudo with a
// guarded command. Non-interactive options (-n, -S, -A) only decide where
// approval comes from: the person who approves types the password.
var forwardFlags = map[string]bool{"bell": true, "no-update": true}

// Decide parses sudo's arguments (without argv[0]) and decides what to do.
// The error is a usage error (unknown option, missing argument).
func Decide(args []string, o Options) (Plan, error) {
	inv, err := Parse(args, o.Edit)
	if err != nil {
		return Plan{}, err
	}
	argv0 := "sudo"
	if o.Edit {
		argv0 = "sudoedit"
	}
	d := Classify(inv, o.AllowNonInteractive, o.Person)
	switch d.Action {
	case Passthrough:
		p := Plan{Action: Passthrough, Args: slices.Clone(args)}
		if inv.Has("list") && !inv.Has("reset-timestamp") {
			p.Args = append([]string{"-k"}, p.Args...)
		}
		return p, nil
	case Refuse:
		named := append([]string{argv0}, args...)
		if len(d.Risky) == 0 {
			hints := []string{"set OPENCLAW_ALLOW_NONINTERACTIVE_SUDO=1 in the agent's environment (the gateway's) so the request waits for a person: they approve it from their own terminal with 'clawwarden approve ID' and type the sudo password there"}
			if inv.Has("non-interactive") || inv.Has("stdin") || inv.Has("askpass") {
				hints = append(hints, "or run sudo without -n/-S/-A on a terminal a person uses")
			}
			return Plan{Action: Refuse, Err: fmt.Errorf("%w (%s)", ErrNoPerson, d.Reason), Hints: hints}, nil
		}
		if o.NamesExactly == nil || !o.NamesExactly(named) {
			return Plan{Action: Refuse, Err: fmt.Errorf("%w: %s", ErrRiskyOptions, d.Reason), Hints: []string{
				"privileged commands go through clawwarden's approval: run 'sudo CMD ARGS' without these options",
				"to allow this exact command line, add " + jsonArgv(named) + " to allow_exact in " + o.PolicyPath,
			}}, nil
		}
		p := fromInvocation(inv)
		p.Named = named
		p.ForcePending = !o.Person || hasNonInteractive(inv)
		if p.ForcePending && !o.AllowNonInteractive {
			return Plan{Action: Refuse, Err: fmt.Errorf("%w (no terminal a person uses to approve on)", ErrNoPerson), Hints: []string{
				"set OPENCLAW_ALLOW_NONINTERACTIVE_SUDO=1 in the agent's environment (the gateway's) so the request waits for a person's 'clawwarden approve ID'"}}, nil
		}
		return p, nil
	}
	p := Plan{Action: Guard, Command: inv.Command}
	for _, f := range inv.Flags {
		if forwardFlags[f.Name] {
			p.SudoArgs = append(p.SudoArgs, "--"+f.Name)
		}
	}
	p.ForcePending = hasNonInteractive(inv) || !o.Person
	return p, nil
}

// Forwarded reports whether sudoArgs holds only the options the shim passes
// on with a command it guards without a named command line (--bell,
// --no-update). A request that carries anything else must name its whole
// command line; see [FromNamed].
func Forwarded(sudoArgs []string) bool {
	for _, a := range sudoArgs {
		name, ok := strings.CutPrefix(a, "--")
		if !ok || !forwardFlags[name] {
			return false
		}
	}
	return true
}

// FromNamed derives, from a whole sudo or sudoedit command line that the
// policy names, the command, sudo options and sudoedit flag the guard runs:
// the same derivation the shim makes, so whoever holds a request can check
// that its fields follow from its named line and nothing else.
func FromNamed(named []string) (Plan, error) {
	if len(named) == 0 || (named[0] != "sudo" && named[0] != "sudoedit") {
		return Plan{}, fmt.Errorf("a named command line starts with sudo or sudoedit, not %q", named)
	}
	inv, err := Parse(named[1:], named[0] == "sudoedit")
	if err != nil {
		return Plan{}, err
	}
	p := fromInvocation(inv)
	p.Named = slices.Clone(named)
	return p, nil
}

// fromInvocation is the guarded command of a named invocation: its options
// in canonical long form (non-interactive ones only decide where approval
// comes from; -k is always added), VAR=value assignments, the command.
func fromInvocation(inv Invocation) Plan {
	p := Plan{Action: Guard, Command: inv.Command, Edit: inv.Edit || inv.Has("edit")}
	for _, f := range inv.Flags {
		switch {
		case f.Name == "edit", nonInteractive[f.Name], f.Name == "reset-timestamp":
		case f.Value != "" || optionTakesValue(f.Name):
			p.SudoArgs = append(p.SudoArgs, "--"+f.Name+"="+f.Value)
		default:
			p.SudoArgs = append(p.SudoArgs, "--"+f.Name)
		}
	}
	p.SudoArgs = append(p.SudoArgs, inv.Env...)
	return p
}

func hasNonInteractive(inv Invocation) bool {
	return inv.Has("non-interactive") || inv.Has("stdin") || inv.Has("askpass")
}

func optionTakesValue(name string) bool {
	for _, o := range options {
		if o.long == name {
			return o.hasArg
		}
	}
	return false
}

// jsonArgv renders argv as a JSON array for a hint.
func jsonArgv(argv []string) string {
	b, _ := json.Marshal(argv)
	return string(b)
}

// ErrEnforced is wrapped when enforced mode cannot carry an invocation.
var ErrEnforced = errors.New("not available in enforced mode")

// ToHelper turns the agent's `sudo [--bell|--no-update] CMD ARGS…` into
// the real sudo's arguments that ask enforced mode's root helper for CMD:
// `-n -- HELPER request --reason=… --task=… [--keep=…] -- CMD ARGS…`.
// Informational invocations (-l, -V, -h, -k, -K) are returned as they are,
// with -k added to -l. Everything else — other options, VAR=value,
// sudoedit — is refused: the helper runs plain commands only, and sudo
// itself refuses the agent every other right.
func ToHelper(args []string, edit bool, helper, reason, task string, keep bool) ([]string, error) {
	inv, err := Parse(args, edit)
	if err != nil {
		return nil, err
	}
	d := Classify(inv, true, false)
	switch {
	case d.Action == Passthrough:
		if inv.Has("list") && !inv.Has("reset-timestamp") {
			return append([]string{"-k"}, args...), nil
		}
		return slices.Clone(args), nil
	case inv.Edit || inv.Has("edit"):
		return nil, fmt.Errorf("%w: sudoedit edits a copy as the agent's own account, which enforced mode cannot review; ask the person to make the change", ErrEnforced)
	case d.Action == Refuse && len(d.Risky) > 0:
		return nil, fmt.Errorf("%w: %s", ErrEnforced, d.Reason)
	case len(inv.Command) == 0:
		return nil, fmt.Errorf("%w: no command given", ErrEnforced)
	}
	out := []string{"-n", "--", helper, "request", "--reason=" + reason, "--task=" + task}
	if keep {
		out = append(out, "--keep=30m")
	}
	out = append(out, "--")
	return append(out, inv.Command...), nil
}

// HelperEnv is the environment the real sudo gets when the agent's sudo
// goes to the root helper: a fixed PATH, and TERM and LANG when set and
// clean. Nothing else of the agent's environment is passed (sudoers resets
// it anyway, and the helper clears what it inherits).
func HelperEnv(getenv func(string) string) []string {
	env := []string{"PATH=" + rootfile.SecurePath}
	for _, k := range []string{"TERM", "LANG"} {
		if v := getenv(k); v != "" && !strings.ContainsAny(v, "\x00\n") {
			env = append(env, k+"="+v)
		}
	}
	return env
}
