package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReproducibleBuild builds the linux/amd64 release binary twice with
// scripts/dist, the second time with an empty build cache so nothing is
// reused, and checks the bytes are identical and `version` reports the
// version information.
func TestReproducibleBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds clawwarden twice from scratch")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is needed for the version information")
	}
	build := func(out string, extraEnv ...string) []byte {
		cmd := exec.Command("./scripts/dist")
		cmd.Dir = "../.."
		cmd.Env = append(os.Environ(), append([]string{"DIST_TARGETS=linux/amd64", "DIST_DIR=" + out}, extraEnv...)...)
		if o, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("scripts/dist: %v\n%s", err, o)
		}
		bins, _ := filepath.Glob(filepath.Join(out, "clawwarden-*-linux-amd64"))
		if len(bins) != 1 {
			t.Fatalf("dist produced %v", bins)
		}
		data, err := os.ReadFile(bins[0])
		if err != nil {
			t.Fatal(err)
		}
		sums, _ := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
		if !strings.Contains(string(sums), filepath.Base(bins[0])) {
			t.Errorf("SHA256SUMS does not list %s:\n%s", bins[0], sums)
		}
		return data
	}
	a := build(t.TempDir())
	b := build(t.TempDir(), "GOCACHE="+t.TempDir())
	if !bytes.Equal(a, b) {
		t.Fatalf("two builds of one commit differ (%d vs %d bytes)", len(a), len(b))
	}
	bin := filepath.Join(t.TempDir(), "clawwarden")
	os.WriteFile(bin, a, 0o755)
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"commit: ", "built: 20", "go: go1."} {
		if !strings.Contains(string(out), want) || strings.Contains(string(out), "commit: unknown") {
			t.Errorf("version output lacks %q:\n%s", want, out)
		}
	}
}
