package cli

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/skill"
)

// TestSkillExitTable keeps the exit status table in SKILL.md, which the agent
// reads, in agreement with exitTable.
func TestSkillExitTable(t *testing.T) {
	t.Parallel()
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
