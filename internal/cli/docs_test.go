package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

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
