package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/clawwarden/clawwarden/internal/signed"
	"github.com/clawwarden/clawwarden/internal/testenv"
)

// Enforced mode end to end (issue 10): real sudo, real accounts, real
// ssh-keygen. The tests install enforced mode system-wide for the account
// clawwarden-agent, with clawwarden-alice and clawwarden-bob as approvers,
// and remove it afterwards; they do not run in parallel with each other.

// world is one enforced-mode installation and the accounts around it.
type world struct {
	t                 testing.TB
	bin               string
	agent, alice, bob testenv.User
	keys              map[string]string // approver account → private key file
	agentHome         string
}

func newWorld(t testing.TB, install bool) *world {
	t.Helper()
	w := &world{t: t, bin: testenv.Binary(t, "clawwarden_testclock"), keys: map[string]string{}}
	w.agent = testenv.RequireAccount(t, testenv.AgentName)
	w.alice = testenv.RequireAccount(t, testenv.AliceName)
	w.bob = testenv.RequireAccount(t, testenv.BobName)
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		testenv.Skip(t, "ssh-keygen is not installed (apt-get install openssh-client)")
	}
	// Held while enforced mode is installed here (see testenv.LockHost);
	// released after the uninstall below.
	unlock, err := testenv.LockHost(testenv.EnforcedLock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unlock)
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
		killHelpers()
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
		w.setting("approval_timeout", "20s")
	}
	return w
}

// killHelpers kills root helpers still waiting for a decision.
func killHelpers() {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if exe, err := os.Readlink("/proc/" + e.Name() + "/exe"); err == nil && strings.HasSuffix(exe, "/clawwarden-root") {
			var pid int
			fmt.Sscan(e.Name(), &pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// setting changes one field of /etc/clawwarden/settings.json (as root).
func (w *world) setting(key string, value any) {
	w.t.Helper()
	path := "/etc/clawwarden/settings.json"
	data, err := os.ReadFile(path)
	if err != nil {
		w.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		w.t.Fatal(err)
	}
	m[key] = value
	data, _ = json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		w.t.Fatal(err)
	}
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
	cmd.SysProcAttr.Credential.Groups = groupsOf(w.agent.Name)
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
	// A root helper still waiting holds the output pipe after sudo is
	// killed; the helpers themselves are killed by the world's cleanup.
	cmd.WaitDelay = time.Second
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
func auditRecords(t testing.TB) []map[string]any {
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

// runAgent runs argv as the agent and returns status and output.
func (w *world) runAgent(env []string, stdin string, argv ...string) (int, string) {
	w.t.Helper()
	cmd := w.agentCmd(env, argv...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return testenv.ExitCode(err), string(out)
}

// deny denies request id as approver u.
func (w *world) deny(u testenv.User, id string) {
	w.t.Helper()
	home := filepath.Dir(w.keys[u.Name])
	cmd := testenv.Command(u, []string{"HOME=" + home, "PATH=/usr/bin:/bin", "TERM=xterm"}, home, w.bin, "deny", id, "--key", w.keys[u.Name])
	cmd.SysProcAttr.Credential.Groups = groupsOf(u.Name)
	c := testenv.Start(w.t, cmd)
	c.Expect(`\[y/N\] `)
	c.Send("y\n")
	if code := c.Wait(); code != 0 {
		w.t.Fatalf("deny: exit %d\n%s", code, c.Output())
	}
}

func countAudit(t testing.TB, id, event, decision string) int {
	n := 0
	for _, r := range auditRecords(t) {
		if r["request_id"] == id && r["event"] == event && (decision == "" || r["decision"] == decision) {
			n++
		}
	}
	return n
}

// sudo's own rule is the boundary: any other use of sudo by the agent is
// refused by sudo or by the helper, with the helper's refusals audited.
func TestEnforcedSudoIsTheBoundary(t *testing.T) {
	w := newWorld(t, true)
	m := rootMarker(t)
	for _, tt := range []struct {
		name string
		argv []string
	}{
		{"another command by path", []string{"/usr/bin/sudo", "-n", "/usr/bin/touch", m}},
		{"another user", []string{"/usr/bin/sudo", "-n", "-u", "nobody", "/usr/local/libexec/clawwarden/clawwarden-root", "request", "--", "/usr/bin/touch", m}},
		{"another group", []string{"/usr/bin/sudo", "-n", "-g", w.agent.Name, "/usr/local/libexec/clawwarden/clawwarden-root", "request", "--", "/usr/bin/touch", m}},
		{"a shell", []string{"/usr/bin/sudo", "-n", "-s"}},
		{"keep the environment", []string{"/usr/bin/sudo", "-n", "-E", "/usr/local/libexec/clawwarden/clawwarden-root", "request", "--", "/usr/bin/touch", m}},
		{"sudoedit", []string{"/usr/bin/sudoedit", "-n", "/etc/hosts"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out := w.runAgent(nil, "", tt.argv...)
			if code == 0 {
				t.Errorf("exit 0:\n%s", out)
			}
		})
	}
	// Through the helper but not a request: refused by its grammar, audited.
	code, out := w.runAgent(nil, "", "/usr/bin/sudo", "-n", "/usr/local/libexec/clawwarden/clawwarden-root", "request", "run", "/usr/bin/touch", m)
	if code != 64 || !strings.Contains(out, "usage") {
		t.Errorf("not a request: exit %d\n%s", code, out)
	}
	// sudo -P keeps the agent's groups: the helper refuses.
	code, out = w.runAgent(nil, "", "/usr/bin/sudo", "-n", "-P", "/usr/local/libexec/clawwarden/clawwarden-root", "request", "--", "/usr/bin/touch", m)
	if code == 0 {
		t.Errorf("sudo -P: exit 0\n%s", out)
	}
	// sudo -b detaches the helper from the agent's sudo; sudoers cannot
	// forbid it, so the helper reads sudo's command line and refuses.
	code, out = w.runAgent(nil, "", "/usr/bin/sudo", "-n", "-b", "/usr/local/libexec/clawwarden/clawwarden-root", "request", "--", "/usr/bin/touch", m)
	if code != 0 {
		t.Errorf("sudo -b: exit %d (sudo itself returns at once)\n%s", code, out)
	}
	testenv.Eventually(t, "the helper's refusal of sudo -b in the audit log", func() bool {
		for _, r := range auditRecords(t) {
			if r["rule"] == "sudo -b" && r["event"] == "refused" {
				return true
			}
		}
		return false
	})
	if ids := w.pendingIDs(); len(ids) != 0 {
		t.Errorf("sudo -b filed requests %v", ids)
	}
	if _, err := os.Stat(m); err == nil {
		t.Fatal("a refused invocation ran as root")
	}
	refusals := 0
	for _, r := range auditRecords(t) {
		if r["event"] == "refused" {
			refusals++
		}
	}
	if refusals < 2 {
		t.Errorf("audit has %d refusals, want the grammar and -P refusals", refusals)
	}
}

// signWith signs msg with the private key file, as ssh-keygen -Y sign would.
func signWith(t testing.TB, keyFile string, msg []byte) []byte {
	t.Helper()
	pem, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := signed.Sign(msg, s)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// drop puts a decision and signature into the inbox as the agent would
// (any account may).
func (w *world) drop(id string, decision, sig []byte) {
	w.t.Helper()
	dir := "/var/lib/clawwarden/inbox"
	tag := strings.ToLower(rand.Text()[:8])
	for _, f := range []struct {
		name string
		data []byte
	}{{id + "." + tag + ".sig", sig}, {id + "." + tag + ".decision", decision}} {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			w.t.Fatal(err)
		}
		os.Chown(p, int(w.agent.UID), int(w.agent.GID))
	}
}

func installID(t testing.TB) string {
	data, _ := os.ReadFile("/etc/clawwarden/settings.json")
	var s struct {
		InstallID string `json:"install_id"`
	}
	json.Unmarshal(data, &s)
	return s.InstallID
}

// Forged and misdirected decisions never run anything; a valid deny
// refuses; a decision is good for its one request only.
func TestEnforcedForgedDecisionsRefused(t *testing.T) {
	w := newWorld(t, true)
	m := rootMarker(t)
	before := w.pendingIDs()
	out := w.background(w.agentCmd(nil, "sudo", "/usr/bin/touch", m))
	id := w.waitPending(before)
	req, err := os.ReadFile("/var/lib/clawwarden/pending/" + id + ".request")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(req)
	digest := hex.EncodeToString(sum[:])
	parsed, err := signed.ParseRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	approve := signed.Decision{InstallID: installID(t), RequestSHA256: digest, Approve: true, Scope: signed.Scope{Once: true}, NotAfter: parsed.Expires}
	alice := w.keys[w.alice.Name]

	// A key nobody registered (generated by the agent).
	stranger := filepath.Join(t.TempDir(), "stranger")
	w.asRoot("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", stranger)
	w.drop(id, approve.Marshal(), signWith(t, stranger, approve.Marshal()))
	// An RSA key, signed by ssh-keygen itself.
	rsaKey := filepath.Join(t.TempDir(), "rsa")
	w.asRoot("ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", rsaKey)
	msgFile := filepath.Join(t.TempDir(), "decision")
	os.WriteFile(msgFile, approve.Marshal(), 0o600)
	w.asRoot("ssh-keygen", "-q", "-Y", "sign", "-n", signed.Namespace, "-f", rsaKey, msgFile)
	rsaSig, _ := os.ReadFile(msgFile + ".sig")
	w.drop(id, approve.Marshal(), rsaSig)
	// A deny signature offered with approve bytes.
	deny := approve
	deny.Approve = false
	w.drop(id, approve.Marshal(), signWith(t, alice, deny.Marshal()))
	// Another request's digest.
	other := approve
	other.RequestSHA256 = strings.Repeat("ab", 32)
	w.drop(id, other.Marshal(), signWith(t, alice, other.Marshal()))
	// One byte changed after signing.
	good := approve.Marshal()
	changed := bytes.Replace(good, []byte(digest), []byte(digest[:63]+string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", digest[63])+1)%16])), 1)
	w.drop(id, changed, signWith(t, alice, good))
	// Expired.
	expired := approve
	expired.NotAfter = time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	w.drop(id, expired.Marshal(), signWith(t, alice, expired.Marshal()))
	// A scope the approver did not sign.
	kept := approve
	kept.Scope = signed.Scope{Idle: 30 * time.Minute}
	w.drop(id, kept.Marshal(), signWith(t, alice, approve.Marshal()))
	// Another host's install id.
	host := approve
	host.InstallID = strings.Repeat("0f", 16)
	w.drop(id, host.Marshal(), signWith(t, alice, host.Marshal()))

	testenv.Eventually(t, "the helper to reject all eight forgeries", func() bool { return countAudit(t, id, "decision", "rejected") >= 8 })
	if _, err := os.Stat(m); err == nil {
		t.Fatalf("a forged decision ran the command:\n%s", out.String())
	}
	// A valid deny from bob ends it.
	w.deny(w.bob, id)
	testenv.Eventually(t, "the agent's sudo to end", func() bool { return strings.Contains(out.String(), "was denied by "+w.bob.Name) })
	if _, err := os.Stat(m); err == nil {
		t.Fatal("the denied command ran")
	}

	// A decision is good for its one request: the same signed approval
	// offered to an identical new request is rejected.
	before = w.pendingIDs()
	out2 := w.background(w.agentCmd(nil, "sudo", "/usr/bin/touch", m))
	id2 := w.waitPending(before)
	w.drop(id2, approve.Marshal(), signWith(t, alice, approve.Marshal()))
	testenv.Eventually(t, "the reused decision to be rejected", func() bool { return countAudit(t, id2, "decision", "rejected") >= 1 })
	w.deny(w.alice, id2)
	testenv.Eventually(t, "the second request to end", func() bool { return strings.Contains(out2.String(), "denied") })
	if _, err := os.Stat(m); err == nil {
		t.Fatal("a reused decision ran the command")
	}
}

// asApprover runs a clawwarden command as approver u (no terminal).
func (w *world) asApprover(u testenv.User, env []string, args ...string) (int, string) {
	w.t.Helper()
	home := filepath.Dir(w.keys[u.Name])
	e := append([]string{"HOME=" + home, "PATH=/usr/bin:/bin", "LANG=C.UTF-8"}, env...)
	cmd := testenv.Command(u, e, home, w.bin, args...)
	cmd.SysProcAttr.Credential.Groups = groupsOf(u.Name)
	out, err := cmd.CombinedOutput()
	return testenv.ExitCode(err), string(out)
}

// Approving through ssh-agent, and by hand: decision draft, ssh-keygen -Y
// sign, decision submit (from any account, here the agent's own).
func TestEnforcedApproveWithSSHAgentAndByHand(t *testing.T) {
	w := newWorld(t, true)
	// ssh-agent as alice, with her key added.
	sock := filepath.Join(filepath.Dir(w.keys[w.alice.Name]), "agent.sock")
	agentCmd := testenv.Command(w.alice, []string{"PATH=/usr/bin:/bin"}, "/", "ssh-agent", "-D", "-a", sock)
	if err := agentCmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agentCmd.Process.Kill(); agentCmd.Wait() })
	testenv.Eventually(t, "ssh-agent's socket", func() bool { _, err := os.Stat(sock); return err == nil })
	add := testenv.Command(w.alice, []string{"SSH_AUTH_SOCK=" + sock, "PATH=/usr/bin:/bin"}, "/", "ssh-add", w.keys[w.alice.Name])
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v\n%s", err, out)
	}
	before := w.pendingIDs()
	out := w.background(w.agentCmd(nil, "sudo", "/usr/bin/id", "-u"))
	id := w.waitPending(before)
	if code, text := w.approve(w.alice, []string{"SSH_AUTH_SOCK=" + sock}, id); code != 0 {
		t.Fatalf("approve with ssh-agent: exit %d\n%s", code, text)
	}
	testenv.Eventually(t, "the agent to see 0", func() bool { return strings.Contains(out.String(), "0\n") })

	// By hand.
	before = w.pendingIDs()
	out = w.background(w.agentCmd(nil, "sudo", "/usr/bin/id", "-un"))
	id = w.waitPending(before)
	code, draft := w.asApprover(w.bob, nil, "decision", "draft", id, "--approve")
	if code != 0 {
		t.Fatalf("decision draft: exit %d\n%s", code, draft)
	}
	dir := filepath.Dir(w.keys[w.bob.Name])
	dfile := filepath.Join(dir, "decision")
	os.WriteFile(dfile, []byte(draft), 0o644)
	shared := sharedDir(t)
	sign := testenv.Command(w.bob, []string{"PATH=/usr/bin:/bin"}, dir, "ssh-keygen", "-q", "-Y", "sign", "-n", signed.Namespace, "-f", w.keys[w.bob.Name], dfile)
	if o, err := sign.CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -Y sign: %v\n%s", err, o)
	}
	// The agent hands them over: the transport carries nothing the helper
	// does not verify.
	sig, _ := os.ReadFile(dfile + ".sig")
	os.WriteFile(filepath.Join(shared, "decision"), []byte(draft), 0o644)
	os.WriteFile(filepath.Join(shared, "decision.sig"), sig, 0o644)
	code, text := w.runAgent(nil, "", w.bin, "decision", "submit", id, filepath.Join(shared, "decision"), filepath.Join(shared, "decision.sig"))
	if code != 0 {
		t.Fatalf("decision submit: exit %d\n%s", code, text)
	}
	testenv.Eventually(t, "the agent to see root", func() bool { return strings.Contains(out.String(), "root\n") })
}

// A kept approval (--for) reruns without a new signature, ends after its
// idle time (test clock), and ends at once when its key is removed.
func TestEnforcedKeptApproval(t *testing.T) {
	w := newWorld(t, true)
	keep := []string{"CLAWWARDEN_KEEP_SESSION=1"}
	before := w.pendingIDs()
	out := w.background(w.agentCmd(keep, "sudo", "/usr/bin/id", "-u"))
	id := w.waitPending(before)
	if code, text := w.approve(w.alice, nil, id, "--key", w.keys[w.alice.Name], "--for", "10m"); code != 0 {
		t.Fatalf("approve --for: exit %d\n%s", code, text)
	}
	testenv.Eventually(t, "the first run", func() bool { return strings.Contains(out.String(), "0\n") })
	// Again: no request is filed, it just runs.
	if code, o := w.runAgent(keep, "", "sudo", "/usr/bin/id", "-u"); code != 0 || !strings.Contains(o, "0\n") {
		t.Fatalf("kept approval not reused: exit %d\n%s", code, o)
	}
	// 11 idle minutes later (test clock): a new request is filed.
	os.WriteFile("/etc/clawwarden/test-clock-offset", []byte("11m"), 0o644)
	before = w.pendingIDs()
	out = w.background(w.agentCmd(keep, "sudo", "/usr/bin/id", "-u"))
	id = w.waitPending(before)
	w.approve(w.alice, nil, id, "--key", w.keys[w.alice.Name], "--for", "10m")
	testenv.Eventually(t, "the run after re-approval", func() bool { return strings.Contains(out.String(), "0\n") })
	// Removing alice's key revokes what she kept.
	data, _ := os.ReadFile("/etc/clawwarden/allowed_signers")
	var keepLines []string
	for _, l := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(l, w.alice.Name+" ") {
			keepLines = append(keepLines, l)
		}
	}
	os.WriteFile("/etc/clawwarden/allowed_signers", []byte(strings.Join(keepLines, "\n")), 0o644)
	before = w.pendingIDs()
	bg := w.agentCmd(keep, "sudo", "/usr/bin/id", "-u")
	out = w.background(bg)
	id = w.waitPending(before)
	w.deny(w.bob, id)
	testenv.Eventually(t, "the revoked run to be refused", func() bool { return strings.Contains(out.String(), "denied") })
}

// What the agent inherits or controls does not reach root: limits, umask,
// groups, terminal, standard input; agent-writable files are staged.
func TestEnforcedInheritedStateAndInput(t *testing.T) {
	w := newWorld(t, true)
	probe := "umask; id -G; tty; ulimit -n; ulimit -f; cat"
	w.asRoot("sh", "-c", `printf '{"allow_exact": [["/usr/bin/sh", "-c", "`+probe+`"], ["/usr/bin/tee", "/root/clawwarden-tee-test"], ["/usr/bin/cat", "/home/clawwarden-agent/note.txt"]]}\n' > /etc/clawwarden/command-policy.json`)
	t.Cleanup(func() { os.Remove("/root/clawwarden-tee-test") })
	script := `umask 777; echo evil-input | sudo /usr/bin/sh -c '` + probe + `'; echo "rc=$?"`
	before := w.pendingIDs()
	out := w.background(w.agentCmd(nil, "/bin/sh", "-c", script))
	id := w.waitPending(before)
	w.approve(w.alice, nil, id, "--key", w.keys[w.alice.Name])
	testenv.Eventually(t, "the probe", func() bool { return strings.Contains(out.String(), "rc=") })
	got := out.String()
	for _, want := range []string{"0022\n", "\n0\n", "not a tty"} {
		if !strings.Contains(got, want) {
			t.Errorf("probe output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "evil-input") {
		t.Errorf("the agent's stdin reached root:\n%s", got)
	}
	// Limits the agent lowered: restored to root's, or — where root cannot
	// raise a hard limit back (no CAP_SYS_RESOURCE, as in some containers) —
	// the request is refused before anything is filed.
	before = w.pendingIDs()
	out = w.background(w.agentCmd(nil, "/bin/sh", "-c", `ulimit -f 1; ulimit -n 16; sudo /usr/bin/sh -c '`+probe+`' </dev/null; echo "rc=$?"`))
	testenv.Eventually(t, "a request or a refusal", func() bool {
		return strings.Contains(out.String(), "rc=") || len(w.pendingIDs()) > len(before)
	})
	if !strings.Contains(out.String(), "rc=") {
		id = w.waitPending(before)
		w.approve(w.alice, nil, id, "--key", w.keys[w.alice.Name])
		testenv.Eventually(t, "the limits probe", func() bool { return strings.Contains(out.String(), "rc=") })
		if strings.Contains(out.String(), "\n16\n") || strings.Contains(out.String(), "\n1\n") {
			t.Errorf("the agent's limits reached root:\n%s", out.String())
		}
	} else if !strings.Contains(out.String(), "lowered") || !strings.Contains(out.String(), "rc=77") {
		t.Errorf("lowered limits: neither restored nor refused:\n%s", out.String())
	}
	// Content piped into an approved tee does not reach the file.
	before = w.pendingIDs()
	out = w.background(w.agentCmd(nil, "/bin/sh", "-c", `echo evil | sudo /usr/bin/tee /root/clawwarden-tee-test; echo "rc=$?"`))
	id = w.waitPending(before)
	w.approve(w.alice, nil, id, "--key", w.keys[w.alice.Name])
	testenv.Eventually(t, "tee", func() bool { return strings.Contains(out.String(), "rc=") })
	if data, _ := os.ReadFile("/root/clawwarden-tee-test"); len(data) != 0 {
		t.Errorf("the agent's input reached root's tee: %q", data)
	}
	// An agent-writable file named in argv is staged: what the approver saw
	// (size, hash) is what runs, whatever the agent writes afterwards.
	note := filepath.Join(w.agentHome, "note.txt")
	os.WriteFile(note, []byte("shown to the approver\n"), 0o644)
	os.Chown(note, int(w.agent.UID), int(w.agent.GID))
	t.Cleanup(func() { os.Remove(note) })
	before = w.pendingIDs()
	out = w.background(w.agentCmd(nil, "sudo", "/usr/bin/cat", note))
	id = w.waitPending(before)
	os.WriteFile(note, []byte("swapped after filing\n"), 0o644)
	code, text := w.approve(w.alice, nil, id, "--key", w.keys[w.alice.Name])
	if code != 0 || !strings.Contains(text, "staged input") || !strings.Contains(text, "cwd:      /\r") {
		t.Fatalf("approve: exit %d\n%s", code, text)
	}
	testenv.Eventually(t, "cat output", func() bool {
		return strings.Contains(out.String(), "shown to the approver") || strings.Contains(out.String(), "swapped")
	})
	if strings.Contains(out.String(), "swapped") {
		t.Errorf("the file changed after filing reached root:\n%s", out.String())
	}
}

// A request whose waiting helper died is void; the queue is bounded;
// oversized and control-character requests are refused; invisible
// characters are shown escaped.
func TestEnforcedVoidLimitsAndEscapes(t *testing.T) {
	w := newWorld(t, true)
	m := rootMarker(t)
	before := w.pendingIDs()
	w.background(w.agentCmd(nil, "sudo", "/usr/bin/touch", m))
	id := w.waitPending(before)
	facts, _ := os.ReadFile("/var/lib/clawwarden/pending/" + id + ".facts.json")
	var f struct {
		HelperPID int `json:"helper_pid"`
	}
	json.Unmarshal(facts, &f)
	if f.HelperPID <= 0 {
		t.Fatalf("facts: %s", facts)
	}
	syscall.Kill(f.HelperPID, syscall.SIGKILL)
	testenv.Eventually(t, "the helper to be gone", func() bool { return syscall.Kill(f.HelperPID, 0) != nil })
	// Only the helper that filed a request holds it: dead, its request is
	// void, and approve says so.
	code, text := w.asApprover(w.alice, nil, "approve", id, "--key", w.keys[w.alice.Name])
	if code == 0 || !strings.Contains(text, "void") {
		t.Errorf("approve of a void request: exit %d\n%s", code, text)
	}
	if _, err := os.Stat(m); err == nil {
		t.Fatal("a request ran after its helper died")
	}
	if n := countAudit(t, id, "approval", "approved"); n != 0 {
		t.Errorf("audit approves a void request")
	}

	// Oversized and control characters: refused by the grammar.
	for _, argv := range [][]string{
		{"sudo", "/usr/bin/echo", strings.Repeat(" ", 10000)},
		append([]string{"sudo", "/usr/bin/echo"}, make([]string, 1000)...),
		{"sudo", "/usr/bin/echo", "\x1b[2J"},
	} {
		if code, out := w.runAgent(nil, "", argv...); code != 64 {
			t.Errorf("%d-argument request: exit %d, want 64\n%.300s", len(argv), code, out)
		}
	}
	// Invisible characters and chat markup are shown escaped to the approver.
	before = w.pendingIDs()
	w.background(w.agentCmd(nil, "sudo", "/usr/bin/echo", "invoice\u202efdp.sh", "**urgent** <b>now</b>"))
	id = w.waitPending(before)
	code, text = w.approve(w.bob, nil, id, "--key", w.keys[w.bob.Name])
	if code != 0 || !strings.Contains(text, `$'invoice\u202efdp.sh'`) || strings.Contains(text, "\u202e") {
		t.Errorf("approve did not show the argument escaped: exit %d\n%s", code, text)
	}

	// The queue holds at most max_pending requests per account.
	w.setting("max_pending", 3)
	var outs []*bytes.Buffer
	for range 6 {
		outs = append(outs, w.background(w.agentCmd(nil, "sudo", "/usr/bin/true")))
	}
	testenv.Eventually(t, "three requests refused as too many", func() bool {
		n := 0
		for _, o := range outs {
			if strings.Contains(o.String(), "too many pending requests") {
				n++
			}
		}
		return n >= 3
	})
	if n := len(w.pendingIDs()); n > 3 {
		t.Errorf("%d pending requests, at most 3 allowed", n)
	}
}

// Install refuses an agent account with another route to root; uninstall
// leaves /etc/sudoers.d byte-identical.
func TestEnforcedInstallRefusesAndUninstallsExactly(t *testing.T) {
	w := newWorld(t, false)
	snapshot := func() string {
		var b strings.Builder
		ents, _ := os.ReadDir("/etc/sudoers.d")
		for _, e := range ents {
			data, _ := os.ReadFile(filepath.Join("/etc/sudoers.d", e.Name()))
			fi, _ := e.Info()
			fmt.Fprintf(&b, "%s %v %x\n", e.Name(), fi.Mode(), sha256.Sum256(data))
		}
		return b.String()
	}
	sudoersBefore := snapshot()

	// In the docker group: root in disguise.
	if _, err := user.LookupGroup("docker"); err != nil {
		w.asRoot("groupadd", "--system", "docker")
		t.Cleanup(func() { exec.Command("groupdel", "docker").Run() })
	}
	w.asRoot("gpasswd", "-a", w.agent.Name, "docker")
	code, out := w.install("--agent-user=" + w.agent.Name)
	exec.Command("gpasswd", "-d", w.agent.Name, "docker").Run()
	if code != 10 || !strings.Contains(out, "docker") {
		t.Errorf("install with the agent in docker: exit %d\n%s", code, out)
	}
	// An extra sudo rule.
	extra := "/etc/sudoers.d/zz-clawwarden-extra"
	os.WriteFile(extra, []byte(w.agent.Name+" ALL=(root) NOPASSWD: /usr/bin/id\n"), 0o440)
	code, out = w.install("--agent-user=" + w.agent.Name)
	os.Remove(extra)
	if code != 10 || !strings.Contains(out, "/usr/bin/id") {
		t.Errorf("install with an extra sudo rule: exit %d\n%s", code, out)
	}
	if _, err := os.Stat("/etc/clawwarden"); err == nil {
		t.Fatal("a refused install wrote /etc/clawwarden")
	}
	// Installed twice (idempotent), then uninstalled: byte-identical.
	w.install("")
	w.install("")
	if out, err := exec.Command(w.bin, "enforce", "uninstall").CombinedOutput(); err != nil {
		t.Fatalf("uninstall: %v\n%s", err, out)
	}
	if after := snapshot(); after != sudoersBefore {
		t.Errorf("/etc/sudoers.d changed:\nbefore:\n%s\nafter:\n%s", sudoersBefore, after)
	}
	for _, p := range []string{"/etc/clawwarden", "/var/lib/clawwarden", "/usr/local/libexec/clawwarden"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s left after uninstall", p)
		}
	}
}

// Signals and closed streams of the agent's sudo: no request runs twice or
// unrecorded; the helper ignores what a caller could use to stop it, and a
// stopped request blocks no other.
func TestEnforcedSignalsAndStreams(t *testing.T) {
	w := newWorld(t, true)
	// HUP, TSTP and CONT to the agent's sudo while the request waits: the
	// helper keeps waiting, and runs it once when approved.
	before := w.pendingIDs()
	cmd := w.agentCmd(nil, "sudo", "/usr/bin/id", "-u")
	out := w.background(cmd)
	id := w.waitPending(before)
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGTSTP, syscall.SIGCONT} {
		cmd.Process.Signal(sig)
	}
	// Another request is filed and decided while this one waits.
	before = w.pendingIDs()
	out2 := w.background(w.agentCmd(nil, "sudo", "/usr/bin/id", "-g"))
	id2 := w.waitPending(append(before, id))
	w.approve(w.bob, nil, id2, "--key", w.keys[w.bob.Name])
	testenv.Eventually(t, "the second request to run", func() bool { return strings.Contains(out2.String(), "0\n") })
	w.approve(w.alice, nil, id, "--key", w.keys[w.alice.Name])
	testenv.Eventually(t, "the first request to run", func() bool { return countAudit(t, id, "result", "ran") == 1 })
	_ = out
	// SIGKILL of sudo while waiting: the helper lives on, runs it once when
	// approved, and records it; the output has nowhere to go.
	before = w.pendingIDs()
	cmd = w.agentCmd(nil, "sudo", "/usr/bin/id")
	w.background(cmd)
	id = w.waitPending(before)
	cmd.Process.Kill()
	w.approve(w.alice, nil, id, "--key", w.keys[w.alice.Name])
	testenv.Eventually(t, "the orphaned request to run once", func() bool { return countAudit(t, id, "result", "ran") == 1 })
	// Standard output closed by the agent: it runs, and is recorded.
	before = w.pendingIDs()
	cmd = w.agentCmd(nil, "/bin/sh", "-c", "exec >&- 2>&-; sudo /usr/bin/id")
	w.background(cmd)
	id = w.waitPending(before)
	w.approve(w.alice, nil, id, "--key", w.keys[w.alice.Name])
	testenv.Eventually(t, "the request with closed stdout to run", func() bool { return countAudit(t, id, "result", "ran") == 1 })
	for _, r := range auditRecords(t) {
		if r["event"] == "result" {
			if n := countAudit(t, r["request_id"].(string), "result", ""); n != 1 {
				t.Errorf("request %v has %d results", r["request_id"], n)
			}
		}
	}
}

// What the agent controls in its files and directories does not reach the
// root command: interpreters, git and pagers need allow_exact; a symlink to
// the helper with another name is not the helper's right; the notifier gets
// facts, never the agent's words.
func TestEnforcedAgentInputAndNotifier(t *testing.T) {
	w := newWorld(t, true)
	repo := filepath.Join(w.agentHome, "repo")
	os.MkdirAll(filepath.Join(repo, ".git"), 0o755)
	os.WriteFile(filepath.Join(repo, ".git", "config"), []byte("[core]\n\tfsmonitor = touch /root/pwned\n\tpager = sh\n"), 0o644)
	exec.Command("chown", "-R", w.agent.Name, repo).Run()
	t.Cleanup(func() { os.RemoveAll(repo) })
	for _, argv := range [][]string{
		{"sudo", "/usr/bin/git", "-C", repo, "status"},
		{"sudo", "/usr/bin/python3", "-c", "print(1)"},
		{"sudo", "/usr/bin/less", "/etc/hosts"},
		{"sudo", "/usr/bin/sh", "-c", "id"},
	} {
		if _, err := os.Stat(argv[1]); err != nil {
			continue
		}
		if code, out := w.runAgent(nil, "", argv...); code != 3 {
			t.Errorf("%q: exit %d, want 3 (policy)\n%s", argv, code, out)
		}
	}
	// Another name for the helper: sudo's rule names the helper's path.
	link := filepath.Join(sharedDir(t), "sudo")
	os.Symlink("/usr/local/libexec/clawwarden/clawwarden-root", link)
	if code, out := w.runAgent(nil, "", "/usr/bin/sudo", "-n", link, "request", "--", "/usr/bin/id"); code == 0 || strings.Contains(out, "uid=0") {
		t.Errorf("the helper under another name: exit %d\n%s", code, out)
	}
	// The notifier runs as nobody with the facts on stdin.
	dir := sharedDir(t)
	os.Chmod(dir, 0o777)
	script := filepath.Join(dir, "notify")
	os.WriteFile(script, []byte("#!/bin/sh\nid -un > "+dir+"/who\ncat > "+dir+"/facts.json\n"), 0o755)
	w.setting("notifier", []string{script})
	w.setting("notifier_user", "nobody")
	before := w.pendingIDs()
	w.background(w.agentCmd([]string{"OPENCLAW_PRIV_REASON=secret plan"}, "sudo", "/usr/bin/id"))
	id := w.waitPending(before)
	testenv.Eventually(t, "the notifier", func() bool { _, err := os.Stat(dir + "/facts.json"); return err == nil })
	testenv.Eventually(t, "the notifier's facts", func() bool {
		data, _ := os.ReadFile(dir + "/facts.json")
		return strings.Contains(string(data), id)
	})
	who, _ := os.ReadFile(dir + "/who")
	facts, _ := os.ReadFile(dir + "/facts.json")
	if strings.TrimSpace(string(who)) != "nobody" || strings.Contains(string(facts), "secret plan") {
		t.Errorf("notifier ran as %q with %s", who, facts)
	}
	w.deny(w.alice, id)
}

// What attacking enforced mode as the agent found, closed: relative paths
// are judged where the command runs (/), aliases of programs through /proc
// and /dev are refused, agent-controlled paths are staged or refused (a
// symlink re-pointed after filing changes nothing; a file the agent may not
// read is not read for it), SIGQUIT does not kill the helper, and junk in
// the inbox does not bury an approver's decision.
func TestEnforcedAgentTricks(t *testing.T) {
	w := newWorld(t, true)
	project := filepath.Join(w.agentHome, "project")
	os.MkdirAll(filepath.Join(project, "etc", "sudoers.d"), 0o755)
	os.WriteFile(filepath.Join(project, "rule"), []byte(w.agent.Name+" ALL=(ALL) NOPASSWD: ALL\n"), 0o644)
	exec.Command("chown", "-R", w.agent.Name, project).Run()
	t.Cleanup(func() { os.RemoveAll(project) })
	inProject := func(argv ...string) (int, string) {
		cmd := w.agentCmd(nil, argv...)
		cmd.Dir = project
		out, err := cmd.CombinedOutput()
		return testenv.ExitCode(err), string(out)
	}
	// Relative to the agent's directory it looks harmless; it runs in /.
	if code, out := inProject("sudo", "/usr/bin/cp", "rule", "etc/sudoers.d/zz-agent"); code != 3 || !strings.Contains(out, "privilege-file") {
		t.Errorf("relative privilege-file path: exit %d, want 3\n%s", code, out)
	}
	// Aliases of programs past the policy's names.
	for _, alias := range []string{"/proc/1/exe", "/proc/self/exe", "/dev/stdin", "/proc/self/fd/0"} {
		if code, out := w.runAgent(nil, "", "sudo", alias, "-c", "id"); code != 8 && code != 64 {
			t.Errorf("%s: exit %d, want 8\n%s", alias, code, out)
		}
	}
	// A file only root may read, behind the agent's symlink: refused.
	secret := "/root/clawwarden-secret-test"
	os.WriteFile(secret, []byte("root only\n"), 0o600)
	t.Cleanup(func() { os.Remove(secret) })
	notes := filepath.Join(w.agentHome, "notes.txt")
	os.Symlink(secret, notes)
	os.Lchown(notes, int(w.agent.UID), int(w.agent.GID))
	t.Cleanup(func() { os.Remove(notes) })
	if code, out := w.runAgent(nil, "", "sudo", "/usr/bin/cat", notes); code != 8 || strings.Contains(out, "root only") {
		t.Errorf("symlink to a root-only file: exit %d, want 8\n%s", code, out)
	}
	// A symlink of the agent's above a readable file: staged at filing, so
	// re-pointing it afterwards changes nothing.
	lnk := filepath.Join(w.agentHome, "lnk")
	os.Symlink("/usr/share/common-licenses", lnk)
	os.Lchown(lnk, int(w.agent.UID), int(w.agent.GID))
	t.Cleanup(func() { os.Remove(lnk) })
	evil := filepath.Join(project, "GPL-3")
	os.WriteFile(evil, []byte("* * * * * root touch /root/pwned\n"), 0o644)
	dst := "/root/clawwarden-copy-test"
	t.Cleanup(func() { os.Remove(dst) })
	before := w.pendingIDs()
	out := w.background(w.agentCmd(nil, "sudo", "/usr/bin/cp", filepath.Join(lnk, "GPL-3"), dst))
	id := w.waitPending(before)
	os.Remove(lnk)
	os.Symlink(project, lnk)
	if code, text := w.approve(w.alice, nil, id, "--key", w.keys[w.alice.Name]); code != 0 || !strings.Contains(text, "staged input") {
		t.Fatalf("approve: exit %d\n%s", code, text)
	}
	testenv.Eventually(t, "the copy", func() bool { return countAudit(t, id, "result", "ran") == 1 })
	if data, _ := os.ReadFile(dst); strings.Contains(string(data), "pwned") || !strings.Contains(string(data), "GNU GENERAL PUBLIC LICENSE") {
		t.Errorf("what ran is not what was filed: %.80q\n%s", data, out.String())
	}
	// SIGQUIT (relayed by sudo) does not kill the helper; the run is
	// recorded.
	before = w.pendingIDs()
	cmd := w.agentCmd(nil, "sudo", "/usr/bin/sleep", "1.5")
	w.background(cmd)
	id = w.waitPending(before)
	w.approve(w.alice, nil, id, "--key", w.keys[w.alice.Name])
	testenv.Eventually(t, "the command to start", func() bool { return testenv.RootProcess("/usr/bin/sleep", "1.5") })
	cmd.Process.Signal(syscall.SIGQUIT)
	testenv.Eventually(t, "the result record", func() bool { return countAudit(t, id, "result", "ran") == 1 })
	// Junk of the agent's in the inbox does not bury an approver's decision.
	before = w.pendingIDs()
	out = w.background(w.agentCmd(nil, "sudo", "/usr/bin/id", "-u"))
	id = w.waitPending(before)
	for i := range 40 {
		w.drop(id, []byte(fmt.Sprintf("junk %d", i)), []byte("junk"))
	}
	w.approve(w.bob, nil, id, "--key", w.keys[w.bob.Name])
	testenv.Eventually(t, "the approved run despite the junk", func() bool { return strings.Contains(out.String(), "0\n") })
}
