package setup

import (
	"context"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/command"
)

func TestNextSteps(t *testing.T) {
	all := Done{SecurityDir: "/s", Skill: true, Enforce: true, Hook: true, Schedule: true, Passphrase: true, Assessed: true}
	for _, tt := range []struct {
		name       string
		d          Done
		want, none []string
	}{
		{"enforce, all done", all, []string{"restart the OpenClaw gateway", "open the dashboard"}, []string{"not installed", "passphrase", "did not complete"}},
		{"enforce, hook failed", func() Done { d := all; d.Hook = false; return d }(),
			[]string{"the sudo hook is not installed", "clawwarden hook install"}, []string{"restart the OpenClaw gateway"}},
		{"enforce, schedule failed and no passphrase", func() Done { d := all; d.Schedule, d.Passphrase = false, false; return d }(),
			[]string{"schedule install", "approval set-passphrase", "restart the OpenClaw gateway"}, nil},
		{"no enforce", Done{SecurityDir: "/s", Skill: true, Assessed: true}, []string{"hook install (or rerun init with --enforce)"}, []string{"restart", "passphrase"}},
		{"skill and assessment failed", Done{SecurityDir: "/s"}, []string{"skill install", "did not complete"}, []string{"open the dashboard"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(NextSteps(tt.d), "\n")
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in:\n%s", w, got)
				}
			}
			for _, n := range tt.none {
				if strings.Contains(got, n) {
					t.Errorf("unexpected %q in:\n%s", n, got)
				}
			}
		})
	}
	// A failed step comes before the routine ones.
	d := all
	d.Hook = false
	if s := NextSteps(d); !strings.Contains(s[0], "hook is not installed") {
		t.Errorf("first step %q", s[0])
	}
}

func TestRequirements(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	reqs := Requirements(context.Background(), command.Func(func(context.Context, command.Cmd) (command.Output, error) {
		t.Fatal("ran a program that is not on PATH")
		return command.Output{}, nil
	}), "/nonexistent/sudo", false)
	if len(reqs) != 3 || reqs[0].Level != Missing || reqs[1].Level != Missing || reqs[2].Level != Note {
		t.Fatalf("%v", reqs)
	}
	if !strings.Contains(reqs[0].String(), "npm install -g openclaw") {
		t.Errorf("%s", reqs[0])
	}
}
