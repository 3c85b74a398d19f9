package helper

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The root helper's one argument grammar:
//
//	request [--reason=TEXT] [--task=ID] [--keep=DURATION] -- CMD [ARG...]
//
// Options come only in their --name=value form, each at most once, before
// the "--" that must precede the command. There is no other verb: asking
// the helper for anything but a request is refused.

// Args is a parsed request.
type Args struct {
	Reason string
	Task   string
	Keep   time.Duration // what the agent asks for; the approver decides
	Argv   []string
}

// Limits of what one request may carry.
const (
	maxArgs      = 256
	maxArgBytes  = 4096
	maxTextBytes = 512
)

// ErrUsage is wrapped by every grammar error.
var ErrUsage = errors.New("usage: clawwarden-root request [--reason=TEXT] [--task=ID] [--keep=DURATION] -- CMD [ARG...]")

// ParseArgs parses the helper's arguments (without argv[0]).
func ParseArgs(args []string) (Args, error) {
	var a Args
	if len(args) == 0 || args[0] != "request" {
		return a, fmt.Errorf("%w (the root helper runs requests only)", ErrUsage)
	}
	seen := map[string]bool{}
	i := 1
	for ; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			i++
			break
		}
		name, value, ok := strings.Cut(arg, "=")
		if !ok || !strings.HasPrefix(name, "--") {
			return a, fmt.Errorf("%w: unexpected %q before \"--\"", ErrUsage, clipArg(arg))
		}
		if seen[name] {
			return a, fmt.Errorf("%w: %s given twice", ErrUsage, name)
		}
		seen[name] = true
		if err := checkText(name, value); err != nil {
			return a, err
		}
		switch name {
		case "--reason":
			a.Reason = value
		case "--task":
			a.Task = value
		case "--keep":
			d, err := time.ParseDuration(value)
			if err != nil || d <= 0 || d > 30*time.Minute {
				return a, fmt.Errorf("%w: --keep wants a duration from 1m to 30m", ErrUsage)
			}
			a.Keep = d
		default:
			return a, fmt.Errorf("%w: unknown option %s", ErrUsage, clipArg(name))
		}
	}
	if i > len(args) || args[i-1] != "--" {
		return a, fmt.Errorf("%w: no \"--\" before the command", ErrUsage)
	}
	a.Argv = args[i:]
	if len(a.Argv) == 0 {
		return a, fmt.Errorf("%w: no command", ErrUsage)
	}
	if len(a.Argv) > maxArgs {
		return a, fmt.Errorf("%w: %d arguments (at most %d)", ErrUsage, len(a.Argv), maxArgs)
	}
	for j, s := range a.Argv {
		if len(s) > maxArgBytes {
			return a, fmt.Errorf("%w: argument %d is %d bytes (at most %d)", ErrUsage, j, len(s), maxArgBytes)
		}
		if err := checkControl(fmt.Sprintf("argument %d", j), s); err != nil {
			return a, err
		}
	}
	if a.Argv[0] == "" {
		return a, fmt.Errorf("%w: empty command", ErrUsage)
	}
	return a, nil
}

func checkText(name, s string) error {
	if len(s) > maxTextBytes {
		return fmt.Errorf("%w: %s is %d bytes (at most %d)", ErrUsage, name, len(s), maxTextBytes)
	}
	return checkControl(name, s)
}

// checkControl refuses control characters and invalid UTF-8 (invisible
// and direction-changing characters are shown escaped instead).
func checkControl(name, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrUsage, name)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: %s contains a control character", ErrUsage, name)
		}
	}
	return nil
}

func clipArg(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
