package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestSubcommandNames checks that every top-level command is registered
// under the name it has, once: a run that names a command builds only the
// command registered under that name.
func TestSubcommandNames(t *testing.T) {
	a := &app{getenv: func(string) string { return "" }}
	seen := map[string]bool{}
	for _, c := range subcommands {
		if got := c.mk(a).Name(); got != c.name {
			t.Errorf("command %q is registered as %q", got, c.name)
		}
		if seen[c.name] {
			t.Errorf("command %q is registered twice", c.name)
		}
		seen[c.name] = true
	}
}

// TestNamedCommandTree checks that a run naming a top-level command builds
// that command alone, and that every command's help and every usage error
// read the same from that tree as from the whole one.
func TestNamedCommandTree(t *testing.T) {
	a := &app{getenv: func(string) string { return "" }}
	for _, c := range subcommands {
		root := newRootCmd(a, []string{c.name})
		if n := len(root.Commands()); n != 1 || root.Commands()[0].Name() != c.name {
			t.Errorf("%s: tree holds %d commands, want %s alone", c.name, n, c.name)
		}
	}
	if got, want := len(newRootCmd(a, []string{"--help"}).Commands()), len(subcommands); got != want {
		t.Errorf("--help: tree holds %d commands, want all %d", got, want)
	}
	if got, want := len(newRootCmd(a, []string{"help", "version"}).Commands()), len(subcommands); got != want {
		t.Errorf("help version: tree holds %d commands, want all %d", got, want)
	}

	var paths [][]string
	var walk func(cmd *cobra.Command, path []string)
	walk = func(cmd *cobra.Command, path []string) {
		for _, sub := range cmd.Commands() {
			p := append(append([]string(nil), path...), sub.Name())
			paths = append(paths, p)
			walk(sub, p)
		}
	}
	walk(newRootCmd(a, nil), nil)
	for _, p := range paths {
		for _, extra := range [][]string{{"--help"}, {"--no-such-flag"}} {
			args := append(append([]string(nil), p...), extra...)
			full, fullOut := execTree(newRootCmd, args, false)
			named, namedOut := execTree(newRootCmd, args, true)
			if full != named || fullOut != namedOut {
				t.Errorf("clawwarden %s:\nwhole tree: %v\n%s\nnamed command only: %v\n%s",
					strings.Join(args, " "), full, fullOut, named, namedOut)
			}
		}
	}
}

// execTree runs args through a tree built whole or, with named, as a run
// builds it, and returns the error's text and the output.
func execTree(build func(*app, []string) *cobra.Command, args []string, named bool) (string, string) {
	var out bytes.Buffer
	a := &app{stdio: Stdio{In: strings.NewReader(""), Out: &out, Err: &out}, getenv: func(string) string { return "" }}
	var root *cobra.Command
	if named {
		root = build(a, args)
	} else {
		root = build(a, nil)
	}
	root.SetArgs(args)
	err := root.Execute()
	msg := "<nil>"
	if err != nil {
		msg = err.Error()
	}
	return msg, out.String()
}
