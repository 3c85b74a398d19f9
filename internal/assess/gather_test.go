package assess

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/boundary"
	"github.com/clawwarden/clawwarden/internal/enforce"
)

// TestSudoList runs a real program in sudo's place: its output is the
// fallback evidence, and its complaint on stderr is the reason when it
// fails.
func TestSudoList(t *testing.T) {
	dir := t.TempDir()
	script := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o700); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ok := script("sudo-ok", `[ "$1 $2" = "-n -l" ] && [ "$LC_ALL" = C ] || exit 3
echo "User agent may run the following commands on h:"
echo "    (ALL) NOPASSWD: /usr/bin/apt-get"
`)
	out, err := sudoList(ok)(context.Background())
	if err != nil || !strings.Contains(string(out), "NOPASSWD: /usr/bin/apt-get") {
		t.Errorf("sudo -n -l = %q, %v; want the listed rule", out, err)
	}
	fail := script("sudo-fail", "echo 'sudo: a password is required' >&2; exit 1\n")
	if _, err := sudoList(fail)(context.Background()); err == nil || !strings.Contains(err.Error(), "sudo: a password is required: exit status 1") {
		t.Errorf("failing sudo -n -l: %v; want its stderr and status", err)
	}
}

func TestEnforcement(t *testing.T) {
	st := enforce.Status{Enforced: true, AgentUser: "agent", Boundary: boundary.Report{Evidence: []string{"helper ok"}},
		Signers: []string{"alice: hardware key (touch)", "bob: ed25519"}}
	en := enforcement(st)
	if !en.Enforced || en.AgentUser != "agent" || en.Keys != 2 || en.HardwareKeys != 1 || len(en.Evidence) != 1 {
		t.Errorf("enforcement = %+v; want enforced for agent, 2 keys, 1 hardware", en)
	}
}
