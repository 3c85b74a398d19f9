package skill

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/hook"
	"github.com/clawwarden/clawwarden/internal/safefile"
)

// frontMatter splits SKILL.md into its front matter lines and body.
func frontMatter(t *testing.T) (map[string]string, string, string) {
	t.Helper()
	s := string(Content)
	rest, ok := strings.CutPrefix(s, "---\n")
	if !ok {
		t.Fatal("SKILL.md does not start with a front matter line ---")
	}
	fm, body, ok := strings.Cut(rest, "\n---\n")
	if !ok {
		t.Fatal("SKILL.md front matter is not closed")
	}
	keys := map[string]string{}
	var metadata strings.Builder
	inMeta := false
	for _, l := range strings.Split(fm, "\n") {
		if inMeta && strings.HasPrefix(l, " ") {
			metadata.WriteString(l + "\n")
			continue
		}
		inMeta = false
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			t.Fatalf("front matter line %q is not key: value", l)
		}
		keys[k] = strings.TrimSpace(v)
		if k == "metadata" {
			inMeta = true
		}
	}
	return keys, metadata.String(), body
}

// TestFrontMatter checks the fields OpenClaw reads (docs/tools/skills.md
// "SKILL.md format", "Gating"): name, a one-line description under 160
// characters, and metadata.openclaw as JSON5 with requires.bins.
func TestFrontMatter(t *testing.T) {
	keys, metadata, _ := frontMatter(t)
	if keys["name"] != config.SkillName {
		t.Errorf("name = %q, want %q", keys["name"], config.SkillName)
	}
	if d := keys["description"]; d == "" || len(d) >= 160 || strings.ContainsAny(d, ":#") {
		t.Errorf("description %q: want one plain line under 160 characters", d)
	}
	// The metadata block is JSON5; OpenClaw's own skills use trailing commas.
	asJSON := regexp.MustCompile(`,(\s*[}\]])`).ReplaceAllString(metadata, "$1")
	var m struct {
		OpenClaw struct {
			OS       []string `json:"os"`
			Requires struct {
				Bins []string `json:"bins"`
			} `json:"requires"`
			Install []struct {
				Kind string   `json:"kind"`
				Bins []string `json:"bins"`
			} `json:"install"`
		} `json:"openclaw"`
	}
	if err := json.Unmarshal([]byte(asJSON), &m); err != nil {
		t.Fatalf("metadata is not JSON5 of the expected shape: %v\n%s", err, metadata)
	}
	if !slices.Equal(m.OpenClaw.Requires.Bins, []string{"clawwarden"}) {
		t.Errorf("requires.bins = %q, want [clawwarden]", m.OpenClaw.Requires.Bins)
	}
	if !slices.Equal(m.OpenClaw.OS, []string{"linux", "darwin"}) {
		t.Errorf("os = %q", m.OpenClaw.OS)
	}
	if len(m.OpenClaw.Install) != 1 || !slices.Equal(m.OpenClaw.Install[0].Bins, []string{"clawwarden"}) {
		t.Errorf("install = %+v", m.OpenClaw.Install)
	}
	if !bytes.Contains(Content, marker) {
		t.Errorf("SKILL.md lacks the marker %q", marker)
	}
}

// section returns the text of a "## title" section of the body.
func section(t *testing.T, body, title string) string {
	t.Helper()
	_, s, ok := strings.Cut(body, "\n## "+title+"\n")
	if !ok {
		t.Fatalf("SKILL.md has no %q section", title)
	}
	s, _, _ = strings.Cut(s, "\n## ")
	return s
}

// TestFileWritesListsEveryFile: the "File writes" section names every file
// clawwarden writes: those of README.md's Files table, the report files, the
// hook's files and the cycle log.
func TestFileWritesListsEveryFile(t *testing.T) {
	_, _, body := frontMatter(t)
	writes := section(t, body, "File writes")
	want := []string{
		config.ApprovedPortsFile, config.SessionStateFile, config.AuditLogFile, config.NotifyStateFile,
		config.PassphraseFile, config.PendingDirName + "/",
		hook.StateFile, "hook-backups/", hook.DropInName, "ai.openclaw.gateway.plist", "openclaw-gateway.service.d/",
		"`sudo`", "~/.openclaw/bin/",
		config.SkillName + "-auto.log",
		"SKILL.md", "assessments/openclaw-assessment.json", "assessments/compliance-summary.json",
		"assessments/compliance-dashboard.html", "assessments/port-monitor-latest.json",
		"assessments/egress-monitor-latest.json", "*.lock", "tools.exec.pathPrepend",
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, files, ok := strings.Cut(string(readme), "\n## Files\n")
	if !ok {
		t.Fatal("README.md has no Files section")
	}
	files, _, _ = strings.Cut(files, "\n## ")
	row := regexp.MustCompile("(?m)^\\| `([^`]+)`(?:, `([^`]+)`)? \\| ([^|]+) \\|")
	for _, m := range row.FindAllStringSubmatch(files, -1) {
		if strings.Contains(m[3], "you") { // admin-written policy files
			continue
		}
		for _, f := range m[1:3] {
			if f != "" {
				want = append(want, strings.TrimPrefix(f, "security/"))
			}
		}
	}
	for _, w := range want {
		if !strings.Contains(writes, w) {
			t.Errorf("the File writes section does not mention %s", w)
		}
	}
	for _, p := range []string{config.CommandPolicyFile, config.PromptPolicyFile, config.ApprovedPortsFile, config.EgressAllowlistFile} {
		if !strings.Contains(section(t, body, "Policy files (admin reviewed, never written by the agent)"), p) {
			t.Errorf("the policy files section does not mention %s", p)
		}
	}
	env := section(t, body, "Environment variables (all optional)")
	for _, v := range config.EnvVars {
		if !strings.Contains(env, "`"+v) {
			t.Errorf("the environment section does not mention %s", v)
		}
	}
}

func TestInstallStatusUninstall(t *testing.T) {
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	const foreign = "---\nname: cyber-security-engineer\ndescription: the original\n---\nUse python3 scripts/...\n"
	outdated := string(marker) + " an older clawwarden -->\n"
	tests := []struct {
		name       string
		existing   string // "" means no SKILL.md
		force      bool
		wantAction string
		wantErr    error
		wantBackup bool
	}{
		{"fresh", "", false, "installed", nil, false},
		{"current", string(Content), false, "unchanged", nil, false},
		{"foreign refused", foreign, false, "", ErrModified, false},
		{"foreign forced", foreign, true, "replaced", nil, true},
		{"outdated refused", outdated, false, "", ErrModified, false},
		{"outdated forced", outdated, true, "replaced", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "skills", config.SkillName)
			file := filepath.Join(dir, FileName)
			if tt.existing != "" {
				os.MkdirAll(dir, 0o700)
				if err := os.WriteFile(file, []byte(tt.existing), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			r, err := Install(dir, tt.force, now)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Install error = %v, want %v", err, tt.wantErr)
			}
			got, _ := os.ReadFile(file)
			if err != nil {
				if string(got) != tt.existing {
					t.Error("a refused install changed SKILL.md")
				}
				return
			}
			if r.Action != tt.wantAction || !bytes.Equal(got, Content) {
				t.Errorf("action %q, content equal %v; want %q", r.Action, bytes.Equal(got, Content), tt.wantAction)
			}
			if tt.wantBackup {
				b, err := os.ReadFile(r.Backup)
				if err != nil || string(b) != tt.existing {
					t.Errorf("backup %s: %q, %v", r.Backup, b, err)
				}
			} else if r.Backup != "" {
				t.Errorf("unexpected backup %s", r.Backup)
			}
			if st, err := Inspect(dir); err != nil || st.State != Current {
				t.Errorf("Inspect = %+v, %v", st, err)
			}
		})
	}
}

func TestInspectStates(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, FileName)
	for _, tt := range []struct {
		content string
		want    State
	}{
		{"", Missing},
		{string(Content), Current},
		{string(marker) + " old -->", Outdated},
		{"---\nname: x\n---\n", Foreign},
	} {
		os.Remove(file)
		if tt.content != "" {
			os.WriteFile(file, []byte(tt.content), 0o600)
		}
		if st, err := Inspect(dir); err != nil || st.State != tt.want {
			t.Errorf("Inspect(%.20q) = %+v, %v; want %s", tt.content, st, err, tt.want)
		}
	}
}

func TestUninstall(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, config.SkillName)
	if _, err := Install(dir, false, time.Now()); err != nil {
		t.Fatal(err)
	}
	r, err := Uninstall(dir, false)
	if err != nil || r.Action != "removed" {
		t.Fatalf("Uninstall = %+v, %v", r, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("empty skill directory still there: %v", err)
	}
	if r, err := Uninstall(dir, false); err != nil || r.Action != "absent" {
		t.Errorf("second Uninstall = %+v, %v", r, err)
	}

	// A foreign SKILL.md stays without force; reports stay in any case.
	os.MkdirAll(filepath.Join(dir, "assessments"), 0o700)
	os.WriteFile(filepath.Join(dir, FileName), []byte("---\nname: x\n---\n"), 0o600)
	if _, err := Uninstall(dir, false); !errors.Is(err, ErrModified) {
		t.Errorf("Uninstall of a foreign SKILL.md: %v", err)
	}
	if _, err := Uninstall(dir, true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "assessments")); err != nil {
		t.Errorf("assessments/ removed: %v", err)
	}
}

func TestInstallRefusesUnsafePaths(t *testing.T) {
	t.Run("SKILL.md is a symlink", func(t *testing.T) {
		dir := t.TempDir()
		target := filepath.Join(t.TempDir(), "elsewhere")
		os.WriteFile(target, Content, 0o600)
		os.Symlink(target, filepath.Join(dir, FileName))
		if _, err := Install(dir, true, time.Now()); !errors.Is(err, safefile.ErrUnsafe) {
			t.Errorf("Install = %v, want safefile.ErrUnsafe", err)
		}
	})
	t.Run("skill directory is a symlink", func(t *testing.T) {
		base := t.TempDir()
		os.Symlink(t.TempDir(), filepath.Join(base, config.SkillName))
		if _, err := Install(filepath.Join(base, config.SkillName), false, time.Now()); !errors.Is(err, safefile.ErrUnsafe) {
			t.Errorf("Install = %v, want safefile.ErrUnsafe", err)
		}
	})
}
