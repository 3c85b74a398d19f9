package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/testenv"
)

// TestBypassAttemptsRefused runs each attempt through the real binary as the
// test user, whose sudoers rule would let sudo run several of them (env, sh),
// and checks that the guard refuses before asking anyone and that nothing
// reaches sudo. Where a binary is not installed, resolution refuses it (8).
func TestBypassAttemptsRefused(t *testing.T) {
	f := newFixture(t)
	userBin := filepath.Join(f.home, "bin")
	os.Mkdir(userBin, 0o755)
	os.Symlink("/bin/sh", filepath.Join(userBin, "innocent"))
	os.WriteFile(filepath.Join(userBin, "tool"), []byte("#!/bin/sh\nid\n"), 0o755)
	for _, p := range []string{userBin, filepath.Join(userBin, "innocent"), filepath.Join(userBin, "tool")} {
		os.Lchown(p, int(f.u.UID), int(f.u.GID))
	}

	tests := []struct {
		name string
		argv []string
		want []int // acceptable exit statuses
	}{
		{"sudo -s", []string{"sudo", "-s"}, []int{3, 8}},
		{"sudo -i", []string{"sudo", "-i"}, []int{3, 8}},
		{"sudo -u root id", []string{"sudo", "-u", "root", "id"}, []int{3, 8}},
		{"sudo -E env", []string{"sudo", "-E", "env"}, []int{3, 8}},
		{"su -", []string{"su", "-"}, []int{3, 8}},
		{"bash -c", []string{"bash", "-c", "id"}, []int{3}},
		{"sh alone", []string{"sh"}, []int{3}},
		{"/bin/sh -c", []string{"/bin/sh", "-c", "id"}, []int{3}},
		{"sh allowed by sudoers", []string{"/usr/bin/sh", "-c", "id"}, []int{3}},
		{"env bash", []string{"env", "bash"}, []int{3}},
		{"env -i id (sudoers allows env)", []string{"/usr/bin/env", "-i", "/usr/bin/id"}, []int{3}},
		{"perl -e", []string{"perl", "-e", `exec "/bin/sh"`}, []int{3}},
		{"python3 -c", []string{"python3", "-c", "import os; os.system('id')"}, []int{3, 8}},
		{"awk system", []string{"awk", `BEGIN{system("id")}`}, []int{3, 8}},
		{"find -exec", []string{"find", "/", "-maxdepth", "0", "-exec", "/bin/sh", ";"}, []int{3}},
		{"find -execdir", []string{"find", ".", "-execdir", "id", ";"}, []int{3}},
		{"xargs sh", []string{"xargs", "sh"}, []int{3}},
		{"nice bash", []string{"nice", "bash"}, []int{3}},
		{"timeout sh", []string{"timeout", "5", "sh"}, []int{3}},
		{"script -c", []string{"script", "-c", "sh"}, []int{3}},
		{"less shell escape", []string{"less", "/etc/shadow"}, []int{3}},
		{"man pager escape", []string{"man", "ls"}, []int{3}},
		{"vi", []string{"vi", "/etc/sudoers"}, []int{3, 8}},
		{"git pager", []string{"git", "-c", "core.pager=sh", "log"}, []int{3}},
		{"tar checkpoint-action", []string{"tar", "-cf", "/dev/null", "/etc/hostname", "--checkpoint=1", "--checkpoint-action=exec=sh"}, []int{3}},
		{"tar -I", []string{"tar", "-xI", "sh", "-f", "x"}, []int{3}},
		{"ssh ProxyCommand", []string{"ssh", "-o", "ProxyCommand=sh -c id", "x"}, []int{3}},
		{"relative ./", []string{"./id"}, []int{8}},
		{"relative dir", []string{"bin/id"}, []int{8}},
		{"relative ..", []string{"../../usr/bin/id"}, []int{8}},
		{"user-owned symlink to sh", []string{filepath.Join(userBin, "innocent")}, []int{8}},
		{"user-writable script", []string{filepath.Join(userBin, "tool")}, []int{8}},
		{"setuid binary", []string{"/usr/bin/passwd"}, []int{8}},
		{"command with shell syntax", []string{"/usr/bin/true; sh"}, []int{8}},
		{"argv0 with a space", []string{"id -u"}, []int{8}},
		{"newline smuggled in an argument", []string{"/usr/bin/id", "root\n  command:  /usr/bin/true"}, []int{8}},
		{"escape character in an argument", []string{"/usr/bin/id", "\x1b[2Jroot"}, []int{8}},
		{"flag as command", []string{"-s"}, []int{8}},
		// Files that decide who is root (issue 9): one "y" from permanent root.
		{"tee into sudoers.d", []string{"tee", "/etc/sudoers.d/agent"}, []int{3}},
		{"tee -a sudoers", []string{"/usr/bin/tee", "-a", "/etc/sudoers"}, []int{3}},
		{"cp over shadow", []string{"cp", "/tmp/x", "/etc/shadow"}, []int{3}},
		{"install into sudoers.d", []string{"install", "-m", "0440", "/tmp/x", "/etc/sudoers.d/y"}, []int{3}},
		{"dd of=passwd", []string{"dd", "if=/tmp/x", "of=/etc/passwd"}, []int{3}},
		{"sed -i group", []string{"sed", "-i", "s/x/y/", "/etc/group"}, []int{3}},
		{"ln over ld.so.preload", []string{"ln", "-sf", "/tmp/x.so", "/etc/ld.so.preload"}, []int{3}},
		{"mv into sudoers.d", []string{"mv", "/tmp/x", "/etc/sudoers.d/"}, []int{3}},
		{"chmod setuid", []string{"chmod", "4755", "/tmp/sh"}, []int{3}},
		{"chmod u+s", []string{"chmod", "u+s", "/usr/local/bin/x"}, []int{3}},
		{"chown etc to the agent", []string{"chown", "-R", testenv.UserName, "/etc"}, []int{3}},
		{"chown sudoers to the agent", []string{"chown", testenv.UserName, "/etc/sudoers"}, []int{3}},
		{"empty command name", []string{""}, []int{8}},
	}
	sudoLogBefore := len(testenv.SudoLogLines(testenv.UserName))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.events("approval", "")
			code, out := f.run(nil, "", append([]string{"exec", "--approval-timeout", "1s", "--"}, tt.argv...)...)
			if !slices.Contains(tt.want, code) {
				t.Errorf("exit %d, want one of %v; output:\n%s", code, tt.want, out)
			}
			if strings.Contains(out, "clawwarden approve") {
				t.Errorf("a person was asked to approve it:\n%s", out)
			}
			if after := f.events("approval", ""); after != before {
				t.Errorf("audit shows %d approval records for a refused command", after-before)
			}
		})
	}
	if after := len(testenv.SudoLogLines(testenv.UserName)); after != sudoLogBefore {
		t.Errorf("refused commands reached sudo: %d new sudo log lines:\n%s", after-sudoLogBefore,
			strings.Join(testenv.SudoLogLines(testenv.UserName)[sudoLogBefore:], "\n"))
	}
	// Every refusal is audited and the chain still verifies.
	if n := f.events("refused", ""); n != len(tests) {
		t.Errorf("audit has %d refusal records, want %d", n, len(tests))
	}
	f.verifyAudit()
}
