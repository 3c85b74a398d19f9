// Package command runs the external programs clawwarden drives (systemctl,
// launchctl, ps, crontab, openclaw, a notifier): by argv, never through a
// shell, under a timeout, with standard output and standard error kept
// apart.
//
// Code that runs programs takes a [Runner]. Production passes [Exec]; a test
// passes a [Func] that answers by argv, the one fake used across packages:
//
//	r := command.Func(func(_ context.Context, c command.Cmd) (command.Output, error) {
//		if c.String() == "crontab -l" {
//			return command.Output{Stdout: []byte(tab)}, nil
//		}
//		return command.Output{}, command.Fail(c, command.Output{}, errors.New("not here"))
//	})
package command

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/clawwarden/clawwarden/internal/quote"
)

// DefaultTimeout bounds a [Cmd] whose Timeout is zero.
const DefaultTimeout = time.Minute

// waitDelay is how long Run waits for output after the process has been
// killed or has exited, when a child it left behind keeps the pipes open.
const waitDelay = 5 * time.Second

// ErrTimeout marks a command killed because it ran longer than its timeout.
var ErrTimeout = errors.New("timed out")

// Cmd is one program to run.
type Cmd struct {
	Name    string        // the program: a path, or a name looked up on PATH
	Args    []string      // its arguments, without the program name
	Env     []string      // the environment; nil inherits clawwarden's
	Stdin   []byte        // standard input; nil gives none
	Timeout time.Duration // zero means [DefaultTimeout]
}

// String is the command line for messages, each word quoted only when it
// needs to be ([quote.Argv]).
func (c Cmd) String() string {
	return quote.Argv(append([]string{c.Name}, c.Args...))
}

// Output is what a command printed.
type Output struct {
	Stdout, Stderr []byte
}

// maxSummary bounds [Output.Summary].
const maxSummary = 400

// Summary returns the non-empty lines of standard error (else of standard
// output) joined into one line and cut at 400 bytes, or "no output", for
// error messages.
func (o Output) Summary() string {
	for _, s := range [][]byte{o.Stderr, o.Stdout} {
		var lines []string
		for _, l := range strings.Split(string(s), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				lines = append(lines, l)
			}
		}
		if len(lines) > 0 {
			msg := strings.Join(lines, " ")
			if len(msg) > maxSummary {
				msg = msg[:maxSummary] + "…"
			}
			return msg
		}
	}
	return "no output"
}

// Error is a command that could not start, exited non-zero or timed out:
// "CMD: SUMMARY: CAUSE". It unwraps to the cause: an *exec.ExitError, an
// error wrapping [ErrTimeout], or why it did not start.
type Error struct {
	Cmd    Cmd
	Output Output
	Err    error
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s: %v", e.Cmd, e.Output.Summary(), e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Fail returns the [Error] for c: for fakes, and for callers that judge a
// command failed although it exited zero.
func Fail(c Cmd, out Output, err error) error {
	return &Error{Cmd: c, Output: out, Err: err}
}

// Runner runs commands. A failed run returns what the command printed along
// with an [*Error].
type Runner interface {
	Run(ctx context.Context, c Cmd) (Output, error)
}

// Func adapts a function to [Runner], for tests.
type Func func(ctx context.Context, c Cmd) (Output, error)

// Run implements [Runner].
func (f Func) Run(ctx context.Context, c Cmd) (Output, error) { return f(ctx, c) }

// Exec runs commands with os/exec.
type Exec struct{}

// Run implements [Runner].
func (Exec) Run(ctx context.Context, c Cmd) (Output, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Name, c.Args...)
	cmd.Env = c.Env
	if c.Stdin != nil {
		cmd.Stdin = bytes.NewReader(c.Stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = waitDelay
	err := cmd.Run()
	out := Output{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	if ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("%w after %s", ErrTimeout, timeout)
	}
	if err != nil {
		return out, Fail(c, out, err)
	}
	return out, nil
}

// Or returns r, or [Exec] when r is nil, for structs whose zero value runs
// the real programs.
func Or(r Runner) Runner {
	if r == nil {
		return Exec{}
	}
	return r
}
