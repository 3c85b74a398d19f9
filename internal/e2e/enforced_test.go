package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawwarden/clawwarden/internal/testenv"
)

// Enforced mode end to end (issue 10): real sudo, real accounts, real
// ssh-keygen. The tests install enforced mode system-wide for the account
// clawwarden-agent, with clawwarden-alice and clawwarden-bob as approvers,
// and remove it afterwards; they do not run in parallel with each other.

// world is one enforced-mode installation and the accounts around it.
type world struct {
	t                 *testing.T
	bin               string
	agent, alice, bob testenv.User
	keys              map[string]string // approver account → private key file
	agentHome         string
}

func newWorld(t *testing.T, install bool) *world {
	t.Helper()
	w := &world{t: t, bin: testenv.Binary(t, "clawwarden_testclock"), keys: map[string]string{}}
	w.agent = testenv.RequireAccount(t, testenv.AgentName)
	w.alice = testenv.RequireAccount(t, testenv.AliceName)
	w.bob = testenv.RequireAccount(t, testenv.BobName)
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("ssh-keygen is not installed (apt-get install openssh-client)")
	}
	if _, err := os.Stat("/etc/clawwarden"); err == nil {
		t.Fatal("enforced mode is already installed on this host; the tests install their own")
	}
	// The agent's real home: enforce install puts its shims there.
	u, err := user.Lookup(w.agent.Name)
	if err != nil {
		t.Fatal(err)
	}
	w.agentHome = u.HomeDir
	for _, u := range []testenv.User{w.alice, w.bob} {
		home := testenv.Home(t, u)
		key := filepath.Join(home, "approval_ed25519")
		w.asRoot("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", u.Name, "-f", key)
		os.Chown(key, int(u.UID), int(u.GID))
		w.keys[u.Name] = key
	}
	t.Cleanup(func() {
		if _, err := os.Stat("/etc/clawwarden/settings.json"); err == nil {
			out, err := exec.Command(w.bin, "enforce", "uninstall").CombinedOutput()
			if err != nil {
				t.Errorf("enforce uninstall: %v\n%s", err, out)
			}
		}
		os.RemoveAll("/var/log/clawwarden")
		os.Remove("/etc/clawwarden/test-clock-offset")
	})
	if install {
		w.install("")
	}
	return w
}

func (w *world) asRoot(name string, args ...string) string {
	w.t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		w.t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// install runs enforce install (as root) for the agent with both approvers.
func (w *world) install(extra string) (int, string) {
	w.t.Helper()
	args := []string{"enforce", "install", "--agent-user", w.agent.Name,
		"--approver", w.alice.Name + "=" + w.keys[w.alice.Name] + ".pub", "--approver", w.bob.Name + "=" + w.keys[w.bob.Name] + ".pub"}
	if extra != "" {
		args = append(args, extra)
	}
	cmd := exec.Command(w.bin, args...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8"}
	out, err := cmd.CombinedOutput()
	code := testenv.ExitCode(err)
	if extra == "" && code != 0 {
		w.t.Fatalf("enforce install: exit %d\n%s", code, out)
	}
	return code, string(out)
}

// agentCmd runs argv as the agent (no terminal, in its home, the shim first
// on PATH).
func (w *world) agentCmd(env []string, argv ...string) *exec.Cmd {
	e := append([]string{"HOME=" + w.agentHome, "PATH=" + w.agentHome + "/.openclaw/bin:/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "USER=" + w.agent.Name}, env...)
	cmd := testenv.Command(w.agent, e, w.agentHome, argv[0], argv[1:]...)
	if argv[0] == "sudo" {
		// The agent's own PATH lookup: its shim comes first.
		cmd.Path = filepath.Join(w.agentHome, ".openclaw", "bin", "sudo")
	}
	return cmd
}

// background starts the agent's command and returns its output buffer.
func (w *world) background(cmd *exec.Cmd) *bytes.Buffer {
	w.t.Helper()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return &out
}

// pendingIDs lists the root-side queue (read as root).
func (w *world) pendingIDs() []string {
	matches, _ := filepath.Glob("/var/lib/clawwarden/pending/*.request")
	var ids []string
	for _, m := range matches {
		ids = append(ids, strings.TrimSuffix(filepath.Base(m), ".request"))
	}
	return ids
}

// waitPending waits for exactly one new request and returns its id.
func (w *world) waitPending(before []string) string {
	w.t.Helper()
	var id string
	testenv.Eventually(w.t, "a pending request", func() bool {
		for _, p := range w.pendingIDs() {
			if !contains(before, p) {
				id = p
				return true
			}
		}
		return false
	})
	return id
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// approve runs `clawwarden approve ID ARGS…` as approver u on a terminal
// and answers y.
func (w *world) approve(u testenv.User, env []string, id string, args ...string) (int, string) {
	w.t.Helper()
	home := filepath.Dir(w.keys[u.Name])
	e := append([]string{"HOME=" + home, "PATH=/usr/bin:/bin", "LANG=C.UTF-8", "TERM=xterm", "USER=" + u.Name}, env...)
	cmd := testenv.Command(u, e, home, w.bin, append([]string{"approve", id}, args...)...)
	cmd.SysProcAttr.Credential.Groups = groupsOf(u.Name)
	c := testenv.Start(w.t, cmd)
	c.Expect(`\[y/N\] `)
	c.Send("y\n")
	return c.Wait(), c.Output()
}

// groupsOf returns the account's supplementary groups (the approvers'
// group, which install added).
func groupsOf(name string) []uint32 {
	out, _ := exec.Command("id", "-G", name).Output()
	var gs []uint32
	for _, f := range strings.Fields(string(out)) {
		var g uint32
		for _, c := range f {
			g = g*10 + uint32(c-'0')
		}
		gs = append(gs, g)
	}
	return gs
}

// auditTail returns the root-side audit records.
func auditRecords(t *testing.T) []map[string]any {
	data, err := os.ReadFile("/var/log/clawwarden/audit.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

func TestEnforcedApproveWithKeyFile(t *testing.T) {
	w := newWorld(t, true)
	out, err := exec.Command(w.bin, "enforce", "status").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "enforced: yes") {
		t.Fatalf("enforce status: %v\n%s", err, out)
	}
	before := w.pendingIDs()
	agentOut := w.background(w.agentCmd(nil, "sudo", "/usr/bin/id"))
	defer func() {
		if t.Failed() {
			t.Logf("agent output:\n%s", agentOut.String())
		}
	}()
	id := w.waitPending(before)
	code, text := w.approve(w.alice, nil, id, "--key", w.keys[w.alice.Name])
	if code != 0 || !strings.Contains(text, "binary:   /usr/bin/id") || !strings.Contains(text, "coreutils") {
		t.Fatalf("approve: exit %d\n%s", code, text)
	}
	testenv.Eventually(t, "the agent to see uid=0", func() bool { return strings.Contains(agentOut.String(), "uid=0(root)") })
	var approved map[string]any
	for _, r := range auditRecords(t) {
		if r["event"] == "approval" && r["decision"] == "approved" && r["request_id"] == id {
			approved = r
		}
	}
	if approved == nil || approved["approver"] != w.alice.Name || !strings.HasPrefix(approved["key_fp"].(string), "SHA256:") {
		t.Errorf("audit approval record: %v", approved)
	}
	// /usr/bin/sudo by path: sudo itself refuses (no such right).
	direct := w.agentCmd(nil, "/usr/bin/sudo", "-n", "/usr/bin/id")
	if o, err := direct.CombinedOutput(); err == nil || strings.Contains(string(o), "uid=0") {
		t.Errorf("/usr/bin/sudo by path ran: %s", o)
	}
	_ = time.Second
}
