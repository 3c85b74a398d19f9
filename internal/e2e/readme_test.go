package e2e

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/testenv"
)

// TestReadmeQuickStart runs the README's quick start as a new user would, on
// a clean HOME: the first command of the README (`go run ./cmd/clawwarden
// assess`) and every `clawwarden …` line of the "Quick start" block, with
// the binary the build line makes. Each must succeed (0) or report findings
// (10), and leave what it promises.
func TestReadmeQuickStart(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	first := regexp.MustCompile("(?s)```sh\n(go run ./cmd/clawwarden [^\n#]*?)\\s*#").FindStringSubmatch(readme)
	if first == nil || !strings.Contains(first[1], "assess") {
		t.Fatalf("README does not open with 'go run ./cmd/clawwarden assess': %v", first)
	}
	_, qs, ok := strings.Cut(readme, "\n## Quick start\n")
	if !ok {
		t.Fatal("README has no Quick start section")
	}
	block := regexp.MustCompile("(?s)```sh\n(.*?)```").FindStringSubmatch(qs)
	if block == nil {
		t.Fatal("Quick start has no sh block")
	}
	bin := testenv.Binary(t, "")
	home := t.TempDir()
	var ran []string
	for _, line := range strings.Split(block[1], "\n") {
		line, _, _ = strings.Cut(line, "#")
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] != "clawwarden" {
			continue
		}
		if fields[1] == "init" {
			fields = append(fields, "--yes") // no terminal here: the safe defaults
		}
		code, out := cwRun(t, bin, home, fields[1:]...)
		if code != 0 && code != 10 {
			t.Errorf("%s: exit %d:\n%s", strings.Join(fields, " "), code, out)
		}
		ran = append(ran, fields[1])
		switch fields[1] {
		case "init":
			if !strings.Contains(out, "dashboard: ") || !strings.Contains(out, "next steps:") {
				t.Errorf("init did not say where the dashboard is:\n%s", out)
			}
		case "audit":
			if !strings.HasPrefix(out, "ok, ") && !strings.HasPrefix(out, "no audit log yet") {
				t.Errorf("audit verify: %s", out)
			}
		case "policy":
			if !strings.Contains(out, "decision: allow") {
				t.Errorf("the starting policy refuses the quick start's example:\n%s", out)
			}
		}
	}
	if got := strings.Join(ran, " "); got != "--version init policy ports audit" {
		t.Errorf("quick start ran %q", got)
	}
	// The README's first command, as written, from the repository root.
	code, out := cwRun(t, bin, t.TempDir(), "assess")
	if code != 0 {
		t.Errorf("assess on a clean HOME: exit %d:\n%s", code, out)
	}
}
