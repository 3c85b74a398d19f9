// Package setup holds the decisions of `clawwarden init`: what the host is
// missing, and which next steps follow from what init managed to do.
package setup

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/clawwarden/clawwarden/internal/command"
	"github.com/clawwarden/clawwarden/internal/sudo"
)

// Level says how a requirement stands.
type Level string

const (
	OK      Level = "ok"
	Missing Level = "missing"
	Note    Level = "note"
)

// Requirement is one thing clawwarden needs on the host.
type Requirement struct {
	Level  Level
	Detail string
}

func (r Requirement) String() string { return string(r.Level) + ": " + r.Detail }

// Requirements checks the openclaw CLI (and asks it its version), sudo
// (realSudo is OPENCLAW_REAL_SUDO, or empty), and whether a terminal is
// there for approvals.
func Requirements(ctx context.Context, run command.Runner, realSudo string, terminal bool) []Requirement {
	var reqs []Requirement
	if oc, err := exec.LookPath("openclaw"); err != nil {
		reqs = append(reqs, Requirement{Missing, "the openclaw CLI (install: npm install -g openclaw; needs Node 24 or newer)"})
	} else {
		ver := "unknown version"
		if out, err := command.Or(run).Run(ctx, command.Cmd{Name: oc, Args: []string{"--version"}, Timeout: 30 * time.Second}); err == nil {
			ver = strings.TrimSpace(string(out.Stdout))
		}
		reqs = append(reqs, Requirement{OK, fmt.Sprintf("openclaw %s (%s)", ver, oc)})
	}
	if p, err := sudo.Find(realSudo); err != nil {
		reqs = append(reqs, Requirement{Missing, fmt.Sprintf("%v (install: apt-get install sudo)", err)})
	} else {
		reqs = append(reqs, Requirement{OK, "sudo (" + p + ")"})
	}
	if terminal {
		reqs = append(reqs, Requirement{OK, "a terminal for approvals"})
	} else {
		reqs = append(reqs, Requirement{Note, "no terminal: approvals will wait for 'clawwarden approve ID' from your own terminal"})
	}
	return reqs
}

// Done is what one run of init managed to do.
type Done struct {
	SecurityDir string
	Skill       bool // the skill is installed
	Enforce     bool // --enforce was asked for
	Hook        bool // the sudo hook is installed (Enforce)
	Schedule    bool // the schedule is installed (Enforce)
	Passphrase  bool // an approval passphrase is set (Enforce)
	Assessed    bool // the first assessment completed
}

// NextSteps are the steps a person takes after init, in order, following
// from what it did: a step that failed comes first, and nothing tells the
// person to rely on a hook that is not there.
func NextSteps(d Done) []string {
	var steps []string
	if d.Enforce && !d.Hook {
		steps = append(steps, "the sudo hook is not installed: fix what its step reported, then run: clawwarden hook install")
	}
	if d.Enforce && !d.Schedule {
		steps = append(steps, "the schedule is not installed: fix what its step reported, then run: clawwarden schedule install")
	}
	if !d.Skill {
		steps = append(steps, "the skill is not installed: fix what its step reported, then run: clawwarden skill install")
	}
	steps = append(steps, "review and prune the policy files in "+d.SecurityDir+" (approved_ports.json lists what listens now)")
	switch {
	case d.Enforce && d.Hook:
		steps = append(steps, "restart the OpenClaw gateway so the agent's sudo goes through clawwarden, then check: clawwarden hook status")
	case !d.Enforce:
		steps = append(steps, "route the agent's sudo through clawwarden: clawwarden hook install (or rerun init with --enforce)")
	}
	if d.Enforce && !d.Passphrase {
		steps = append(steps, "set the approval passphrase on your own terminal: clawwarden approval set-passphrase")
	}
	if d.Assessed {
		steps = append(steps, "open the dashboard, fix the violations it lists, and run: clawwarden assess")
	} else {
		steps = append(steps, "the first assessment did not complete: run clawwarden assess and read what it reports")
	}
	return steps
}
