// Package preflight checks that clawwarden can do its job on this host:
// the tools it calls, the policy files, the permissions and validity of its
// state, and the runtime hook. Each check says pass, warn or fail, why, and
// what to do about it.
package preflight

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"time"

	"github.com/clawwarden/clawwarden/internal/approval"
	"github.com/clawwarden/clawwarden/internal/audit"
	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/egress"
	"github.com/clawwarden/clawwarden/internal/hook"
	"github.com/clawwarden/clawwarden/internal/policy"
	"github.com/clawwarden/clawwarden/internal/ports"
	"github.com/clawwarden/clawwarden/internal/safefile"
	"github.com/clawwarden/clawwarden/internal/session"
	"github.com/clawwarden/clawwarden/internal/sudo"
)

// The states of a check.
const (
	Pass = "pass"
	Warn = "warn"
	Fail = "fail"
)

// Check is the outcome of one check.
type Check struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// Options are the inputs of [Run].
type Options struct {
	Paths  config.Paths
	Env    config.Env
	Getenv func(string) string
	// Hook reports the hook status; nil skips that check.
	Hook func(ctx context.Context) (*hook.Status, error)
}

// Failed reports whether any check failed.
func Failed(checks []Check) bool {
	for _, c := range checks {
		if c.Status == Fail {
			return true
		}
	}
	return false
}

// Run runs every check.
func Run(ctx context.Context, o Options) []Check {
	var out []Check
	add := func(name, status, detail, fix string) {
		out = append(out, Check{Name: name, Status: status, Detail: detail, Fix: fix})
	}

	// Tools.
	if sudoPath, err := sudo.Find(o.Env.RealSudo); err != nil {
		add("tool:sudo", Fail, err.Error(), "install sudo (apt-get install sudo) or set OPENCLAW_REAL_SUDO")
	} else {
		add("tool:sudo", Pass, sudoPath+" is root-owned and setuid", "")
	}
	if p, err := exec.LookPath("openclaw"); err != nil {
		add("tool:openclaw", Warn, "the openclaw CLI is not on PATH: the hook and OpenClaw's own security audit cannot be used", "npm install -g openclaw")
	} else {
		add("tool:openclaw", Pass, p, "")
	}
	for _, t := range []string{"ss", "lsof"} {
		if p, err := exec.LookPath(t); err == nil {
			add("tool:"+t, Pass, p+" (optional; clawwarden reads sockets itself)", "")
		}
	}

	// Directories and permissions.
	for _, d := range []string{o.Paths.StateDir, o.Paths.SecurityDir} {
		switch err := safefile.CheckDir(d); {
		case errors.Is(err, fs.ErrNotExist):
			add("dir:"+d, Warn, "does not exist yet", "clawwarden creates it on first use")
		case err != nil:
			add("dir:"+d, Fail, err.Error(), "chmod 700 "+d+" and make sure you own it")
		default:
			add("dir:"+d, Pass, "owned by you and not writable by others", "")
		}
	}

	// Policy files.
	policyFile := func(name string, parse func(string) error) {
		path := o.Paths.Security(name)
		err := parse(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			st := Warn
			if o.Env.RequirePolicyFiles {
				st = Fail
			}
			add("policy:"+name, st, "missing: "+path, "create it (clawwarden init writes a reviewed starting point)")
		case err != nil:
			add("policy:"+name, Fail, err.Error(), "fix or remove "+path)
		default:
			add("policy:"+name, Pass, path+" is valid", "")
		}
	}
	policyFile(config.CommandPolicyFile, func(p string) error { _, err := policy.Load(p); return err })
	policyFile(config.PromptPolicyFile, func(p string) error {
		_, exists, err := policy.LoadPrompt(p)
		if err == nil && !exists {
			return fs.ErrNotExist
		}
		return err
	})
	policyFile(config.ApprovedPortsFile, func(p string) error { _, err := ports.LoadApproved(p); return err })
	policyFile(config.EgressAllowlistFile, func(p string) error { _, err := egress.LoadAllowlist(p); return err })

	// State.
	store := &session.Store{Path: o.Paths.Security(config.SessionStateFile)}
	if _, err := store.Load(); err != nil {
		add("state:session", Fail, err.Error(), "clawwarden session drop (keeps the unreadable file aside)")
	} else {
		add("state:session", Pass, store.Path+" is valid", "")
	}
	auditPath := o.Paths.Security(config.AuditLogFile)
	switch res, err := audit.VerifyFile(auditPath); {
	case errors.Is(err, fs.ErrNotExist):
		add("state:audit", Pass, "no audit log yet", "")
	case err != nil:
		add("state:audit", Fail, err.Error(), "fix the permissions of "+auditPath)
	case res.Broken != nil:
		add("state:audit", Fail, fmt.Sprintf("chain broken at line %d: %s", res.Broken.Line, res.Broken.Reason), "keep the file for investigation; clawwarden audit verify explains")
	default:
		add("state:audit", Pass, fmt.Sprintf("chain verifies: %d records", res.Records), "")
	}
	if p, err := approval.LoadPassphrase(o.Paths.Security(config.PassphraseFile)); err != nil {
		add("state:passphrase", Fail, err.Error(), "clawwarden approval set-passphrase")
	} else if p == nil {
		add("state:passphrase", Warn, "no approval passphrase: an agent driving a terminal could answer approval prompts", "clawwarden approval set-passphrase")
	} else {
		add("state:passphrase", Pass, "set on "+p.CreatedAt.Format(time.DateOnly), "")
	}

	// Hook.
	if o.Hook != nil {
		st, err := o.Hook(ctx)
		switch {
		case err != nil:
			add("hook", Fail, err.Error(), "clawwarden hook status explains")
		case st.Effective:
			add("hook", Pass, "the agent's sudo goes through clawwarden", "")
		default:
			add("hook", Warn, "the sudo shim is not effective (opt-in)", "clawwarden hook install")
		}
	}
	return out
}
