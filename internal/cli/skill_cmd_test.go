package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/skill"
)

func TestSkillCommands(t *testing.T) {
	home := hookEnv(t)
	file := filepath.Join(home, ".openclaw", "skills", "cyber-security-engineer", "SKILL.md")

	if code, out, _ := runCW(t, "skill", "status"); code != ExitFindings || !strings.Contains(out, "not installed") {
		t.Errorf("status before install: exit %d\n%s", code, out)
	}
	code, out, errOut := runCW(t, "skill", "install")
	if code != ExitOK || !strings.Contains(out, "installed skill cyber-security-engineer: "+file) {
		t.Errorf("install: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "clawwarden is not on PATH") {
		t.Errorf("install does not say clawwarden is missing from PATH: %s", errOut)
	}
	if got, _ := os.ReadFile(file); string(got) != string(skill.Content) {
		t.Error("installed SKILL.md differs from the built-in one")
	}
	if code, out, _ := runCW(t, "skill", "install"); code != ExitOK || !strings.Contains(out, "already installed and current") {
		t.Errorf("second install: exit %d\n%s", code, out)
	}
	code, out, _ = runCW(t, "skill", "status", "--json")
	var st struct {
		File   string `json:"file"`
		State  string `json:"state"`
		OnPath bool   `json:"clawwarden_on_path"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != ExitOK || st.State != "current" || st.File != file || st.OnPath {
		t.Errorf("status --json: exit %d, %+v, %v\n%s", code, st, err, out)
	}

	// A different SKILL.md is replaced only with --force, and kept.
	os.WriteFile(file, []byte("---\nname: cyber-security-engineer\ndescription: original\n---\n"), 0o600)
	code, _, errOut = runCW(t, "skill", "install")
	if code != ExitUsage || !strings.Contains(errOut, "--force") {
		t.Errorf("install over a foreign SKILL.md: exit %d\n%s", code, errOut)
	}
	if code, out, _ := runCW(t, "skill", "status"); code != ExitFindings || !strings.Contains(out, "not written by clawwarden") {
		t.Errorf("status of a foreign SKILL.md: exit %d\n%s", code, out)
	}
	code, out, _ = runCW(t, "skill", "install", "--force")
	if code != ExitOK || !strings.Contains(out, "previous file is kept as") {
		t.Errorf("install --force: exit %d\n%s", code, out)
	}
	backups, _ := filepath.Glob(file + ".*.bak")
	if len(backups) != 1 {
		t.Errorf("backups: %q", backups)
	}

	if code, out, _ := runCW(t, "skill", "uninstall"); code != ExitOK || !strings.Contains(out, "removed "+file) {
		t.Errorf("uninstall: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("SKILL.md still there: %v", err)
	}
}

// TestSkillExitTable keeps the exit status table in SKILL.md, which the agent
// reads, in agreement with exitTable.
func TestSkillExitTable(t *testing.T) {
	row := regexp.MustCompile(`(?m)^\| (\d+) \| (.+) \|$`)
	var got []string
	for _, m := range row.FindAllStringSubmatch(string(skill.Content), -1) {
		got = append(got, m[1]+" "+m[2])
	}
	var want []string
	for _, e := range exitTable {
		want = append(want, fmt.Sprintf("%d %s", e.Code, e.Meaning))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("SKILL.md exit table differs from exitTable\nSKILL.md:\n%s\n\nexitTable:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
