// Package shim understands sudo's own command line, so that clawwarden,
// installed as ~/.openclaw/bin/sudo on the agent's PATH, can decide what to
// do with each `sudo …` the agent runs.
//
// [Parse] follows sudo(8): short flags alone or combined ("-su", "-uroot"),
// long options and their unambiguous abbreviations ("--us=root",
// "--preserve-env=PATH"), "--", and VAR=value assignments before the
// command. [Classify] then sorts the invocation into one of three actions:
//
//   - Passthrough: -h/--help, -V/--version, -k/-K and -l/--list without
//     anything risky go straight to the real sudo;
//   - Refuse: flags that change identity (-u, -g, -U, -r, -t), open a shell
//     (-s, -i), keep the caller's environment (-E, --preserve-env,
//     VAR=value), edit files (-e, sudoedit), change directory or root
//     (-D, -R), leave descriptors open (-C), set timeouts (-T), run in the
//     background (-b), extend the credential cache without a command (-v),
//     or name a host (-h host); and non-interactive use (-n, -S, -A) unless
//     allowed — each unless the command policy names that exact argv;
//   - Guard: everything else runs through the same pipeline as
//     `clawwarden exec`.
package shim

import (
	"fmt"
	"strings"
)

// Invocation is a parsed sudo command line.
type Invocation struct {
	Flags   []Flag   // in order
	Env     []string // VAR=value assignments before the command
	Command []string // the command and its arguments
	Edit    bool     // invoked as sudoedit
}

// Flag is one option with its canonical long name and value.
type Flag struct {
	Name  string // canonical long name without dashes, e.g. "user"
	Value string // for options with an argument
	Raw   string // as written, for messages
}

type optSpec struct {
	long   string
	short  byte
	hasArg bool
}

// options are sudo 1.9's, with their canonical long names.
var options = []optSpec{
	{"askpass", 'A', false},
	{"auth-type", 'a', true},
	{"login-class", 'c', true},
	{"bell", 'B', false},
	{"background", 'b', false},
	{"close-from", 'C', true},
	{"chdir", 'D', true},
	{"preserve-env", 'E', false}, // --preserve-env=list also accepted
	{"edit", 'e', false},
	{"group", 'g', true},
	{"set-home", 'H', false},
	{"help", 'h', false}, // -h host is handled specially
	{"host", 0, true},
	{"login", 'i', false},
	{"remove-timestamp", 'K', false},
	{"reset-timestamp", 'k', false},
	{"list", 'l', false},
	{"no-update", 'N', false},
	{"non-interactive", 'n', false},
	{"preserve-groups", 'P', false},
	{"prompt", 'p', true},
	{"chroot", 'R', true},
	{"role", 'r', true},
	{"stdin", 'S', false},
	{"shell", 's', false},
	{"command-timeout", 'T', true},
	{"type", 't', true},
	{"other-user", 'U', true},
	{"user", 'u', true},
	{"version", 'V', false},
	{"validate", 'v', false},
}

func byShort(c byte) (optSpec, bool) {
	for _, o := range options {
		if o.short == c {
			return o, true
		}
	}
	return optSpec{}, false
}

// byLong resolves a long option or an unambiguous prefix of one.
func byLong(name string) (optSpec, error) {
	var found []optSpec
	for _, o := range options {
		if o.long == name {
			return o, nil
		}
		if strings.HasPrefix(o.long, name) {
			found = append(found, o)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return optSpec{}, fmt.Errorf("unknown option --%s", name)
	}
	names := make([]string, len(found))
	for i, o := range found {
		names[i] = "--" + o.long
	}
	return optSpec{}, fmt.Errorf("option --%s is ambiguous (%s)", name, strings.Join(names, ", "))
}

// Parse parses sudo's arguments (without argv[0]). edit is true when the
// program was invoked as sudoedit.
func Parse(args []string, edit bool) (Invocation, error) {
	inv := Invocation{Edit: edit}
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			i++
			goto command
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a[2:], "=")
			o, err := byLong(name)
			if err != nil {
				return inv, err
			}
			f := Flag{Name: o.long, Raw: a}
			switch {
			case o.hasArg && hasVal:
				f.Value = val
			case o.hasArg:
				if i+1 >= len(args) {
					return inv, fmt.Errorf("option --%s needs an argument", o.long)
				}
				i++
				f.Value = args[i]
			case hasVal && o.long == "preserve-env":
				f.Value = val
			case hasVal:
				return inv, fmt.Errorf("option --%s takes no argument", o.long)
			}
			inv.Flags = append(inv.Flags, f)
		case len(a) > 1 && a[0] == '-':
			for j := 1; j < len(a); j++ {
				c := a[j]
				o, ok := byShort(c)
				if !ok {
					return inv, fmt.Errorf("unknown option -%c", c)
				}
				f := Flag{Name: o.long, Raw: "-" + string(c)}
				// -h alone is help; -h followed by a value in the same
				// word or a following non-option word is the host option
				// only when more arguments follow (sudo 1.9 behaviour).
				if c == 'h' {
					if j+1 < len(a) {
						f.Name, f.Value = "host", a[j+1:]
						inv.Flags = append(inv.Flags, f)
						break
					}
					inv.Flags = append(inv.Flags, f)
					continue
				}
				if o.hasArg {
					if j+1 < len(a) {
						f.Value = a[j+1:]
					} else {
						if i+1 >= len(args) {
							return inv, fmt.Errorf("option -%c needs an argument", c)
						}
						i++
						f.Value = args[i]
					}
					inv.Flags = append(inv.Flags, f)
					break
				}
				inv.Flags = append(inv.Flags, f)
			}
		case strings.Contains(a, "=") && isEnvName(a[:strings.IndexByte(a, '=')]):
			inv.Env = append(inv.Env, a)
		default:
			goto command
		}
	}
command:
	if i < len(args) {
		inv.Command = append([]string{}, args[i:]...)
	}
	return inv, nil
}

func isEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r == '_' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (i > 0 && r >= '0' && r <= '9') {
			continue
		}
		return false
	}
	return true
}

// Has reports whether the invocation carries the option with canonical
// long name.
func (inv Invocation) Has(name string) bool {
	for _, f := range inv.Flags {
		if f.Name == name {
			return true
		}
	}
	return false
}

// Action is what the shim does with an invocation.
type Action int

// The actions.
const (
	Guard       Action = iota // route through the guard
	Passthrough               // hand to the real sudo unchanged
	Refuse                    // refuse with the reason
)

// passthroughFlags are harmless informational or credential-dropping flags.
var passthroughFlags = map[string]bool{"help": true, "version": true, "reset-timestamp": true, "remove-timestamp": true, "list": true}

// harmlessFlags may accompany a guarded command.
var harmlessFlags = map[string]bool{"bell": true, "no-update": true, "reset-timestamp": true, "prompt": true}

// nonInteractive are the flags that let sudo run without a person.
var nonInteractive = map[string]bool{"non-interactive": true, "stdin": true, "askpass": true}

// refusals say, per flag, why the shim refuses it.
var refusals = map[string]string{
	"user":            "runs the command as another user",
	"group":           "runs the command with another group",
	"other-user":      "lists another user's privileges",
	"role":            "changes the SELinux role",
	"type":            "changes the SELinux type",
	"shell":           "opens a root shell",
	"login":           "opens a root login shell",
	"preserve-env":    "keeps the caller's environment in the root command",
	"preserve-groups": "keeps the caller's groups",
	"set-home":        "changes HOME for the root command",
	"edit":            "edits files as root (sudoedit)",
	"chdir":           "runs the command in another directory",
	"chroot":          "runs the command in another root directory",
	"close-from":      "changes which descriptors stay open",
	"command-timeout": "sets a command timeout",
	"background":      "runs the command in the background, beyond the guard's reach",
	"validate":        "extends sudo's cached credentials without running a command",
	"host":            "runs the command on another host's policy",
	"auth-type":       "changes the authentication type",
	"login-class":     "changes the login class",
}

// Decision is the outcome of Classify.
type Decision struct {
	Action Action
	Reason string // for Refuse
	Risky  []Flag // the flags that made it risky
}

// Classify decides what to do with inv. allowNonInteractive reflects
// OPENCLAW_ALLOW_NONINTERACTIVE_SUDO=1; hasTerminal whether a controlling
// terminal exists.
func Classify(inv Invocation, allowNonInteractive, hasTerminal bool) Decision {
	if len(inv.Command) == 0 && !inv.Edit && len(inv.Env) == 0 {
		onlyPassthrough := len(inv.Flags) > 0
		for _, f := range inv.Flags {
			if !passthroughFlags[f.Name] && !harmlessFlags[f.Name] {
				onlyPassthrough = false
			}
		}
		if onlyPassthrough {
			return Decision{Action: Passthrough}
		}
	}
	if inv.Has("list") && !inv.Has("other-user") && !inv.Has("user") {
		// `sudo -l CMD` only asks whether CMD would be allowed.
		return Decision{Action: Passthrough}
	}
	var risky []Flag
	var reasons []string
	if inv.Edit {
		risky = append(risky, Flag{Name: "edit", Raw: "sudoedit"})
		reasons = append(reasons, "sudoedit "+refusals["edit"])
	}
	for _, f := range inv.Flags {
		if why, ok := refusals[f.Name]; ok {
			risky = append(risky, f)
			reasons = append(reasons, f.Raw+" "+why)
		}
	}
	if len(inv.Env) > 0 {
		reasons = append(reasons, "VAR=value assignments set the root command's environment")
		for _, e := range inv.Env {
			risky = append(risky, Flag{Name: "env", Raw: e})
		}
	}
	if len(reasons) > 0 {
		return Decision{Action: Refuse, Reason: strings.Join(reasons, "; "), Risky: risky}
	}
	for _, f := range inv.Flags {
		if nonInteractive[f.Name] && !allowNonInteractive {
			return Decision{Action: Refuse, Reason: f.Raw + " is non-interactive sudo, which the shim blocks (set OPENCLAW_ALLOW_NONINTERACTIVE_SUDO=1 to allow it; approval still comes from a person)"}
		}
	}
	if len(inv.Command) == 0 {
		return Decision{Action: Refuse, Reason: "no command given"}
	}
	if !hasTerminal && !allowNonInteractive {
		return Decision{Action: Refuse, Reason: "no terminal: non-interactive sudo is blocked (set OPENCLAW_ALLOW_NONINTERACTIVE_SUDO=1 to let a person approve it with 'clawwarden approve')"}
	}
	return Decision{Action: Guard}
}
