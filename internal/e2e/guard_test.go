package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawwarden/clawwarden/internal/approval"
	"github.com/clawwarden/clawwarden/internal/testenv"
)

// fixture is one test user's world: the binary and a fresh HOME.
type fixture struct {
	t    *testing.T
	u    testenv.User
	bin  string
	home string
	env  []string
}

func newFixture(t *testing.T, extraEnv ...string) *fixture {
	t.Helper()
	return newFixtureFor(t, testenv.RequireUser(t), extraEnv...)
}

// newPasswordFixture is a fixture for the test user whose sudo rules all
// need a password.
func newPasswordFixture(t *testing.T, extraEnv ...string) *fixture {
	t.Helper()
	return newFixtureFor(t, testenv.RequirePasswordUser(t), extraEnv...)
}

func newFixtureFor(t *testing.T, u testenv.User, extraEnv ...string) *fixture {
	t.Helper()
	f := &fixture{t: t, u: u, bin: testenv.Binary(t, "clawwarden_testclock")}
	f.home = testenv.Home(t, u)
	f.env = testenv.Env(f.home, append([]string{"USER=" + u.Name}, extraEnv...)...)
	return f
}

// cmd runs clawwarden as the test user with no controlling terminal.
func (f *fixture) cmd(extraEnv []string, args ...string) *exec.Cmd {
	return testenv.Command(f.u, append(append([]string{}, f.env...), extraEnv...), f.home, f.bin, args...)
}

// run runs clawwarden with no controlling terminal and returns status and
// combined output.
func (f *fixture) run(extraEnv []string, stdin string, args ...string) (int, string) {
	f.t.Helper()
	c := f.cmd(extraEnv, args...)
	c.Stdin = strings.NewReader(stdin)
	out, err := c.CombinedOutput()
	return testenv.ExitCode(err), string(out)
}

// console runs clawwarden as the test user on a new pseudo-terminal.
func (f *fixture) console(extraEnv []string, args ...string) *testenv.Console {
	return testenv.Start(f.t, f.cmd(extraEnv, args...))
}

// shell runs a /bin/sh script as the test user on a new pseudo-terminal.
func (f *fixture) shell(script string) *testenv.Console {
	c := testenv.Command(f.u, append(append([]string{}, f.env...), "CW="+f.bin), f.home, "/bin/sh", "-c", script)
	return testenv.Start(f.t, c)
}

func (f *fixture) securityFile(name string) string {
	return filepath.Join(f.home, ".openclaw", "security", name)
}

// writePolicy writes a command policy owned by the test user.
func (f *fixture) writePolicy(p string) {
	f.t.Helper()
	dir := filepath.Join(f.home, ".openclaw", "security")
	for _, d := range []string{filepath.Join(f.home, ".openclaw"), dir} {
		os.Mkdir(d, 0o700)
		os.Chown(d, int(f.u.UID), int(f.u.GID))
	}
	path := filepath.Join(dir, "command-policy.json")
	if err := os.WriteFile(path, []byte(p), 0o600); err != nil {
		f.t.Fatal(err)
	}
	os.Chown(path, int(f.u.UID), int(f.u.GID))
}

type auditLine struct {
	Event     string   `json:"event"`
	Decision  string   `json:"decision"`
	Argv      []string `json:"argv"`
	RequestID string   `json:"request_id"`
	ExitCode  *int     `json:"exit_code"`
	Rule      string   `json:"rule"`
	Detail    string   `json:"detail"`
}

func (f *fixture) auditLines() []auditLine {
	f.t.Helper()
	data, err := os.ReadFile(f.securityFile("privileged-audit.jsonl"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		f.t.Fatalf("audit log: %v", err)
	}
	var out []auditLine
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var a auditLine
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			f.t.Fatalf("audit line %q: %v", l, err)
		}
		out = append(out, a)
	}
	return out
}

func (f *fixture) events(event, decision string) int {
	n := 0
	for _, a := range f.auditLines() {
		if a.Event == event && (decision == "" || a.Decision == decision) {
			n++
		}
	}
	return n
}

func (f *fixture) verifyAudit() string {
	f.t.Helper()
	code, out := f.run(nil, "", "audit", "verify")
	if code != 0 {
		f.t.Fatalf("audit verify: exit %d: %s", code, out)
	}
	return out
}

// approveOnTerminal runs `exec ARGS` on a pty and answers the prompt; when
// the agent asks to keep the approval (--keep-session), the person keeps it.
func (f *fixture) approveOnTerminal(answer string, extraEnv []string, args ...string) (*testenv.Console, int) {
	f.t.Helper()
	c := f.console(extraEnv, args...)
	c.Expect(`Run this exact command as root\? \[y/N\] `)
	c.Send(answer + "\n")
	if answer == "y" && slices.Contains(args, "--keep-session") {
		c.Expect(`Also allow this exact command again`)
		c.Send("y\n")
	}
	return c, c.Wait()
}

func TestSudoTimestampResetAfterwards(t *testing.T) {
	f := newFixture(t)
	pw := testenv.SetPassword(t, f.u)
	// Control: plain sudo leaves a cached credential that a second sudo -n uses.
	c := f.shell(`sudo -p 'PASSWORD:' /usr/bin/whoami; sudo -n /usr/bin/whoami; echo "control-rc=$?"; sudo -k`)
	c.Expect(`PASSWORD:`)
	c.Send(pw + "\n")
	c.Expect(`control-rc=0`)
	c.Wait()

	// Through the guard: approve, type the sudo password, then sudo -n must
	// find no cached credential.
	c = f.shell(`"$CW" exec -- /usr/bin/whoami; echo "guard-rc=$?"; sudo -n /usr/bin/whoami; echo "after-rc=$?"`)
	c.Expect(`\[y/N\] `)
	c.Send("y\n")
	c.Expect(`password for ` + testenv.UserName)
	c.Send(pw + "\n")
	c.Expect(`root\r*\n`)
	c.Expect(`guard-rc=0`)
	c.Expect(`after-rc=1`)
	c.Wait()
	if !strings.Contains(c.Output(), "a password is required") {
		t.Errorf("sudo -n after the guard did not ask for a password:\n%s", c.Output())
	}
}

func TestOutOfBandApproval(t *testing.T) {
	f := newFixture(t)
	guardCmd := f.cmd(nil, "exec", "--reason", "rotate logs", "--approval-timeout", "60s", "--", "/usr/bin/id", "-u")
	var out strings.Builder
	guardCmd.Stdout, guardCmd.Stderr = &out, &out
	if err := guardCmd.Start(); err != nil {
		t.Fatal(err)
	}
	id := f.waitPending(t)

	// A second process, on the person's own terminal, approves it.
	c := f.console(nil, "approve", id)
	c.Expect(`reason:   'rotate logs'`)
	c.Expect(`\[y/N\] `)
	c.Send("y\n")
	if code := c.Wait(); code != 0 {
		t.Fatalf("approve: exit %d:\n%s", code, c.Output())
	}
	err := guardCmd.Wait()
	if code := testenv.ExitCode(err); code != 0 || !strings.Contains(out.String(), "0\n") {
		t.Fatalf("guard: exit %d:\n%s", code, out.String())
	}
	// approve without a terminal is impossible.
	code, o := f.run(nil, "y\n", "approve", id)
	if code == 0 {
		t.Errorf("approve with piped input succeeded:\n%s", o)
	}
}

// waitPending polls `clawwarden pending --json` until one request shows.
func (f *fixture) waitPending(t *testing.T) string {
	t.Helper()
	for range 200 {
		if reqs := f.pendingRequests(t); len(reqs) == 1 {
			return reqs[0].ID
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no pending request appeared")
	return ""
}

func TestOutOfBandWithPassphrase(t *testing.T) {
	f := newFixture(t)
	c := f.console(nil, "approval", "set-passphrase")
	c.Expect(`New approval passphrase`)
	c.Send("correct horse battery\n")
	c.Expect(`Repeat it: `)
	c.Send("correct horse battery\n")
	if code := c.Wait(); code != 0 {
		t.Fatalf("set-passphrase: exit %d:\n%s", code, c.Output())
	}
	data, _ := os.ReadFile(f.securityFile("approval-passphrase.json"))
	if strings.Contains(string(data), "correct horse") {
		t.Fatal("passphrase stored in clear")
	}
	// Changing it: the current one first; a mismatch or a short one
	// changes nothing and says why.
	for _, tt := range []struct {
		first, second, want string
		code                int
	}{
		{"another passphrase", "another passphrasf", "the two passphrases differ", 4},
		{"short", "short", "at least 8 characters", 64},
	} {
		c := f.console(nil, "approval", "set-passphrase")
		c.Expect(`Current approval passphrase: `)
		c.Send("correct horse battery\n")
		c.Expect(`New approval passphrase`)
		c.Send(tt.first + "\n")
		c.Expect(`Repeat it: `)
		c.Send(tt.second + "\n")
		if code := c.Wait(); code != tt.code || !strings.Contains(c.Output(), tt.want) {
			t.Fatalf("set-passphrase %q/%q: exit %d, want %d and %q:\n%s", tt.first, tt.second, code, tt.code, tt.want, c.Output())
		}
		if now, _ := os.ReadFile(f.securityFile("approval-passphrase.json")); string(now) != string(data) {
			t.Fatal("a refused change rewrote the passphrase record")
		}
	}

	start := func() (*exec.Cmd, *strings.Builder) {
		g := f.cmd(nil, "exec", "--approval-timeout", "60s", "--", "/usr/bin/id", "-u")
		var out strings.Builder
		g.Stdout, g.Stderr = &out, &out
		if err := g.Start(); err != nil {
			t.Fatal(err)
		}
		return g, &out
	}

	t.Run("wrong passphrase then right one", func(t *testing.T) {
		g, out := start()
		id := f.waitPending(t)
		c := f.console(nil, "approve", id)
		c.Expect(`\[y/N\] `)
		c.Send("y\n")
		c.Expect(`Approval passphrase: `)
		c.Send("wrong passphrase\n")
		if code := c.Wait(); code != 4 {
			t.Fatalf("approve with a wrong passphrase: exit %d, want 4:\n%s", code, c.Output())
		}
		c = f.console(nil, "approve", id)
		c.Expect(`\[y/N\] `)
		c.Send("y\n")
		c.Expect(`Approval passphrase: `)
		c.Send("correct horse battery\n")
		if code := c.Wait(); code != 0 {
			t.Fatalf("approve: exit %d:\n%s", code, c.Output())
		}
		if code := testenv.ExitCode(g.Wait()); code != 0 {
			t.Fatalf("guard: exit %d:\n%s", code, out)
		}
	})

	t.Run("forged unsigned decision is rejected", func(t *testing.T) {
		g, out := start()
		id := f.waitPending(t)
		// The agent can read its own pending request and name it by
		// digest; what it cannot make is the passphrase's signature.
		data, err := os.ReadFile(filepath.Join(f.home, ".openclaw", "security", "pending", id+".request.json"))
		if err != nil {
			t.Fatal(err)
		}
		var r approval.Request
		if err := json.Unmarshal(data, &r); err != nil {
			t.Fatal(err)
		}
		forged := fmt.Sprintf(`{"id":%q,"request_sha256":%q,"approved":true,"decided_at":"2026-01-01T00:00:00Z","uid":%d,"pid":%d}`,
			id, r.Digest(), f.u.UID, os.Getpid())
		path := filepath.Join(f.home, ".openclaw", "security", "pending", id+".decision.json")
		if err := os.WriteFile(path, []byte(forged), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chown(path, int(f.u.UID), int(f.u.GID))
		if code := testenv.ExitCode(g.Wait()); code != 4 {
			t.Fatalf("guard accepted a forged decision: exit %d:\n%s", code, out)
		}
	})

	t.Run("deny", func(t *testing.T) {
		g, out := start()
		id := f.waitPending(t)
		if code, o := f.run(nil, "", "deny", id); code != 0 {
			t.Fatalf("deny: exit %d: %s", code, o)
		}
		if code := testenv.ExitCode(g.Wait()); code != 1 {
			t.Fatalf("guard after deny: exit %d, want 1:\n%s", code, out)
		}
	})

	t.Run("terminal approval asks for the passphrase", func(t *testing.T) {
		c := f.console(nil, "exec", "--", "/usr/bin/id", "-u")
		c.Expect(`\[y/N\] `)
		c.Send("y\n")
		c.Expect(`Approval passphrase: `)
		c.Send("nope nope nope\n")
		if code := c.Wait(); code != 4 {
			t.Fatalf("exit %d, want 4:\n%s", code, c.Output())
		}
	})
}

func TestApprovalTokenAndUntrustedSource(t *testing.T) {
	f := newFixture(t)
	tok := []string{"OPENCLAW_APPROVAL_TOKEN=s3cret-token"}
	c := f.console(tok, "exec", "--", "/usr/bin/id", "-u")
	c.Expect(`\[y/N\] `)
	c.Send("y\n")
	c.Expect(`Approval token: `)
	c.Send("not-the-token\n")
	if code := c.Wait(); code != 4 {
		t.Fatalf("bad token: exit %d, want 4:\n%s", code, c.Output())
	}
	c = f.console(tok, "exec", "--", "/usr/bin/id", "-u")
	c.Expect(`\[y/N\] `)
	c.Send("y\n")
	c.Expect(`Approval token: `)
	c.Send("s3cret-token\n")
	if code := c.Wait(); code != 0 {
		t.Fatalf("good token: exit %d:\n%s", code, c.Output())
	}

	untrusted := []string{"OPENCLAW_UNTRUSTED_SOURCE=1"}
	c = f.console(untrusted, "exec", "--", "/usr/bin/id", "-u")
	c.Expect(`UNTRUSTED`)
	c.Expect(`\[y/N\] `)
	c.Send("y\n")
	c.Expect(`type CONFIRM`)
	c.Send("y\n")
	if code := c.Wait(); code != 5 {
		t.Fatalf("untrusted without CONFIRM: exit %d, want 5:\n%s", code, c.Output())
	}
	c = f.console(untrusted, "exec", "--", "/usr/bin/id", "-u")
	c.Expect(`\[y/N\] `)
	c.Send("y\n")
	c.Expect(`type CONFIRM`)
	c.Send("CONFIRM\n")
	if code := c.Wait(); code != 0 {
		t.Fatalf("untrusted with CONFIRM: exit %d:\n%s", code, c.Output())
	}
}

func TestRequiredSessionIDAndPolicyFiles(t *testing.T) {
	f := newFixture(t)
	code, out := f.run([]string{"OPENCLAW_REQUIRE_SESSION_ID=1"}, "", "exec", "--", "/usr/bin/id")
	if code != 6 {
		t.Errorf("missing session id: exit %d, want 6:\n%s", code, out)
	}
	code, out = f.run([]string{"OPENCLAW_REQUIRE_POLICY_FILES=1"}, "", "exec", "--", "/usr/bin/id")
	if code != 7 {
		t.Errorf("missing policy files: exit %d, want 7:\n%s", code, out)
	}
	code, out = f.run(nil, "", "exec")
	if code != 2 {
		t.Errorf("no command: exit %d, want 2:\n%s", code, out)
	}
	code, out = f.run([]string{"OPENCLAW_REAL_SUDO=/usr/bin/id"}, "", "exec", "--", "/usr/bin/id")
	if code != 9 {
		t.Errorf("bad sudo binary: exit %d, want 9:\n%s", code, out)
	}
}

func TestBadStateFailsClosed(t *testing.T) {
	f := newFixture(t)
	f.writePolicy(`{"allow": ["(?=x)"]}`)
	code, out := f.run(nil, "", "exec", "--", "/usr/bin/id")
	if code != 12 || !strings.Contains(out, "RE2") {
		t.Errorf("invalid regex: exit %d, want 12:\n%s", code, out)
	}
	f.writePolicy(`{"allow": [`)
	if code, out = f.run(nil, "", "exec", "--", "/usr/bin/id"); code != 12 {
		t.Errorf("truncated policy: exit %d, want 12:\n%s", code, out)
	}
	f.writePolicy(`{}`)

	state := f.securityFile("root-session-state.json")
	for name, setup := range map[string]func(){
		"truncated": func() { os.WriteFile(state, []byte(`{"version":1,"approvals":[{"argv":`), 0o600) },
		"symlink":   func() { os.Symlink("/etc/passwd", state) },
		"foreign":   func() { os.WriteFile(state, []byte(`{"version":1,"approvals":[]}`), 0o600); os.Chown(state, 0, 0) },
	} {
		t.Run(name, func(t *testing.T) {
			os.Remove(state)
			setup()
			if name != "foreign" {
				os.Lchown(state, int(f.u.UID), int(f.u.GID))
			}
			before, _ := os.ReadFile(state)
			code, out := f.run(nil, "", "exec", "--approval-timeout", "1s", "--", "/usr/bin/id")
			if code != 12 {
				t.Errorf("exit %d, want 12:\n%s", code, out)
			}
			after, _ := os.ReadFile(state)
			if string(before) != string(after) {
				t.Errorf("state changed from %q to %q", before, after)
			}
		})
	}
	os.Remove(state)
}

func TestConcurrentExecKeepsAuditAndState(t *testing.T) {
	f := newFixture(t)
	if c, code := f.approveOnTerminal("y", nil, "exec", "--keep-session", "--", "/usr/bin/true"); code != 0 {
		t.Fatalf("approval: exit %d:\n%s", code, c.Output())
	}
	before := len(f.auditLines())
	const n = 50
	var wg sync.WaitGroup
	codes := make([]int, n)
	outs := make([]string, n)
	for i := range n {
		wg.Go(func() {
			codes[i], outs[i] = f.run(nil, "", "exec", "--keep-session", "--approval-timeout", "5s", "--", "/usr/bin/true")
		})
	}
	wg.Wait()
	for i := range n {
		if codes[i] != 0 {
			t.Errorf("call %d: exit %d:\n%s", i, codes[i], outs[i])
		}
	}
	lines := f.auditLines()
	perReq := map[string][]string{}
	for _, l := range lines[before:] {
		perReq[l.RequestID] = append(perReq[l.RequestID], l.Event)
	}
	if len(perReq) != n {
		t.Fatalf("audit has %d request ids for %d calls", len(perReq), n)
	}
	for id, evs := range perReq {
		want := "request policy approval result session"
		if got := strings.Join(evs, " "); got != want {
			t.Errorf("request %s: events %q, want %q", id, got, want)
		}
	}
	if out := f.verifyAudit(); !strings.Contains(out, fmt.Sprintf("ok, %d records", len(lines))) {
		t.Errorf("audit verify: %s (want %d records)", out, len(lines))
	}
	code, out := f.run(nil, "", "session", "status", "--json")
	if code != 0 || !strings.Contains(out, `"/usr/bin/true"`) {
		t.Errorf("state after concurrency: exit %d:\n%s", code, out)
	}
}
