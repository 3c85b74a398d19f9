package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestManPagesUpToDate regenerates the man pages and compares them with
// docs/man: run `make man` after changing a command.
func TestManPagesUpToDate(t *testing.T) {
	dir := t.TempDir()
	if err := GenerateMan(dir); err != nil {
		t.Fatal(err)
	}
	want, _ := filepath.Glob(filepath.Join(dir, "*.1"))
	have, _ := filepath.Glob("../../docs/man/*.1")
	names := func(ps []string) []string {
		var out []string
		for _, p := range ps {
			out = append(out, filepath.Base(p))
		}
		slices.Sort(out)
		return out
	}
	if !slices.Equal(names(want), names(have)) {
		t.Fatalf("docs/man is out of date (run 'make man'):\n have %v\n want %v", names(have), names(want))
	}
	for _, p := range want {
		got, _ := os.ReadFile(filepath.Join("../../docs/man", filepath.Base(p)))
		exp, _ := os.ReadFile(p)
		if !bytes.Equal(got, exp) {
			t.Errorf("docs/man/%s is out of date (run 'make man')", filepath.Base(p))
		}
	}
}

// TestCompletionScripts checks the completion scripts: bash parses and
// registers the completion, zsh and fish scripts are produced.
func TestCompletionScripts(t *testing.T) {
	auditEnv(t)
	for _, shell := range []string{"bash", "zsh", "fish"} {
		code, out, errOut := runAudit(t, "completion", shell)
		if code != 0 || !strings.Contains(out, "clawwarden") {
			t.Fatalf("completion %s: exit %d: %s", shell, code, errOut)
		}
		if shell != "bash" {
			continue
		}
		bash, err := exec.LookPath("bash")
		if err != nil {
			t.Skip("bash not installed")
		}
		script := filepath.Join(t.TempDir(), "clawwarden.bash")
		os.WriteFile(script, []byte(out), 0o600)
		if out, err := exec.Command(bash, "-n", script).CombinedOutput(); err != nil {
			t.Fatalf("bash -n: %v: %s", err, out)
		}
		got, err := exec.Command(bash, "-c", "source "+script+" && complete -p clawwarden").CombinedOutput()
		if err != nil || !strings.Contains(string(got), "clawwarden") {
			t.Fatalf("complete -p after sourcing: %v: %s", err, got)
		}
	}
}
