package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/testenv"
)

// TestReproducibleBuild builds the linux/amd64 release binaries twice with
// scripts/dist, the second time from a copy of the checkout at another path,
// and checks the bytes are identical and `version` reports the version
// information. What could make two builds of one commit differ is the
// checkout's path, the clock, the VCS state and the build id, which
// scripts/dist's flags control; both builds share the build cache (a cold
// second build took 70 CPU-seconds of the suite and would test Go's own
// compiler determinism, not the script): with -trimpath the path is not part
// of a package's cache key, and each binary is linked afresh.
func TestReproducibleBuild(t *testing.T) {
	// Slow (whole builds) and independent of the other tests: scripts/test
	// runs it in its second go test process, beside the rest.
	t.Parallel()
	if testing.Short() {
		t.Skip("builds clawwarden twice from scratch")
	}
	if _, err := exec.LookPath("git"); err != nil {
		testenv.Skip(t, "git is needed for the version information")
	}
	build := func(repo, out string) [][]byte {
		cmd := exec.Command("./scripts/dist")
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "DIST_TARGETS=linux/amd64", "DIST_DIR="+out)
		if o, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("scripts/dist: %v\n%s", err, o)
		}
		// clawwarden and, beside it, enforced mode's root helper and the
		// agent's sudo.
		all, _ := filepath.Glob(filepath.Join(out, "clawwarden-*-linux-amd64"))
		var paths []string
		for _, prefix := range []string{"clawwarden-root-", "clawwarden-sudo-"} {
			for _, p := range all {
				if strings.HasPrefix(filepath.Base(p), prefix) {
					paths = append(paths, p)
				}
			}
		}
		if len(all) != 3 || len(paths) != 2 {
			t.Fatalf("dist produced %v", all)
		}
		for _, p := range all {
			if !slices.Contains(paths, p) {
				paths = append([]string{p}, paths...)
			}
		}
		var datas [][]byte // clawwarden, clawwarden-root, clawwarden-sudo
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			sums, _ := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
			if !strings.Contains(string(sums), filepath.Base(p)) {
				t.Errorf("SHA256SUMS does not list %s:\n%s", p, sums)
			}
			datas = append(datas, data)
		}
		return datas
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	// The copy holds the sources and .git, not what tests and builds write
	// beside them while this runs.
	other := filepath.Join(t.TempDir(), "elsewhere", "clawwarden")
	ents, err := os.ReadDir(repo)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(other, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		from, to := filepath.Join(repo, e.Name()), filepath.Join(other, e.Name())
		switch {
		case e.Name() == "test-artifacts" || e.Name() == "dist":
		case e.IsDir():
			if err := os.CopyFS(to, os.DirFS(from)); err != nil {
				t.Fatal(err)
			}
		default:
			// With its mode: git counts a changed mode as a change (the
			// version would say -dirty).
			fi, err := e.Info()
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(from)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(to, data, fi.Mode().Perm()); err != nil {
				t.Fatal(err)
			}
		}
	}
	a := build(repo, t.TempDir())
	b := build(other, t.TempDir())
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			t.Fatalf("two builds of one commit differ (%d vs %d bytes)", len(a[i]), len(b[i]))
		}
	}
	bin := filepath.Join(t.TempDir(), "clawwarden")
	os.WriteFile(bin, a[0], 0o755)
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
