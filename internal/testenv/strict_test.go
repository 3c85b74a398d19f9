package testenv

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

// TestSkipFailsWhenStrict runs a test that calls Skip in a child process,
// once plain and once with CLAWWARDEN_TEST_STRICT=1.
func TestSkipFailsWhenStrict(t *testing.T) {
	if os.Getenv("CLAWWARDEN_TEST_SKIP_CHILD") == "1" {
		Skip(t, "the child needs %s", "something missing")
		return
	}
	for _, strict := range []string{"", "1"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSkipFailsWhenStrict$", "-test.v")
		cmd.Env = append(os.Environ(), "CLAWWARDEN_TEST_SKIP_CHILD=1", StrictEnv+"="+strict)
		out, err := cmd.CombinedOutput()
		s := string(out)
		if strict == "" && (err != nil || !strings.Contains(s, "--- SKIP") || !strings.Contains(s, "the child needs something missing")) {
			t.Errorf("plain: %v\n%s", err, s)
		}
		if strict == "1" && (err == nil || !strings.Contains(s, "--- FAIL") || !strings.Contains(s, "would skip: the child needs something missing")) {
			t.Errorf("strict: %v\n%s", err, s)
		}
	}
}

// TestLockHost: while one holder has a host lock nobody else can take it;
// once it lets go, the next LockHost gets it.
func TestLockHost(t *testing.T) {
	name := "locktest-" + strconv.Itoa(os.Getpid())
	path := filepath.Join(os.TempDir(), "clawwarden-test-"+name)
	t.Cleanup(func() { os.Remove(path + ".lock") })
	unlock, err := LockHost(name)
	if err != nil {
		t.Fatal(err)
	}
	if l, err := safefile.TryLockFor(path); !errors.Is(err, safefile.ErrLocked) {
		if l != nil {
			l.Unlock()
		}
		t.Fatalf("TryLockFor while LockHost holds it: %v, want ErrLocked", err)
	}
	unlock()
	again, err := LockHost(name)
	if err != nil {
		t.Fatal(err)
	}
	again()
}
