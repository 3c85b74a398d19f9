package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPolicyCheckCommand(t *testing.T) {
	auditEnv(t)
	dir := os.Getenv("OPENCLAW_STATE_DIR")
	policyFile := filepath.Join(dir, "security", "command-policy.json")
	os.MkdirAll(filepath.Dir(policyFile), 0o700)
	os.WriteFile(policyFile, []byte(`{"allow": ["^/usr/bin/id( |$)"], "deny": ["^/usr/bin/id -un"]}`), 0o600)

	tests := []struct {
		args     []string
		code     int
		decision string
		rule     string
	}{
		{[]string{"id"}, 0, "allow", `allow[0]`},
		{[]string{"id", "-un"}, 3, "deny", `deny[0]`},
		{[]string{"true"}, 3, "deny", "not in allow list"},
		{[]string{"bash", "-c", "id"}, 3, "deny", "builtin:shell"},
		{[]string{"./id"}, 8, "invalid", "resolve"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := runAudit(t, append([]string{"policy", "check", "--json", "--"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; %s %s", code, tt.code, out, errOut)
			}
			var got policyCheckJSON
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if got.Decision != tt.decision || !strings.HasPrefix(got.Rule, tt.rule) {
				t.Errorf("decision %q rule %q, want %q %q", got.Decision, got.Rule, tt.decision, tt.rule)
			}
		})
	}
	if code, _, _ := runAudit(t, "policy", "check"); code != ExitNoCommand {
		t.Errorf("no command: exit %d", code)
	}
	os.WriteFile(policyFile, []byte(`{"allow": ["(?<=x)"]}`), 0o600)
	if code, _, errOut := runAudit(t, "policy", "check", "--", "id"); code != ExitBadState || !strings.Contains(errOut, "RE2") {
		t.Errorf("invalid regex: exit %d: %s", code, errOut)
	}
}

func TestSessionCommands(t *testing.T) {
	auditEnv(t)
	dir := os.Getenv("OPENCLAW_STATE_DIR")
	state := filepath.Join(dir, "security", "root-session-state.json")
	code, out, _ := runAudit(t, "session", "status")
	if code != 0 || !strings.Contains(out, "privileged session: none") {
		t.Fatalf("status: %d %s", code, out)
	}
	os.MkdirAll(filepath.Dir(state), 0o700)
	os.WriteFile(state, []byte(`{"version":1,"approvals":[{"argv":`), 0o600)
	if code, _, errOut := runAudit(t, "session", "status"); code != ExitBadState {
		t.Errorf("corrupt state: exit %d %s", code, errOut)
	}
	code, _, errOut := runAudit(t, "session", "drop")
	if code != 0 || !strings.Contains(errOut, "kept as") {
		t.Fatalf("drop: %d %s", code, errOut)
	}
	matches, _ := filepath.Glob(state + ".corrupt-*")
	if len(matches) != 1 {
		t.Errorf("corrupt state not kept aside: %v", matches)
	}
	code, out, _ = runAudit(t, "session", "status", "--json")
	if code != 0 || !strings.Contains(out, `"approvals": []`) {
		t.Errorf("status after drop: %d %s", code, out)
	}
}
