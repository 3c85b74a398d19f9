package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/assess"
	"github.com/clawwarden/clawwarden/internal/report"
	"github.com/clawwarden/clawwarden/internal/testenv"
)

// assessEnv is netEnv without the openclaw command on PATH.
func assessEnv(t *testing.T) string {
	t.Helper()
	state := netEnv(t)
	t.Setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
	t.Setenv("OPENCLAW_CONFIG_PATH", "")
	return state
}

func TestAssessJSON(t *testing.T) {
	state := assessEnv(t)
	writeFile(t, filepath.Join(state, "openclaw.json"), "{gateway: {bind: 'lan'}, // JSON5\n}", 0o600)
	code, out, errOut := runCLI("assess", "--json", "--no-openclaw-audit", "--fail-on", "violation")
	if code != ExitFindings {
		t.Fatalf("exit %d, want %d (gateway.bind lan is a violation)\nstderr: %s", code, ExitFindings, errOut)
	}
	var s report.Summary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("stdout is not compliance-summary.json: %v\n%s", err, out)
	}
	if s.Total != len(assess.CheckIDs()) || s.Status != assess.StatusViolation {
		t.Errorf("summary total %d status %q, want %d checks and violation", s.Total, s.Status, len(assess.CheckIDs()))
	}
	found := false
	for _, it := range s.OpenItems {
		if it.CheckID == "gateway_loopback_only" && it.Status == assess.StatusViolation {
			found = true
		}
	}
	if !found {
		t.Errorf("open items lack the gateway_loopback_only violation: %+v", s.OpenItems)
	}
	reports := filepath.Join(state, "skills", "cyber-security-engineer", "assessments")
	for _, f := range []string{assess.AssessmentFile, assess.SummaryFile, assess.DashboardFile} {
		fi, err := os.Stat(filepath.Join(reports, f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %04o, want 0600", f, fi.Mode().Perm())
		}
	}
	data, err := os.ReadFile(filepath.Join(reports, assess.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != out {
		t.Error("--json output differs from compliance-summary.json")
	}
}

// A completed assessment exits 0 whatever it found, and says what to do
// next; --fail-on violation makes the same findings exit 10.
func TestAssessExitStatus(t *testing.T) {
	state := assessEnv(t)
	writeFile(t, filepath.Join(state, "openclaw.json"), "{gateway: {bind: 'lan'}}", 0o600)
	code, stdout, errOut := runCLI("assess", "--out", t.TempDir(), "--no-openclaw-audit")
	if code != ExitOK || !strings.Contains(stdout, "next: open ") {
		t.Errorf("assess with a violation: exit %d, want 0 and what to do next\n%s%s", code, stdout, errOut)
	}
	for _, level := range []string{"violation", "partial"} {
		if code, _, errOut := runCLI("assess", "--out", t.TempDir(), "--no-openclaw-audit", "--fail-on", level); code != ExitFindings {
			t.Errorf("assess --fail-on %s with a violation: exit %d, want %d\n%s", level, code, ExitFindings, errOut)
		}
	}
	if code, _, errOut := runCLI("assess", "--out", t.TempDir(), "--no-openclaw-audit", "--fail-on", "none"); code != ExitOK {
		t.Errorf("assess --fail-on none: exit %d\n%s", code, errOut)
	}
}

func TestAssessHumanOutput(t *testing.T) {
	assessEnv(t)
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, errOut := runCLI("assess", "--out", out, "--no-openclaw-audit")
	if code != ExitFindings && code != ExitOK {
		t.Fatalf("exit %d\nstderr: %s", code, errOut)
	}
	lines := strings.Split(stdout, "\n")
	if !strings.HasPrefix(lines[0], "assess: ") || !strings.Contains(lines[0], fmt.Sprintf("%d checks", len(assess.CheckIDs()))) {
		t.Errorf("first line = %q, want the summary line", lines[0])
	}
	if !strings.HasPrefix(lines[1], "CHECK") {
		t.Errorf("second line = %q, want the table header", lines[1])
	}
	for _, id := range assess.CheckIDs() {
		if !strings.Contains(stdout, "\n"+id+" ") {
			t.Errorf("output lacks a row for %s", id)
		}
	}
	for _, f := range []string{assess.AssessmentFile, assess.SummaryFile, assess.DashboardFile} {
		p := filepath.Join(out, f)
		if !strings.Contains(stdout, p) {
			t.Errorf("output does not say where %s is", p)
		}
		if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}
}

func TestAssessErrors(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(t *testing.T, state string)
		args     []string
		wantCode int
		wantErr  string
	}{
		{
			name: "malformed command policy",
			setup: func(t *testing.T, state string) {
				writeFile(t, filepath.Join(state, "security", "command-policy.json"), `{"deny":["("]}`, 0o600)
			},
			wantCode: ExitBadState, wantErr: "command-policy.json",
		},
		{
			name: "malformed openclaw.json",
			setup: func(t *testing.T, state string) {
				writeFile(t, filepath.Join(state, "openclaw.json"), `{gateway: `, 0o600)
			},
			wantCode: ExitBadState, wantErr: "not valid JSON5",
		},
		{
			name: "group-writable port report",
			setup: func(t *testing.T, state string) {
				writeFile(t, filepath.Join(state, "skills", "cyber-security-engineer", "assessments", "port-monitor-latest.json"), `{}`, 0o620)
			},
			wantCode: ExitBadState, wantErr: "group or other writable",
		},
		{name: "bad flag", args: []string{"--bogus"}, wantCode: ExitUsage, wantErr: "unknown flag"},
		{name: "bad --fail-on", args: []string{"--fail-on", "critical"}, wantCode: ExitUsage, wantErr: `--fail-on must be "none", "violation" or "partial", not "critical"`},
		{name: "argument", args: []string{"extra"}, wantCode: ExitUsage, wantErr: "takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := assessEnv(t)
			if tt.setup != nil {
				tt.setup(t, state)
			}
			args := append([]string{"assess", "--no-openclaw-audit", "--out", t.TempDir()}, tt.args...)
			code, _, errOut := runCLI(args...)
			if code != tt.wantCode || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, tt.wantCode, tt.wantErr)
			}
		})
	}
}

// TestAssessWithRealOpenClaw runs the assessment with the real openclaw
// command on PATH (installed by scripts/openclaw-env) and checks that the
// findings of 'openclaw security audit --json' land in the report, mapped
// to ISO/NIST controls.
func TestAssessWithRealOpenClaw(t *testing.T) {
	cache := os.Getenv("CLAWWARDEN_TEST_CACHE")
	if cache == "" {
		cache = "/var/cache/clawwarden-test"
	}
	nodeBin := filepath.Join(cache, "node24", "node_modules", "node", "bin")
	ocBin := filepath.Join(cache, "openclaw", "node_modules", ".bin")
	if _, err := os.Stat(filepath.Join(nodeBin, "node")); err != nil {
		testenv.Skip(t, "Node 24 is not installed in %s: run scripts/openclaw-env", cache)
	}
	if _, err := os.Stat(filepath.Join(ocBin, "openclaw")); err != nil {
		testenv.Skip(t, "OpenClaw is not installed in %s: run scripts/openclaw-env", cache)
	}
	state := assessEnv(t)
	t.Setenv("PATH", nodeBin+":"+ocBin+":/usr/sbin:/usr/bin:/sbin:/bin")
	t.Setenv("NO_COLOR", "1")
	writeFile(t, filepath.Join(state, "openclaw.json"), "{gateway: {bind: 'lan', auth: {mode: 'none'}}}", 0o600)
	out := t.TempDir()
	code, _, errOut := runCLI("assess", "--out", out, "--fail-on", "violation")
	if code != ExitFindings {
		t.Fatalf("exit %d, want %d\nstderr: %s", code, ExitFindings, errOut)
	}
	data, err := os.ReadFile(filepath.Join(out, assess.AssessmentFile))
	if err != nil {
		t.Fatal(err)
	}
	var a assess.Assessment
	if err := json.Unmarshal(data, &a); err != nil {
		t.Fatal(err)
	}
	if !a.OpenClawAudit.Ran || len(a.OpenClawAudit.Findings) == 0 {
		t.Fatalf("openclaw security audit did not contribute: %+v", a.OpenClawAudit)
	}
	critical := 0
	for _, f := range a.OpenClawAudit.Findings {
		if !strings.HasPrefix(f.CheckID, "openclaw:") || len(f.ISO27001) == 0 || len(f.NISTCSF) == 0 || f.Source != assess.SourceOpenClawAudit {
			t.Errorf("finding %+v is not mapped", f)
		}
		if f.Status == assess.StatusViolation && f.Risk == assess.RiskCritical {
			critical++
			if f.Mitigation == "" || f.DueDate == "" {
				t.Errorf("critical finding %s lacks a mitigation or due date", f.CheckID)
			}
		}
	}
	if critical == 0 {
		t.Errorf("no critical OpenClaw finding for a LAN bind without auth: %+v", a.OpenClawAudit.Findings)
	}
	for _, c := range a.Checks {
		if c.CheckID == "gateway_loopback_only" && (c.Status != assess.StatusViolation || c.Risk != assess.RiskCritical) {
			t.Errorf("gateway_loopback_only = %s/%s, want violation/critical", c.Status, c.Risk)
		}
		// OpenClaw's default exec policy runs host commands without asking.
		if c.CheckID == "prompt_injection_controls" && (c.Status != assess.StatusPartial || !strings.Contains(c.Evidence, "openclaw approvals get: main: security=full ask=off")) {
			t.Errorf("prompt_injection_controls = %s, evidence %q; want partial from the real exec policy", c.Status, c.Evidence)
		}
	}
}
