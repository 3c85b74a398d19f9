package starter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/clawwarden/clawwarden/internal/command"
	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/egress"
	"github.com/clawwarden/clawwarden/internal/openclaw"
	"github.com/clawwarden/clawwarden/internal/policy"
	"github.com/clawwarden/clawwarden/internal/ports"
	"github.com/clawwarden/clawwarden/internal/safefile"
	"github.com/clawwarden/clawwarden/internal/sockets"
)

// File is one starting policy file: its name in the security directory, how
// to build its contents, and how to check a person's existing copy.
type File struct {
	Name  string
	Data  func(ctx context.Context) ([]byte, error)
	Check func(path string) error
}

// Files are the four starting policy files, in the order init writes them.
// The egress allowlist names what cfg (which may be nil) configures; the
// approved ports are the host's current listeners.
func Files(cfg *openclaw.Config) []File {
	return []File{
		{config.CommandPolicyFile, func(context.Context) ([]byte, error) { return CommandPolicy(), nil },
			func(p string) error { _, err := policy.Load(p); return err }},
		{config.PromptPolicyFile, func(context.Context) ([]byte, error) { return PromptPolicy(), nil },
			func(p string) error { _, _, err := policy.LoadPrompt(p); return err }},
		{config.EgressAllowlistFile, func(context.Context) ([]byte, error) { return MarshalEgress(EgressAllowlist(cfg)), nil },
			func(p string) error { _, err := egress.LoadAllowlist(p); return err }},
		{config.ApprovedPortsFile, func(ctx context.Context) ([]byte, error) {
			inv, err := sockets.List(ctx, sockets.Options{Listening: true})
			if err != nil {
				return nil, err
			}
			return ports.MarshalRules(ports.Baseline(inv.Sockets))
		}, func(p string) error { _, err := ports.LoadApproved(p); return err }},
	}
}

// Action is what [Write] did with one file.
type Action string

const (
	Wrote    Action = "wrote"    // there was none
	Same     Action = "same"     // kept: it is the template
	Kept     Action = "kept"     // kept: the person's own, valid, different
	Replaced Action = "replaced" // replaced (force); the old one is Backup
)

// Outcome says what [Write] did.
type Outcome struct {
	Action Action
	Diff   string // Kept: a unified diff from the person's file to the template
	Backup string // Replaced: where the previous file is kept
}

// Write writes a starting file at path unless one exists. An existing file
// is kept when it passes check, and the outcome carries how it differs from
// the template; a file that fails check is an error that says so. With
// force it is replaced, and kept first as PATH.bak-TIME.
func Write(path string, data []byte, force bool, check func(string) error, now time.Time) (Outcome, error) {
	old, err := safefile.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Outcome{Action: Wrote}, safefile.WriteFile(path, data)
	case err != nil:
		return Outcome{}, err
	case bytes.Equal(old, data):
		return Outcome{Action: Same}, nil
	case !force:
		if err := check(path); err != nil {
			return Outcome{}, err
		}
		return Outcome{Action: Kept, Diff: unifiedDiff(old, data)}, nil
	}
	backup := fmt.Sprintf("%s.bak-%s", path, now.UTC().Format("20060102T150405Z"))
	if err := safefile.WriteFile(backup, old); err != nil {
		return Outcome{}, err
	}
	if err := safefile.WriteFile(path, data); err != nil {
		return Outcome{}, err
	}
	return Outcome{Action: Replaced, Backup: backup}, nil
}

// unifiedDiff is `diff -u` from the person's file ("yours") to the template,
// or a note when diff(1) cannot be run. diff is run, not linked: a diff
// library's initialisation would cost every clawwarden start, the sudo shim
// included, for the one command that shows a difference.
func unifiedDiff(old, new []byte) string {
	dir, err := os.MkdirTemp("", "clawwarden-diff-")
	if err != nil {
		return "(cannot show the difference: " + err.Error() + ")\n"
	}
	defer os.RemoveAll(dir)
	a, b := filepath.Join(dir, "yours"), filepath.Join(dir, "template")
	if err := errors.Join(os.WriteFile(a, old, 0o600), os.WriteFile(b, new, 0o600)); err != nil {
		return "(cannot show the difference: " + err.Error() + ")\n"
	}
	out, err := command.Exec{}.Run(context.Background(), command.Cmd{Name: "diff", Args: []string{"-u", "--label", "yours", "--label", "template", a, b}})
	// diff exits 1 when the files differ, which they do here.
	if len(out.Stdout) == 0 && err != nil {
		return "(diff(1) could not be run, so the difference is not shown: " + err.Error() + ")\n"
	}
	return string(out.Stdout)
}
