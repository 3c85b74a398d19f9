package cli

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestExitTableInReadme keeps README.md's exit status table and exitTable in
// agreement, row for row.
func TestExitTableInReadme(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n## Exit status\n")
	if !ok {
		t.Fatal("README.md has no '## Exit status' section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	row := regexp.MustCompile(`(?m)^\| (\d+) \| (.+) \|$`)
	var got []string
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		got = append(got, m[1]+" "+m[2])
	}
	var want []string
	for _, e := range exitTable {
		want = append(want, fmt.Sprintf("%d %s", e.Code, e.Meaning))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("README exit table differs from exitTable\nREADME:\n%s\n\nexitTable:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	seen := map[int]bool{}
	for _, e := range exitTable {
		if seen[e.Code] {
			t.Errorf("exit status %d listed twice", e.Code)
		}
		seen[e.Code] = true
	}
}
