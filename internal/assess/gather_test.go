package assess

import (
	"context"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/boundary"
	"github.com/clawwarden/clawwarden/internal/config"
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

// TestGather reads this host as the assess command does, with OpenClaw's
// commands skipped.
func TestGather(t *testing.T) {
	env := map[string]string{"HOME": t.TempDir()}
	getenv := func(k string) string { return env[k] }
	paths, err := config.Locate(getenv)
	if err != nil {
		t.Fatal(err)
	}
	o := Gather(context.Background(), GatherOptions{Paths: paths, Getenv: getenv, Now: judgeNow})
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	if o.User != u.Username || o.UID != os.Getuid() || o.Now != judgeNow || o.ConfigPath == "" {
		t.Errorf("Gather: user %q uid %d now %v config %q; want %q, %d, %v and a config path", o.User, o.UID, o.Now, o.ConfigPath, u.Username, os.Getuid(), judgeNow)
	}
	if o.SudoList == nil || o.Gateway == nil || (o.Hook == nil && o.HookErr == nil) {
		t.Errorf("Gather left evidence unread: sudo list %v, gateway %v, hook %v (%v)", o.SudoList != nil, o.Gateway, o.Hook, o.HookErr)
	}
	const skipped = "skipped (--no-openclaw-audit)"
	if o.OpenClawAuditNote != skipped || o.ExecPolicyNote != skipped || o.OpenClawAudit != nil || o.ExecPolicy != nil {
		t.Errorf("OpenClaw commands not skipped: %q, %q", o.OpenClawAuditNote, o.ExecPolicyNote)
	}
	if o.Enforced != nil {
		t.Errorf("enforced mode read although not installed: %+v", o.Enforced)
	}
}
