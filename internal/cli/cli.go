// Package cli is clawwarden's command line: flags, subcommands, output, and
// the mapping from errors to exit statuses (exit.go).
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/clawwarden/clawwarden/internal/config"
)

// Stdio holds what a run of clawwarden sees of its process: the three
// standard streams and the environment.
type Stdio struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// Env is the environment as "KEY=value" entries, as os.Environ returns
	// it; a later entry for the same key wins. main passes os.Environ();
	// nil is an empty environment, so a test states every variable it
	// means clawwarden to see.
	Env []string
}

// lookupEnv returns a getenv function over env.
func lookupEnv(env []string) func(string) string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return func(key string) string { return m[key] }
}

// app is what every subcommand needs: streams, environment, locations and
// the clock.
type app struct {
	stdio  Stdio
	getenv func(string) string
	env    config.Env
	now    func() time.Time
	argv0  string

	paths    config.Paths
	pathsErr error
}

// Paths returns the file locations, or the reason they cannot be computed.
func (a *app) Paths() (config.Paths, error) { return a.paths, a.pathsErr }

// printf writes a message line for people to stderr with the one prefix.
func (a *app) printf(format string, args ...any) {
	fmt.Fprintf(a.stdio.Err, "clawwarden: "+format+"\n", args...)
}

// Run runs clawwarden with the given argv (args[0] is the program name) and
// returns the exit status. Invoked under the name "sudo" or "sudoedit" it acts
// as the shim.
func Run(args []string, stdio Stdio) int {
	a := &app{stdio: stdio, getenv: lookupEnv(stdio.Env), now: time.Now}
	if testNow != nil {
		a.now = testNow
	}
	if len(args) > 0 {
		a.argv0 = args[0]
	}
	a.env = config.ReadEnv(a.getenv)
	a.paths, a.pathsErr = config.Locate(a.getenv)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()

	if len(args) > 0 && (filepath.Base(args[0]) == "sudo" || filepath.Base(args[0]) == "sudoedit") && shimMode != nil {
		return shimMode(ctx, a, args[1:])
	}
	cmdArgs := []string{}
	if len(args) > 1 {
		cmdArgs = args[1:]
	}
	root := newRootCmd(a, cmdArgs)
	root.SetArgs(cmdArgs)
	err := root.ExecuteContext(ctx)
	if err != nil && strings.HasPrefix(err.Error(), "unknown command") {
		err = &usageError{msg: err.Error()}
	}
	if err != nil {
		a.reportError(err)
	}
	return exitCode(err)
}

// testNow replaces the clock in test builds only (testclock.go).
var testNow func() time.Time

// shimMode is set by the shim's file when it is built in.
var shimMode func(ctx context.Context, a *app, args []string) int

// reportError prints err once with the clawwarden prefix, plus any hint.
func (a *app) reportError(err error) {
	var q *quietError
	if errors.As(err, &q) {
		return
	}
	msg := err.Error()
	if errors.Is(err, errUsage) {
		a.printf("%s", msg)
		a.printf("hint: see 'clawwarden help' for usage")
		return
	}
	a.printf("%s", msg)
	var h *hintError
	if errors.As(err, &h) {
		for _, line := range h.hints {
			fmt.Fprintf(a.stdio.Err, "clawwarden: hint: %s\n", line)
		}
	}
}

// quietError carries an exit status whose message was already printed.
type quietError struct{ code int }

func (e *quietError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// silent returns an error that sets the exit status without printing.
func silent(code int) error { return withCode(code, &quietError{code: code}) }

// hintError adds "hint:" lines that say what to do next.
type hintError struct {
	err   error
	hints []string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

// withHint attaches hints to err.
func withHint(err error, hints ...string) error {
	if err == nil {
		return nil
	}
	return &hintError{err: err, hints: hints}
}

// usageErr builds a usage error.
func usageErr(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// subcommands lists the top-level commands.
var subcommands []subcommand

// A subcommand is a top-level command's name and constructor. A run that
// names a command builds only that one; help, completion and the
// documentation build them all.
type subcommand struct {
	name string
	mk   func(*app) *cobra.Command
}

// newRootCmd builds the command tree for a run with args (without the
// program name). When args[0] names a top-level command exactly, the tree
// holds only that command: cobra would resolve args to it or below it, so
// the others (and the default completion command) are never reached, and
// building them is most of the command line's start-up. Anything else (no
// arguments, a flag, help, completion, a misspelt name that needs
// suggestions) builds every command.
func newRootCmd(a *app, args []string) *cobra.Command {
	root := &cobra.Command{
		Use:   "clawwarden",
		Short: "Approval-first guard and security monitor for hosts that run OpenClaw agents",
		Long: `clawwarden guards privileged commands run by AI agents (approval of the exact
command, policy, scoped and expiring elevation, tamper-evident audit log),
watches listening ports and outbound connections, and assesses the host and
the OpenClaw configuration against ISO 27001:2022 and NIST CSF 2.0.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(a.stdio.Out)
	root.SetErr(a.stdio.Err)
	root.SetIn(a.stdio.In)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &usageError{msg: err.Error()}
	})
	root.CompletionOptions.DisableDescriptions = false
	// --version prints what `version` prints.
	root.Version = version
	cobra.AddTemplateFunc("clawwardenVersion", func() string { return buildVersion().String() })
	root.SetVersionTemplate(`{{clawwardenVersion}}`)
	root.Flags().BoolP("version", "v", false, "print the version, as 'clawwarden version' does")
	if len(args) > 0 {
		for _, c := range subcommands {
			if c.name == args[0] {
				root.CompletionOptions.DisableDefaultCmd = true
				root.AddCommand(c.mk(a))
				return root
			}
		}
	}
	for _, c := range subcommands {
		root.AddCommand(c.mk(a))
	}
	return root
}

// noArgs is cobra.NoArgs with our usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErr("%s takes no arguments, got %q", cmd.CommandPath(), args)
	}
	return nil
}

// exactArgs is cobra.ExactArgs with our usage error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErr("%s takes %d argument(s), got %d", cmd.CommandPath(), n, len(args))
		}
		return nil
	}
}
