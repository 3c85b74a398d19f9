package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clawwarden/clawwarden/internal/testenv"
)

// Real OpenClaw agent turns (issue 11): the cached OpenClaw runs `openclaw
// agent --local` as the agent's account against a fake model on 127.0.0.1
// (fakemodel_test.go) whose scripted tool calls run `sudo …` through
// OpenClaw's own exec tool. Only the model is fake: it cannot run here.

// agentPrompt marks the user message that starts each scripted turn.
const agentPrompt = "clawwarden-agent-turn"

// requestIDPattern finds the request id in what the shim (same-user mode)
// or the root helper (enforced mode) printed into the tool result.
var requestIDPattern = regexp.MustCompile(`(?:approval request|pending request) ([A-Za-z0-9]+)`)

// quoteRequests is the fake model's final answer: every tool result, and
// for every request id the shim printed, what a well-behaved agent tells the
// person.
func quoteRequests(results []string) string {
	var b strings.Builder
	for i, r := range results {
		fmt.Fprintf(&b, "TOOL RESULT %d:\n%s\n", i+1, r)
		for _, m := range requestIDPattern.FindAllStringSubmatch(r, -1) {
			fmt.Fprintf(&b, "REQUEST %s: please run 'clawwarden approve %s' in your own terminal\n", m[1], m[1])
		}
	}
	return b.String()
}

// openclawBins are the directories of the cached node and openclaw, or a
// skip when scripts/openclaw-env has not run.
func openclawBins(t *testing.T) (nodeBin, ocBin string) {
	t.Helper()
	cache := openclawCache()
	nodeBin = filepath.Join(cache, "node24", "node_modules", "node", "bin")
	ocBin = filepath.Join(cache, "openclaw", "node_modules", ".bin")
	if _, err := os.Stat(filepath.Join(ocBin, "openclaw")); err != nil {
		testenv.Skip(t, "OpenClaw is not installed in %s: run scripts/openclaw-env", cache)
	}
	return nodeBin, ocBin
}

// writeAgentConfig writes openclaw.json for u: the fake model as the only
// provider, exec without approvals of OpenClaw's own and never backgrounded
// within the turn, and prepend (when given) first on the exec tool's PATH.
func writeAgentConfig(t *testing.T, u testenv.User, stateDir string, m *fakeModel, prepend []string) string {
	t.Helper()
	data := m.config(prepend)
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(stateDir, "openclaw.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{stateDir, path} {
		if err := os.Chown(p, int(u.UID), int(u.GID)); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// agentTurn is one `openclaw agent --local` turn running as the agent.
type agentTurn struct {
	t       *testing.T
	cmd     *exec.Cmd
	out     bytes.Buffer
	done    chan struct{}
	err     error
	started time.Time
	took    time.Duration
}

// startAgentTurn starts the turn; cmd is the openclaw command, built to run
// as the agent's account.
func startAgentTurn(t *testing.T, cmd *exec.Cmd) *agentTurn {
	t.Helper()
	a := &agentTurn{t: t, cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &a.out, &a.out
	cmd.WaitDelay = 5 * time.Second
	a.started = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		a.err = cmd.Wait()
		a.took = time.Since(a.started)
		close(a.done)
	}()
	t.Cleanup(func() {
		select {
		case <-a.done:
		default:
			cmd.Process.Kill()
			<-a.done
		}
	})
	return a
}

// turnLimit only stops a hung turn; a turn takes 5–30 s.
const turnLimit = 5 * time.Minute

// until polls cond while the turn runs; it fails the test when the turn
// ends first or the limit passes.
func (a *agentTurn) until(what string, cond func() bool) {
	a.t.Helper()
	deadline := time.Now().Add(turnLimit)
	for !cond() {
		select {
		case <-a.done:
			if cond() {
				return
			}
			a.t.Fatalf("the agent turn ended before %s: %v\n%s", what, a.err, a.out.String())
		default:
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// final waits for the turn to end and returns the agent's final text.
func (a *agentTurn) final() string {
	a.t.Helper()
	select {
	case <-a.done:
	case <-time.After(turnLimit):
		a.t.Fatalf("the agent turn did not end:\n%s", a.out.String())
	}
	if a.err != nil {
		a.t.Fatalf("openclaw agent: %v\n%s", a.err, a.out.String())
	}
	out := a.out.Bytes()
	// The JSON result starts on a line of its own; log lines come before
	// and after it.
	i := bytes.Index(out, []byte("\n{\n")) + 1
	if bytes.HasPrefix(out, []byte("{\n")) {
		i = 0
	}
	if i < 0 || !bytes.HasPrefix(out[i:], []byte("{\n")) {
		a.t.Fatalf("openclaw agent printed no JSON result:\n%s", out)
	}
	var res struct {
		Payloads []struct {
			Text string `json:"text"`
		} `json:"payloads"`
	}
	if err := json.NewDecoder(bytes.NewReader(out[i:])).Decode(&res); err != nil {
		a.t.Fatalf("openclaw agent --json: %v\n%s", err, out)
	}
	var texts []string
	for _, p := range res.Payloads {
		texts = append(texts, p.Text)
	}
	a.t.Logf("agent turn took %s", a.took.Round(time.Millisecond))
	return strings.Join(texts, "\n")
}

// approvedFirst returns the n tool results the model saw, the first of
// which, an approved `sudo /usr/bin/id`, must show uid=0.
func approvedFirst(t *testing.T, m *fakeModel, text string, n int) []string {
	t.Helper()
	results := m.toolResultsReceived()
	t.Logf("tool results the model saw: %q", results)
	if len(results) != n {
		t.Fatalf("the model saw %d tool results, want %d:\n%q\nfinal text:\n%s", len(results), n, results, text)
	}
	if !strings.Contains(results[0], "uid=0(root)") {
		t.Errorf("the approved sudo /usr/bin/id did not give the agent uid=0:\n%s", results[0])
	}
	return results
}

// pendingRequest is a request as `clawwarden pending --json` lists it.
type pendingRequest struct {
	ID        string `json:"id"`
	Reason    string `json:"reason"`
	SessionID string `json:"session_id"`
}

// pendingRequests lists a same-user pending queue.
func (f *fixture) pendingRequests(t *testing.T) []pendingRequest {
	t.Helper()
	code, out := f.run(nil, "", "pending", "--json")
	if code != 0 {
		t.Fatalf("pending: exit %d: %s", code, out)
	}
	var reqs []pendingRequest
	if err := json.Unmarshal([]byte(out), &reqs); err != nil {
		t.Fatalf("pending --json: %v: %s", err, out)
	}
	return reqs
}

// Same-user mode: the agent's account runs a real agent turn whose exec
// tool calls `sudo /usr/bin/id` twice through the hook's shim (with the
// hook's plugin naming the session in each request). The first
// request is approved by the person (their sudo password typed in their own
// terminal) and the agent's tool result carries uid=0; the second is denied
// and the tool result carries the refusal, which the audit also records.
// The final answer quotes the request ids the shim printed.
func TestAgentTurnSameUser(t *testing.T) {
	t.Parallel()
	nodeBin, ocBin := openclawBins(t)
	f := newPasswordFixture(t)
	pw := testenv.SetPassword(t, f.u)
	pathEnv := "PATH=" + strings.Join([]string{filepath.Dir(f.bin), nodeBin, ocBin, "/usr/local/bin", "/usr/bin", "/bin"}, ":")
	ocEnv := []string{pathEnv, "NO_COLOR=1"}
	// What the person sets in the gateway's environment so that a sudo with no
	// terminal waits for them instead of being refused.
	agentEnv := []string{"OPENCLAW_ALLOW_NONINTERACTIVE_SUDO=1"}

	m := startFakeModel(t, agentPrompt, []string{"sudo /usr/bin/id", "sudo /usr/bin/id -u"}, quoteRequests)
	writeAgentConfig(t, f.u, filepath.Join(f.home, ".openclaw"), m, nil)
	if code, out := f.run(ocEnv, "", "hook", "install"); code != 0 {
		t.Fatalf("hook install: exit %d\n%s", code, out)
	}

	if code, out := f.run(ocEnv, "", "skill", "install"); code != 0 {
		t.Fatalf("skill install: exit %d\n%s", code, out)
	}
	env := append(append(append([]string{}, f.env...), ocEnv...), agentEnv...)
	turn := startAgentTurn(t, testenv.Command(f.u, env, f.home, filepath.Join(ocBin, "openclaw"),
		"agent", "--local", "--agent", "main", "--json", "--message", "please check who I am: "+agentPrompt))

	var first, second string
	turn.until("the first pending request", func() bool {
		if reqs := f.pendingRequests(t); len(reqs) == 1 {
			first = reqs[0].ID
			// The plugin's resolve_exec_env: the request says which
			// conversation asked.
			if reqs[0].SessionID != "agent:main:main" || !strings.Contains(reqs[0].Reason, "session agent:main:main") {
				t.Errorf("pending request without the plugin's session key and reason: %+v", reqs[0])
			}
		}
		return first != ""
	})
	c := f.console(nil, "approve", first)
	approveAndType(c, pw)
	if code := c.Wait(); code != 0 {
		t.Fatalf("approve %s: exit %d\n%s", first, code, c.Output())
	}
	turn.until("the second pending request", func() bool {
		for _, r := range f.pendingRequests(t) {
			if r.ID != first {
				second = r.ID
			}
		}
		return second != ""
	})
	if code, out := f.run(nil, "", "deny", second); code != 0 {
		t.Fatalf("deny %s: exit %d\n%s", second, code, out)
	}
	text := turn.final()

	results := approvedFirst(t, m, text, 2)
	if strings.Contains(results[1], "uid=0") || !strings.Contains(results[1], "denied") {
		t.Errorf("the denied request's tool result does not carry the refusal:\n%s", results[1])
	}
	for _, id := range []string{first, second} {
		if !strings.Contains(text, "REQUEST "+id+": please run 'clawwarden approve "+id+"'") {
			t.Errorf("the agent's final answer does not quote request %s the shim printed:\n%s", id, text)
		}
	}
	if !strings.Contains(text, "uid=0(root)") {
		t.Errorf("the agent's final answer does not carry the approved result:\n%s", text)
	}
	checkSkillOffered(t, m, f.home)
	// The approver's side and the agent's side each record the one run.
	ran, denied := 0, 0
	for _, a := range f.auditLines() {
		if a.Event == "result" && a.Decision == "ran" {
			if a.RequestID != first {
				t.Errorf("audit: a run of request %q, only %s was approved: %+v", a.RequestID, first, a)
			}
			ran++
		}
		if a.RequestID == second && a.Event == "approval" && a.Decision == "refused" && strings.Contains(a.Detail, "clawwarden deny") {
			denied++
		}
	}
	if ran == 0 {
		t.Errorf("audit has no run of %s", first)
	}
	if denied != 1 {
		t.Errorf("audit has %d denials of %s, want 1:\n%+v", denied, second, f.auditLines())
	}
	f.verifyAudit()
}

// skillEntry is the skill as OpenClaw lists it in the system prompt.
var skillEntry = regexp.MustCompile(`<skill>\s*<name>cyber-security-engineer</name>\s*<description>([^<]*)</description>\s*<location>([^<]*)</location>`)

// checkSkillOffered: the system prompt OpenClaw sent the model offers the
// skill, its description says how to ask for root, and the SKILL.md it
// points at teaches the workflow (pending: tell the person and wait;
// refusals reported, never worked around; what the agent must never run).
func checkSkillOffered(t *testing.T, m *fakeModel, home string) {
	t.Helper()
	reqs := m.received()
	if len(reqs) == 0 || len(reqs[0].Messages) == 0 || reqs[0].Messages[0].Role != "system" {
		t.Fatal("the model got no system prompt")
	}
	e := skillEntry.FindStringSubmatch(reqs[0].Messages[0].text())
	if e == nil {
		sys := reqs[0].Messages[0].text()
		if i := strings.Index(sys, "<available_skills>"); i >= 0 {
			sys = sys[i:]
		}
		t.Fatalf("the system prompt does not offer the cyber-security-engineer skill:\n%.3000s", sys)
	}
	if !strings.Contains(e[1], "sudo CMD") || !strings.Contains(e[1], "request id") {
		t.Errorf("the skill's description as the model sees it does not say how to ask for root: %q", e[1])
	}
	loc := e[2]
	if rest, ok := strings.CutPrefix(loc, "~/"); ok {
		loc = filepath.Join(home, rest)
	}
	body, err := os.ReadFile(loc)
	if err != nil {
		t.Fatalf("the skill location in the system prompt: %v", err)
	}
	for _, want := range []string{
		"**`sudo CMD ARG…` is how you ask for root.**",
		"**Stop and tell\n   the person**",
		"`clawwarden approve ID`",
		"never work around it",
		"| `clawwarden policy check -- CMD ARG…` (what the guard would decide) | `clawwarden approve`, `clawwarden deny` |",
		"`clawwarden enforce install`, `enforce uninstall`",
		"`clawwarden hook uninstall`",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the SKILL.md OpenClaw points the model at (%s) lacks %q", e[2], want)
		}
	}
}

// Enforced mode: the agent account (clawwarden-agent) runs a real agent
// turn whose exec tool calls `sudo /usr/bin/id` (approved with alice's
// signed decision: uid=0 in the tool result), `sudo /usr/bin/id -u` (denied
// by bob: the refusal in the tool result and the root-side audit), and
// `/usr/bin/sudo /usr/bin/id` by path, which sudo itself refuses. The exec
// PATH puts the agent's ~/.openclaw/bin first with OpenClaw's own
// tools.exec.pathPrepend; there is no plugin and no same-user hook here, so
// what holds is the boundary alone.
func TestAgentTurnEnforced(t *testing.T) {
	// Installs enforced mode (holding testenv.EnforcedLock): it runs after
	// the sequential enforced tests, beside the other parallel ones.
	t.Parallel()
	nodeBin, ocBin := openclawBins(t)
	w := newWorld(t, true)
	w.setting("approval_timeout", "300s")

	m := startFakeModel(t, agentPrompt, []string{"sudo /usr/bin/id", "sudo /usr/bin/id -u", "/usr/bin/sudo /usr/bin/id"}, quoteRequests)
	home := testenv.Home(t, w.agent)
	writeAgentConfig(t, w.agent, filepath.Join(home, ".openclaw"), m, []string{filepath.Join(w.agentHome, ".openclaw", "bin")})
	env := []string{"HOME=" + home, "USER=" + w.agent.Name, "LANG=C.UTF-8", "NO_COLOR=1",
		"PATH=" + strings.Join([]string{nodeBin, ocBin, "/usr/local/bin", "/usr/bin", "/bin"}, ":")}
	cmd := testenv.Command(w.agent, env, home, filepath.Join(ocBin, "openclaw"),
		"agent", "--local", "--agent", "main", "--json", "--message", "please check who I am: "+agentPrompt)
	cmd.SysProcAttr.Credential.Groups = groupsOf(w.agent.Name)
	before := w.pendingIDs()
	turn := startAgentTurn(t, cmd)

	var first, second string
	turn.until("the first pending request", func() bool {
		for _, id := range w.pendingIDs() {
			if !contains(before, id) {
				first = id
			}
		}
		return first != ""
	})
	if code, text := w.approve(w.alice, nil, first, "--key", w.keys[w.alice.Name]); code != 0 {
		t.Fatalf("approve %s: exit %d\n%s", first, code, text)
	}
	turn.until("the second pending request", func() bool {
		for _, id := range w.pendingIDs() {
			if !contains(before, id) && id != first {
				second = id
			}
		}
		return second != ""
	})
	w.deny(w.bob, second)
	text := turn.final()

	results := approvedFirst(t, m, text, 3)
	if strings.Contains(results[1], "uid=0") || strings.TrimSpace(results[1]) == "0" || !strings.Contains(results[1], "denied by "+w.bob.Name) {
		t.Errorf("the denied request's tool result does not carry the refusal:\n%s", results[1])
	}
	if strings.Contains(results[2], "uid=0") || !strings.Contains(results[2], "sudo: ") {
		t.Errorf("/usr/bin/sudo by path was not refused by sudo:\n%s", results[2])
	}
	for _, id := range []string{first, second} {
		if !strings.Contains(text, "REQUEST "+id+": please run 'clawwarden approve "+id+"'") {
			t.Errorf("the agent's final answer does not quote request %s the helper printed:\n%s", id, text)
		}
	}
	if n := countAudit(t, first, "result", "ran"); n != 1 {
		t.Errorf("root audit has %d runs of %s, want 1", n, first)
	}
	if n := countAudit(t, second, "approval", "refused"); n != 1 {
		t.Errorf("root audit has %d refusals of %s, want 1", n, second)
	}
	if n := countAudit(t, second, "result", "ran"); n != 0 {
		t.Errorf("root audit says the denied %s ran", second)
	}
}
