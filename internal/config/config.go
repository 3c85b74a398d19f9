// Package config says where clawwarden's files live and which environment
// variables change its behaviour.
//
// # Locations
//
// Everything lives under OpenClaw's state directory: $OPENCLAW_STATE_DIR when
// set, else ~/.openclaw — the same places the original cyber-security-engineer
// skill used, so a user of the original can switch without moving files.
// Reports go to the skill's assessments/ directory: $OPENCLAW_CYBER_SKILL_DIR
// when set, else the skill's folder in OpenClaw's managed skills directory.
//
// # Environment
//
// The sixteen variables of the original keep their meanings; see [Env].
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrBadSetting marks an environment setting clawwarden cannot use, such
// as a relative OPENCLAW_STATE_DIR: the caller's input, not an internal
// error.
var ErrBadSetting = errors.New("bad setting")

// SkillName is the name of the OpenClaw skill clawwarden implements.
const SkillName = "cyber-security-engineer"

// Paths holds every location clawwarden reads or writes.
type Paths struct {
	Home        string // the user's home directory
	StateDir    string // OpenClaw's state directory (~/.openclaw)
	SecurityDir string // policy files and clawwarden state
	BinDir      string // where the opt-in sudo and sudoedit shims live
	LogsDir     string // the auto-cycle log
	SkillDir    string // the installed skill
	ReportsDir  string // assessments/ inside the skill
}

// Locate computes the paths from the environment lookup function getenv
// (os.Getenv in production).
func Locate(getenv func(string) string) (Paths, error) {
	home := getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil || h == "" {
			return Paths{}, errors.New("cannot find the home directory: set HOME")
		}
		home = h
	}
	state := getenv("OPENCLAW_STATE_DIR")
	if state == "" {
		state = filepath.Join(home, ".openclaw")
	} else if strings.HasPrefix(state, "~/") {
		state = filepath.Join(home, state[2:])
	}
	if !filepath.IsAbs(state) {
		return Paths{}, fmt.Errorf("%w: OPENCLAW_STATE_DIR must be an absolute path, not %q", ErrBadSetting, state)
	}
	skill := getenv("OPENCLAW_CYBER_SKILL_DIR")
	if skill == "" {
		skill = filepath.Join(state, "skills", SkillName)
	} else if !filepath.IsAbs(skill) {
		return Paths{}, fmt.Errorf("%w: OPENCLAW_CYBER_SKILL_DIR must be an absolute path, not %q", ErrBadSetting, skill)
	}
	p := Paths{
		Home:        home,
		StateDir:    filepath.Clean(state),
		SecurityDir: filepath.Join(state, "security"),
		BinDir:      filepath.Join(state, "bin"),
		LogsDir:     filepath.Join(state, "logs"),
		SkillDir:    filepath.Clean(skill),
		ReportsDir:  filepath.Join(skill, "assessments"),
	}
	return p, nil
}

// File names under SecurityDir, as the original wrote them.
const (
	CommandPolicyFile   = "command-policy.json"
	PromptPolicyFile    = "prompt-policy.json"
	ApprovedPortsFile   = "approved_ports.json"
	EgressAllowlistFile = "egress_allowlist.json"
	SessionStateFile    = "root-session-state.json"
	AuditLogFile        = "privileged-audit.jsonl"
	NotifyStateFile     = "violation-notify-state.json"
	PassphraseFile      = "approval-passphrase.json"
	PendingDirName      = "pending"
)

// Security returns the path of a file in the security directory.
func (p Paths) Security(name string) string { return filepath.Join(p.SecurityDir, name) }

// PendingDir is where out-of-band approval requests wait.
func (p Paths) PendingDir() string { return filepath.Join(p.SecurityDir, PendingDirName) }

// Shim is the opt-in sudo shim.
func (p Paths) Shim() string { return filepath.Join(p.BinDir, "sudo") }

// SudoeditShim is the opt-in sudoedit shim, beside [Paths.Shim]: without it
// the agent's sudoedit would reach the real one past the guard.
func (p Paths) SudoeditShim() string { return filepath.Join(p.BinDir, "sudoedit") }

// CycleLog is the log the scheduled cycle appends to.
func (p Paths) CycleLog() string { return filepath.Join(p.LogsDir, SkillName+"-auto.log") }

// Env is the set of environment variables clawwarden honours. The names and
// meanings are those of the original skill.
type Env struct {
	RequirePolicyFiles      bool   // OPENCLAW_REQUIRE_POLICY_FILES=1: refuse when policy files are missing
	RequireSessionID        bool   // OPENCLAW_REQUIRE_SESSION_ID=1: a task session id is mandatory
	TaskSessionID           string // OPENCLAW_TASK_SESSION_ID
	ApprovalToken           string // OPENCLAW_APPROVAL_TOKEN: must be typed at approval
	UntrustedSource         bool   // OPENCLAW_UNTRUSTED_SOURCE=1
	NotifyCmd               string // OPENCLAW_VIOLATION_NOTIFY_CMD
	NotifyAllowlist         string // OPENCLAW_VIOLATION_NOTIFY_ALLOWLIST
	NotifyState             string // OPENCLAW_VIOLATION_NOTIFY_STATE
	RealSudo                string // OPENCLAW_REAL_SUDO
	Python3                 string // OPENCLAW_PYTHON3: accepted, unused (no Python runtime)
	SkillDir                string // OPENCLAW_CYBER_SKILL_DIR
	AllowNoninteractiveSudo bool   // OPENCLAW_ALLOW_NONINTERACTIVE_SUDO=1
	PrivReason              string // OPENCLAW_PRIV_REASON
	SkipPlistConfirm        bool   // OPENCLAW_SKIP_PLIST_CONFIRM=1
	StateDir                string // OPENCLAW_STATE_DIR (OpenClaw's own)
	ConfigPath              string // OPENCLAW_CONFIG_PATH (OpenClaw's own)

	// AuditSyslog (CLAWWARDEN_AUDIT_SYSLOG=1, clawwarden's own) also sends
	// every audit record to the host's log pipeline (journald or syslog).
	// In same-user mode it is the user's own setting, which the agent can
	// unset; enforced mode takes it from its root settings instead.
	AuditSyslog bool
}

// EnvVars lists every variable of the original skill that [ReadEnv] reads,
// for documentation and tests; clawwarden's own CLAWWARDEN_AUDIT_SYSLOG is
// in the README.
var EnvVars = []string{
	"OPENCLAW_REQUIRE_POLICY_FILES",
	"OPENCLAW_REQUIRE_SESSION_ID",
	"OPENCLAW_TASK_SESSION_ID",
	"OPENCLAW_APPROVAL_TOKEN",
	"OPENCLAW_UNTRUSTED_SOURCE",
	"OPENCLAW_VIOLATION_NOTIFY_CMD",
	"OPENCLAW_VIOLATION_NOTIFY_ALLOWLIST",
	"OPENCLAW_REAL_SUDO",
	"OPENCLAW_PYTHON3",
	"OPENCLAW_CYBER_SKILL_DIR",
	"OPENCLAW_ALLOW_NONINTERACTIVE_SUDO",
	"OPENCLAW_PRIV_REASON",
	"OPENCLAW_VIOLATION_NOTIFY_STATE",
	"OPENCLAW_SKIP_PLIST_CONFIRM",
	"OPENCLAW_STATE_DIR",
	"OPENCLAW_CONFIG_PATH",
}

// ReadEnv reads the variables through getenv.
func ReadEnv(getenv func(string) string) Env {
	on := func(k string) bool { return strings.TrimSpace(getenv(k)) == "1" }
	return Env{
		RequirePolicyFiles:      on("OPENCLAW_REQUIRE_POLICY_FILES"),
		RequireSessionID:        on("OPENCLAW_REQUIRE_SESSION_ID"),
		TaskSessionID:           strings.TrimSpace(getenv("OPENCLAW_TASK_SESSION_ID")),
		ApprovalToken:           getenv("OPENCLAW_APPROVAL_TOKEN"),
		UntrustedSource:         on("OPENCLAW_UNTRUSTED_SOURCE"),
		NotifyCmd:               getenv("OPENCLAW_VIOLATION_NOTIFY_CMD"),
		NotifyAllowlist:         getenv("OPENCLAW_VIOLATION_NOTIFY_ALLOWLIST"),
		NotifyState:             getenv("OPENCLAW_VIOLATION_NOTIFY_STATE"),
		RealSudo:                getenv("OPENCLAW_REAL_SUDO"),
		Python3:                 getenv("OPENCLAW_PYTHON3"),
		SkillDir:                getenv("OPENCLAW_CYBER_SKILL_DIR"),
		AllowNoninteractiveSudo: on("OPENCLAW_ALLOW_NONINTERACTIVE_SUDO"),
		PrivReason:              getenv("OPENCLAW_PRIV_REASON"),
		SkipPlistConfirm:        on("OPENCLAW_SKIP_PLIST_CONFIRM"),
		StateDir:                getenv("OPENCLAW_STATE_DIR"),
		ConfigPath:              getenv("OPENCLAW_CONFIG_PATH"),
		AuditSyslog:             on("CLAWWARDEN_AUDIT_SYSLOG"),
	}
}
