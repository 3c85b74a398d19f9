package e2e

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/testenv"
)

// The attacks of this file are the ones an agent running as the person's
// own account tried against the guard (issue 9): each runs as the
// unprivileged test user, against the real sudo with a password rule and
// the default per-terminal tickets, and fails on a guard that ran
// `sudo -- CMD` followed by a separate `sudo -k`.

// shellWith runs a /bin/sh script as the test user on a new pseudo-terminal
// (its own session, like a terminal the agent opened), with CW set to the
// clawwarden binary and the extra environment entries.
func (f *fixture) shellWith(script string, extra ...string) *testenv.Console {
	env := append(append(append([]string{}, f.env...), "CW="+f.bin), extra...)
	c := testenv.Command(f.u, env, f.home, "/bin/sh", "-c", script)
	return testenv.Start(f.t, c)
}

// sharedDir is a temporary directory the test users can read.
func sharedDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "clawwarden-shared-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// rootMarker is a path only root can create; an attack that creates it got
// root.
func rootMarker(t *testing.T) string {
	p := filepath.Join("/root", "clawwarden-attack-"+strings.ToLower(rand.Text()[:10]))
	t.Cleanup(func() { os.Remove(p) })
	return p
}

func assertNoRoot(t *testing.T, marker string, c *testenv.Console) {
	t.Helper()
	if _, err := os.Stat(marker); err == nil {
		t.Fatalf("the attack got root: %s exists\n%s", marker, c.Output())
	}
	if strings.Contains(c.Output(), "ATTACK-ROOT") {
		t.Fatalf("the attack got root:\n%s", c.Output())
	}
}

// approveAndType answers the guard's prompt and sudo's password prompt.
func approveAndType(c *testenv.Console, pw string) {
	c.Expect(`\[y/N\] `)
	c.Send("y\n")
	c.Expect(`password for `)
	c.Send(pw + "\n")
}

// While an approved command runs, another process in the same terminal
// session tries /usr/bin/sudo -n over and over: with `sudo -k -- CMD`
// there is no ticket to use at any moment.
func TestAttackTicketWhileApprovedCommandRuns(t *testing.T) {
	f := newPasswordFixture(t)
	pw := testenv.SetPassword(t, f.u)
	m := rootMarker(t)
	c := f.shellWith(`"$CW" exec -- /usr/bin/sleep 2.9 &
g=$!
while kill -0 $g 2>/dev/null; do
  if /usr/bin/sudo -n /usr/bin/touch "$M" 2>/dev/null; then echo ATTACK-ROOT; fi
done
wait $g; echo "guard-rc=$?"`, "M="+m)
	approveAndType(c, pw)
	c.Expect(`guard-rc=0`)
	c.Wait()
	assertNoRoot(t, m, c)
}

// SIGKILL of the guard while its command runs leaves nothing behind that
// /usr/bin/sudo -n could use.
func TestAttackTicketAfterGuardKilled(t *testing.T) {
	f := newPasswordFixture(t)
	pw := testenv.SetPassword(t, f.u)
	m := rootMarker(t)
	signal := filepath.Join(sharedDir(t), "go")
	t.Cleanup(func() { testenv.KillRoot("/usr/bin/sleep", "30.1") })
	c := f.shellWith(`"$CW" exec -- /usr/bin/sleep 30.1 &
g=$!
while [ ! -e "$GO" ]; do sleep 0.05; done
kill -9 $g
if /usr/bin/sudo -n /usr/bin/touch "$M"; then echo ATTACK-ROOT; fi
echo attack-done`, "M="+m, "GO="+signal)
	approveAndType(c, pw)
	testenv.Eventually(t, "the approved sleep to run as root", func() bool { return testenv.RootProcess("/usr/bin/sleep", "30.1") })
	os.WriteFile(signal, nil, 0o644)
	c.Expect(`attack-done`)
	c.Wait()
	assertNoRoot(t, m, c)
}

// SIGSTOP of the guard, /usr/bin/sudo -n, SIGCONT: nothing to use either,
// and the guard finishes normally afterwards.
func TestAttackTicketWhileGuardStopped(t *testing.T) {
	f := newPasswordFixture(t)
	pw := testenv.SetPassword(t, f.u)
	m := rootMarker(t)
	signal := filepath.Join(sharedDir(t), "go")
	t.Cleanup(func() { testenv.KillRoot("/usr/bin/sleep", "2.3") })
	c := f.shellWith(`"$CW" exec -- /usr/bin/sleep 2.3 &
g=$!
while [ ! -e "$GO" ]; do sleep 0.05; done
kill -STOP $g
if /usr/bin/sudo -n /usr/bin/touch "$M"; then echo ATTACK-ROOT; fi
kill -CONT $g
wait $g; echo "guard-rc=$?"`, "M="+m, "GO="+signal)
	approveAndType(c, pw)
	testenv.Eventually(t, "the approved sleep to run as root", func() bool { return testenv.RootProcess("/usr/bin/sleep", "2.3") })
	os.WriteFile(signal, nil, 0o644)
	c.Expect(`guard-rc=0`)
	c.Wait()
	assertNoRoot(t, m, c)
	if n := f.events("result", "ran"); n != 1 {
		t.Errorf("audit has %d result records, want 1", n)
	}
}

// sudo -l through the shim asks for the password and, run with -k, leaves
// no ticket behind; sudo -v (whose only job is to cache) is refused.
func TestAttackPassthroughLeavesNoTicket(t *testing.T) {
	f := newPasswordFixture(t)
	shimInstall(t, f)
	pw := testenv.SetPassword(t, f.u)
	m := rootMarker(t)
	c := f.shellWith(`sudo -l >/dev/null; echo "list-rc=$?"
if /usr/bin/sudo -n /usr/bin/touch "$M"; then echo ATTACK-ROOT; fi
sudo -v; echo "validate-rc=$?"`, "M="+m)
	c.Expect(`password for `)
	c.Send(pw + "\n")
	c.Expect(`list-rc=0`)
	c.Expect(`validate-rc=3`)
	c.Wait()
	assertNoRoot(t, m, c)
}

// sudoedit reaches the guard, through the sudoedit shim as well as `sudo
// -e`: refused unless allow_exact names the whole command line, and the
// agent's SUDO_EDITOR/VISUAL/EDITOR never reach sudo.
func TestAttackSudoeditGoesThroughTheGuard(t *testing.T) {
	f := newFixture(t)
	shimInstall(t, f)
	pw := testenv.SetPassword(t, f.u)
	evil := filepath.Join(f.home, "evil-editor")
	marker := filepath.Join(f.home, "editor-ran")
	os.WriteFile(evil, []byte("#!/bin/sh\ntouch "+marker+"\n"), 0o755)
	os.Chown(evil, int(f.u.UID), int(f.u.GID))
	editors := []string{"SUDO_EDITOR=" + evil, "VISUAL=" + evil, "EDITOR=" + evil}
	before := f.events("refused", "")
	for _, form := range []string{"sudoedit /etc/clawwarden-test-edit", "sudo -e /etc/clawwarden-test-edit"} {
		c := f.shellWith(form+`; echo "rc=$?"`, editors...)
		c.Expect(`rc=3`)
		c.Wait()
		if !strings.Contains(c.Output(), "allow_exact") {
			t.Errorf("%s: refusal does not say how to allow it:\n%s", form, c.Output())
		}
	}
	if n := f.events("refused", "") - before; n != 2 {
		t.Errorf("audit has %d refusals for the two sudoedit forms, want 2", n)
	}
	// Named exactly, it goes on to approval; the editor is the one sudoers
	// names (here /usr/bin/true), not the agent's.
	f.writePolicy(`{"allow_exact": [["sudoedit", "/etc/clawwarden-test-edit"]]}`)
	c := f.shellWith(`sudoedit /etc/clawwarden-test-edit; echo "rc=$?"`, editors...)
	c.Expect(`command:  sudoedit /etc/clawwarden-test-edit`)
	approveAndType(c, pw)
	c.Expect(`rc=0`)
	c.Wait()
	if _, err := os.Stat(marker); err == nil {
		t.Fatalf("the agent's editor ran:\n%s", c.Output())
	}
}

// With a NOPASSWD rule the password is not the gate: the prompt and the
// audit record say so. With a password rule they do not.
func TestAdvisoryWhenSudoNeedsNoPassword(t *testing.T) {
	f := newFixture(t)
	c := f.console(nil, "exec", "--", "/usr/bin/id", "-u")
	c.Expect(`NO password \(NOPASSWD\)`)
	c.Expect(`clawwarden enforce install`)
	c.Expect(`\[y/N\] `)
	c.Send("y\n")
	if code := c.Wait(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, c.Output())
	}
	if n := f.advisoryRecords(); n == 0 {
		t.Errorf("no audit record says \"advisory\": true")
	}

	p := newPasswordFixture(t)
	pw := testenv.SetPassword(t, p.u)
	c = p.console(nil, "exec", "--", "/usr/bin/whoami")
	c.Expect(`\[y/N\] `)
	c.Send("y\n")
	c.Expect(`password for `)
	c.Send(pw + "\n")
	c.Expect(`root`)
	if code := c.Wait(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, c.Output())
	}
	if strings.Contains(c.Output(), "NOPASSWD") {
		t.Errorf("a password rule was called NOPASSWD:\n%s", c.Output())
	}
	if n := p.advisoryRecords(); n != 0 {
		t.Errorf("%d advisory audit records for a password rule", n)
	}
}

func (f *fixture) advisoryRecords() int {
	data, _ := os.ReadFile(f.securityFile("privileged-audit.jsonl"))
	return strings.Count(string(data), `"advisory":true`)
}

// fakeGateway is a copy of /bin/sh named openclaw-gateway, in a directory
// the test users can run it from: processes started under it descend from
// an "OpenClaw gateway" as far as /proc can tell.
func fakeGateway(t *testing.T) string {
	sh, err := os.ReadFile("/bin/sh")
	if err != nil {
		testenv.Skip(t, "no /bin/sh")
	}
	dir, err := os.MkdirTemp("", "clawwarden-gw-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	gw := filepath.Join(dir, "openclaw-gateway")
	if err := os.WriteFile(gw, sh, 0o755); err != nil {
		t.Fatal(err)
	}
	return gw
}

// The agent's own terminal is not a person: under OPENCLAW_SHELL=exec, or
// under an OpenClaw gateway (answering through `script` and a pipe), the
// guard never asks on that terminal; it files a pending request.
func TestAgentTerminalIsNotAPerson(t *testing.T) {
	f := newFixture(t)
	c := f.console([]string{"OPENCLAW_SHELL=exec"}, "exec", "--approval-timeout", "1s", "--", "/usr/bin/id", "-u")
	if code := c.Wait(); code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, c.Output())
	}
	out := c.Output()
	if strings.Contains(out, "[y/N]") || !strings.Contains(out, "terminal belongs to an agent") || !strings.Contains(out, "clawwarden approve ") {
		t.Errorf("OPENCLAW_SHELL=exec: the guard asked on the agent's terminal or did not go pending:\n%s", out)
	}

	gw := fakeGateway(t)
	c = testenv.Start(t, testenv.Command(f.u, append(append([]string{}, f.env...), "CW="+f.bin), f.home, gw, "-c",
		`printf 'y\ny\n' | script -qfec "$CW exec --approval-timeout 1s -- /usr/bin/id -u" /dev/null; echo "rc=$?"`))
	c.Expect(`rc=`)
	c.Wait()
	out = c.Output()
	if strings.Contains(out, "[y/N]") || !strings.Contains(out, "descends from an OpenClaw gateway") || strings.Contains(out, "\n0\r") {
		t.Errorf("under a gateway, through script: the guard asked on the agent's pty or ran:\n%s", out)
	}
	if n := f.events("approval", "approved"); n != 0 {
		t.Errorf("audit has %d approvals", n)
	}

	// approve refuses to run where the agent is.
	g := f.cmd(nil, "exec", "--approval-timeout", "60s", "--", "/usr/bin/id", "-u")
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	defer g.Process.Kill()
	id := f.waitPending(t)
	c = f.console([]string{"OPENCLAW_SHELL=exec"}, "approve", id)
	if code := c.Wait(); code != 1 || !strings.Contains(c.Output(), "belongs to an agent") {
		t.Errorf("approve under OPENCLAW_SHELL=exec: exit %d:\n%s", code, c.Output())
	}
}

// An agent that escapes the heuristics and approves its own request still
// needs the person's sudo password: the approved command runs as `sudo -k`
// on the approving terminal. Not knowing it, the agent gets "not run".
func TestAgentApprovingItselfNeedsThePassword(t *testing.T) {
	f := newPasswordFixture(t)
	testenv.SetPassword(t, f.u)
	m := rootMarker(t)
	g := f.cmd(nil, "exec", "--approval-timeout", "60s", "--", "/usr/bin/touch", m)
	var gout strings.Builder
	g.Stdout, g.Stderr = &gout, &gout
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	id := f.waitPending(t)
	c := f.console(nil, "approve", id)
	c.Expect(`\[y/N\] `)
	c.Send("y\n")
	for range 3 {
		c.Expect(`password for `)
		c.Send("not-the-password\n")
	}
	if code := c.Wait(); code != 1 || !strings.Contains(c.Output(), "did not run") {
		t.Errorf("approve with a wrong password: exit %d:\n%s", code, c.Output())
	}
	if code := testenv.ExitCode(g.Wait()); code != 1 {
		t.Errorf("guard: exit %d, want 1:\n%s", code, gout.String())
	}
	if _, err := os.Stat(m); err == nil {
		t.Fatal("the command ran without the password")
	}
	if n := f.events("result", "not run"); n < 1 {
		t.Errorf("audit has no \"not run\" result:\n%v", f.auditLines())
	}
	if n := f.events("result", "ran"); n != 0 {
		t.Errorf("audit says the command ran")
	}
}

// Out of band with a password rule: the person approves from their own
// terminal and types the password there; the command's output and exit
// status reach the waiting guard.
func TestOutOfBandApprovalCarriesThePassword(t *testing.T) {
	f := newPasswordFixture(t)
	pw := testenv.SetPassword(t, f.u)
	g := f.cmd(nil, "exec", "--reason", "who am i", "--approval-timeout", "60s", "--", "/usr/bin/whoami")
	var stdout, stderr strings.Builder
	g.Stdout, g.Stderr = &stdout, &stderr
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	id := f.waitPending(t)
	c := f.console(nil, "approve", id)
	c.Expect(`reason:   'who am i'`)
	approveAndType(c, pw)
	c.Expect(`root`)
	if code := c.Wait(); code != 0 {
		t.Fatalf("approve: exit %d:\n%s", code, c.Output())
	}
	if code := testenv.ExitCode(g.Wait()); code != 0 || stdout.String() != "root\n" {
		t.Fatalf("guard: exit %d, stdout %q, stderr:\n%s", code, stdout.String(), stderr.String())
	}
	var ran *auditLine
	for _, l := range f.auditLines() {
		if l.Event == "result" && l.Decision == "ran" {
			ran = &l
		}
	}
	if ran == nil || ran.ExitCode == nil || *ran.ExitCode != 0 || !strings.Contains(ran.Detail, "approver") {
		t.Errorf("audit result: %+v", ran)
	}
	f.verifyAudit()
}

// A pending request edited after it was filed: approve shows (and runs)
// the edited text, which the person saw; the waiting guard holds the
// original, sees that the decision names another request, and refuses.
func TestEditedPendingRequestIsRefused(t *testing.T) {
	f := newFixture(t)
	g := f.cmd(nil, "exec", "--approval-timeout", "60s", "--", "/usr/bin/true")
	var gout strings.Builder
	g.Stdout, g.Stderr = &gout, &gout
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	id := f.waitPending(t)
	path := filepath.Join(f.home, ".openclaw", "security", "pending", id+".request.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(data), `"/usr/bin/true"`, `"/usr/bin/id"`, 1)
	edited = strings.Replace(edited, fileSHA(t, "/usr/bin/true"), fileSHA(t, "/usr/bin/id"), 1)
	if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out := f.run(nil, "", "pending")
	if code != 0 || !strings.Contains(out, id+"  /usr/bin/id") {
		t.Errorf("pending does not show the edited text: exit %d:\n%s", code, out)
	}
	c := f.console(nil, "approve", id)
	c.Expect(`command:  /usr/bin/id`)
	c.Expect(`\[y/N\] `)
	c.Send("y\n")
	c.Wait()
	if code := testenv.ExitCode(g.Wait()); code != 1 || !strings.Contains(gout.String(), "different request") {
		t.Fatalf("guard accepted a decision on an edited request: exit %d:\n%s", code, gout.String())
	}
	if strings.Contains(gout.String(), "uid=") {
		t.Errorf("the guard relayed the edited command's output:\n%s", gout.String())
	}
}

func fileSHA(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("sha256sum", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(out))[0]
}

// A kept approval is the person's choice, and binds argv, working directory
// and the binary's SHA-256.
func TestKeptApprovalBindsDirectoryAndBinary(t *testing.T) {
	f := newFixture(t)
	tool := "/usr/local/libexec/clawwarden-test/tool"
	os.MkdirAll(filepath.Dir(tool), 0o755)
	copyFile(t, "/usr/bin/true", tool)
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(tool)) })
	keep := []string{"CLAWWARDEN_KEEP_SESSION=1"}
	exec1 := func(dir string) (int, string) {
		c := testenv.Command(f.u, append(append([]string{}, f.env...), keep...), dir, f.bin, "exec", "--keep-session", "--approval-timeout", "1s", "--", "/usr/bin/id", "-u")
		out, err := c.CombinedOutput()
		return testenv.ExitCode(err), string(out)
	}
	// The agent asks to keep it; the person says no: the next run needs a
	// person again.
	c := f.console(keep, "exec", "--keep-session", "--", "/usr/bin/id", "-u")
	c.Expect(`\[y/N\] `)
	c.Send("y\n")
	c.Expect(`Also allow this exact command again`)
	c.Send("n\n")
	if code := c.Wait(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, c.Output())
	}
	if code, out := exec1(f.home); code != 1 {
		t.Fatalf("an approval the person did not keep was reused: exit %d:\n%s", code, out)
	}
	// Kept by the person: reused in the same directory only.
	c = f.console(keep, "exec", "--keep-session", "--", "/usr/bin/id", "-u")
	c.Expect(`\[y/N\] `)
	c.Send("y\n")
	c.Expect(`Also allow this exact command again`)
	c.Send("y\n")
	if code := c.Wait(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, c.Output())
	}
	if code, out := exec1(f.home); code != 0 || !strings.Contains(out, "0\n") {
		t.Fatalf("kept approval not reused: exit %d:\n%s", code, out)
	}
	if code, out := exec1("/"); code != 1 {
		t.Fatalf("kept approval ran from another directory: exit %d:\n%s", code, out)
	}

	// A binary replaced at the same path needs a new approval.
	f.writePolicy(`{}`)
	sudoersTool(t, tool)
	c = f.console(keep, "exec", "--keep-session", "--", tool)
	c.Expect(`\[y/N\] `)
	c.Send("y\n")
	c.Expect(`Also allow`)
	c.Send("y\n")
	if code := c.Wait(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, c.Output())
	}
	run := func() int {
		c := testenv.Command(f.u, append(append([]string{}, f.env...), keep...), f.home, f.bin, "exec", "--keep-session", "--approval-timeout", "1s", "--", tool)
		_, err := c.CombinedOutput()
		return testenv.ExitCode(err)
	}
	if code := run(); code != 0 {
		t.Fatalf("kept approval of the tool not reused: exit %d", code)
	}
	copyFile(t, "/usr/bin/false", tool)
	if code := run(); code != 1 {
		t.Fatalf("kept approval ran a replaced binary: exit %d", code)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	tmp := to + ".tmp"
	if err := os.WriteFile(tmp, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, to); err != nil {
		t.Fatal(err)
	}
}

// sudoersTool lets the test user run tool with no password for the test's
// duration (a drop-in checked with visudo, removed afterwards).
func sudoersTool(t *testing.T, tool string) {
	t.Helper()
	path := "/etc/sudoers.d/clawwarden-test-tool"
	rule := testenv.UserName + " ALL=(root) NOPASSWD: " + tool + "\n"
	tmp := filepath.Join(t.TempDir(), "rule")
	os.WriteFile(tmp, []byte(rule), 0o440)
	if out, err := exec.Command("visudo", "-cqf", tmp).CombinedOutput(); err != nil {
		t.Fatalf("visudo: %v: %s", err, out)
	}
	if err := os.WriteFile(path, []byte(rule), 0o440); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(path) })
}

// Invisible and direction-changing characters are shown escaped wherever a
// person reads agent text.
func TestInvisibleCharactersShownEscaped(t *testing.T) {
	f := newFixture(t)
	arg := "invoice\u202efdp.sh"
	c := f.console([]string{"OPENCLAW_PRIV_REASON=fix\u200bit"}, "exec", "--approval-timeout", "2s", "--", "/usr/bin/id", arg)
	c.Expect(`\$'invoice\\u202efdp\.sh'`)
	c.Expect(`U\+202E`)
	c.Expect(`\$'fix\\u200bit'`)
	c.Expect(`\[y/N\] `)
	c.Send("n\n")
	c.Wait()
	g := f.cmd(nil, "exec", "--approval-timeout", "60s", "--", "/usr/bin/id", arg)
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	defer g.Process.Kill()
	f.waitPending(t)
	code, out := f.run(nil, "", "pending")
	if code != 0 || !strings.Contains(out, `$'invoice\u202efdp.sh'`) || strings.Contains(out, "\u202e") {
		t.Errorf("pending: exit %d:\n%s", code, out)
	}
	code, out = f.run(nil, "", "audit", "tail", "-n", "50")
	if code != 0 || !strings.Contains(out, `$'invoice\u202efdp.sh'`) || strings.Contains(out, "\u202e") {
		t.Errorf("audit tail: exit %d:\n%s", code, out)
	}
}

// Files the agent owns fail closed: a kept approval with no last activity
// or one in the future is void; OPENCLAW_REAL_SUDO must be sudo.
func TestStateAndSudoFromTheAgentFailClosed(t *testing.T) {
	f := newFixture(t)
	sum := fileSHA(t, "/usr/bin/id")
	for name, last := range map[string]string{"missing": "", "future": `"last_activity": "2999-01-01T00:00:00Z",`} {
		t.Run(name, func(t *testing.T) {
			state := `{"version": 2, "elevated": true, ` + last + ` "approvals": [{"argv": ["/usr/bin/id"], "cwd": "` + f.home +
				`", "binary_sha256": "` + sum + `", "no_password": true, "approved_at": "2026-01-01T00:00:00Z", "via": "terminal"}]}`
			f.writeSecurityFile("root-session-state.json", state)
			if code, out := f.run(nil, "", "exec", "--approval-timeout", "1s", "--", "/usr/bin/id"); code != 1 || strings.Contains(out, "uid=0") {
				t.Errorf("forged approval with %s last_activity ran: exit %d:\n%s", name, code, out)
			}
		})
	}
	for _, p := range []string{"/usr/bin/mount", "/usr/bin/passwd", "/usr/bin/su"} {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if code, out := f.run([]string{"OPENCLAW_REAL_SUDO=" + p}, "", "exec", "--", "/usr/bin/id"); code != 9 {
			t.Errorf("OPENCLAW_REAL_SUDO=%s: exit %d, want 9:\n%s", p, code, out)
		}
	}
}

func (f *fixture) writeSecurityFile(name, content string) {
	f.t.Helper()
	dir := filepath.Join(f.home, ".openclaw", "security")
	for _, d := range []string{filepath.Join(f.home, ".openclaw"), dir} {
		os.Mkdir(d, 0o700)
		os.Chown(d, int(f.u.UID), int(f.u.GID))
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		f.t.Fatal(err)
	}
	os.Chown(path, int(f.u.UID), int(f.u.GID))
}

// Shim refusals are audited, with hints that fit the refusal; approve and
// deny of an unknown id exit 13; pending says whose queue it read; an
// unanswered terminal prompt times out.
func TestRefusalsAuditedAndExplained(t *testing.T) {
	f, _ := shimFixture(t)
	code, out := f.sudo(nil, "", "/usr/bin/id")
	if code != 1 || !strings.Contains(out, "OPENCLAW_ALLOW_NONINTERACTIVE_SUDO=1") || strings.Contains(out, "allow_exact") || strings.Contains(out, "without these options") {
		t.Errorf("no-terminal refusal: exit %d:\n%s", code, out)
	}
	code, out = f.sudo(nil, "", "-s")
	if code != 3 || !strings.Contains(out, "allow_exact") {
		t.Errorf("sudo -s: exit %d:\n%s", code, out)
	}
	if n := f.events("refused", ""); n != 2 {
		t.Errorf("audit has %d refusal records for 2 shim refusals", n)
	}
	for _, cmd := range []string{"approve", "deny"} {
		if code, out := f.run(nil, "", cmd, "abcdefghijkl"); code != 13 || !strings.Contains(out, "no such pending request") {
			t.Errorf("%s of an unknown id: exit %d, want 13:\n%s", cmd, code, out)
		}
	}
	if code, out := f.run(nil, "", "pending"); code != 0 || !strings.Contains(out, "pending queue of "+f.u.Name) {
		t.Errorf("pending: exit %d:\n%s", code, out)
	}
	c := f.console(nil, "exec", "--approval-timeout", "1s", "--", "/usr/bin/id")
	c.Expect(`\[y/N\] `)
	if code := c.Wait(); code != 1 || !strings.Contains(c.Output(), "nobody answered") {
		t.Errorf("unanswered prompt: exit %d:\n%s", code, c.Output())
	}
}

// The request file is the agent's to write: `approve` checks what it runs
// against what can be shown and what the policy names, not against the
// file's word (found by attacking the guard as the agent).
func TestForgedRequestsRefusedByApprove(t *testing.T) {
	f := newPasswordFixture(t)
	pw := testenv.SetPassword(t, f.u)
	link := filepath.Join(sharedDir(t), "proj-link")
	os.Symlink("/etc", link)
	tests := []struct {
		name string
		edit func(m map[string]any, marker string)
		want string
	}{
		{"sudo options that are a command", func(m map[string]any, marker string) {
			m["sudo_args"] = []string{"--prompt=" + strings.Repeat(" ", 100), "/usr/bin/touch", marker}
		}, "sudo options"},
		{"named line for another command", func(m map[string]any, marker string) {
			m["named"] = []string{"sudo", "-N", "/usr/bin/id"}
			m["sudo_args"] = []string{"--no-update"}
		}, "do not follow from the command line"},
		{"working directory through a symlink", func(m map[string]any, marker string) {
			m["cwd"] = link
		}, "without symlinks"},
		{"argument too long to show", func(m map[string]any, marker string) {
			m["argv"] = []string{"/usr/bin/touch", marker, strings.Repeat("x", 3000)}
		}, "too long to show"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := rootMarker(t)
			os.RemoveAll(filepath.Join(f.home, ".openclaw", "security", "pending"))
			g := f.cmd(nil, "exec", "--approval-timeout", "60s", "--", "/usr/bin/touch", filepath.Join(f.home, "harmless"))
			if err := g.Start(); err != nil {
				t.Fatal(err)
			}
			defer g.Wait()
			defer g.Process.Kill()
			id := f.waitPending(t)
			path := filepath.Join(f.home, ".openclaw", "security", "pending", id+".request.json")
			data, _ := os.ReadFile(path)
			var req map[string]any
			if err := json.Unmarshal(data, &req); err != nil {
				t.Fatal(err)
			}
			tt.edit(req, m)
			data, _ = json.Marshal(req)
			os.WriteFile(path, data, 0o600)
			c := f.console(nil, "approve", id)
			// If approve wrongly asks, the person answers it and types the
			// password, trusting what was shown.
			answered := false
			testenv.Eventually(t, "approve to refuse or ask", func() bool {
				if !answered && strings.Contains(c.Output(), "[y/N]") {
					c.Send("y\n")
					answered = true
				}
				if answered && strings.Contains(c.Output(), "password for") && !strings.Contains(c.Output(), "PWSENT") {
					c.Send(pw + "\n")
					return true
				}
				return c.Exited()
			})
			code := c.Wait()
			if code == 0 || !strings.Contains(c.Output(), tt.want) {
				t.Errorf("approve: exit %d, want a refusal saying %q:\n%s", code, tt.want, c.Output())
			}
			if _, err := os.Stat(m); err == nil {
				t.Fatalf("the forged request ran as root:\n%s", c.Output())
			}
		})
	}
}

// `approve` (and the guard) make themselves non-dumpable: another process
// of the account cannot open their memory to rewrite what runs after the
// person approved.
func TestApproverMemoryClosedToTheAgent(t *testing.T) {
	f := newPasswordFixture(t)
	g := f.cmd(nil, "exec", "--approval-timeout", "60s", "--", "/usr/bin/id")
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	defer g.Wait()
	defer g.Process.Kill()
	id := f.waitPending(t)
	c := f.console(nil, "approve", id)
	c.Expect(`\[y/N\] `)
	approver := c.Cmd.Process.Pid
	for name, pid := range map[string]int{"approve": approver, "waiting guard": g.Process.Pid} {
		cmd := testenv.Command(f.u, f.env, f.home, "/bin/sh", "-c", `exec 3<>"/proc/$P/mem" && echo OPENED`)
		cmd.Env = append(cmd.Env, fmt.Sprintf("P=%d", pid))
		out, _ := cmd.CombinedOutput()
		if strings.Contains(string(out), "OPENED") {
			t.Errorf("the account opened the memory of %s (pid %d)", name, pid)
		}
	}
	// Control: an ordinary process of the account is open to it.
	ctl := testenv.Command(f.u, f.env, f.home, "/bin/sh", "-c", `exec 3<>/proc/self/mem && echo OPENED`)
	if out, _ := ctl.CombinedOutput(); !strings.Contains(string(out), "OPENED") {
		t.Errorf("control: the account cannot open its own process's memory: %s", out)
	}
	c.Send("n\n")
	c.Wait()
}
