// Package rootside is enforced mode's root-side layout: where the root
// helper, its configuration, its state, the pending queue and the audit log
// live, and how each of them is read and written so that the agent's
// account can write none of it.
//
// # Layout
//
//	/usr/local/libexec/clawwarden/clawwarden-root   the root helper (0755 root)
//	/usr/local/libexec/clawwarden/clawwarden        the CLI the agent's shim runs (0755 root)
//	/etc/clawwarden/settings.json                   agent account, install id, timeouts, notifier, audit_syslog
//	/etc/clawwarden/allowed_signers                 approvers' OpenSSH keys
//	/etc/clawwarden/command-policy.json             the command policy
//	/var/lib/clawwarden/state/                      0700 root: kept approvals, consumed request ids, staged inputs
//	/var/lib/clawwarden/pending/                    0750 root:clawwarden-approvers: requests waiting for a decision
//	/var/lib/clawwarden/inbox/                      1733 root: signed decisions dropped by anyone
//	/var/log/clawwarden/audit.jsonl                 0644 root, hash-chained, with its head (.head)
//	/etc/sudoers.d/clawwarden                       the agent account's one sudo right
//
// A [Layout] with a Root prefix is for tests only; the root helper uses the
// zero Layout, whose paths are constants.
package rootside

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/clawwarden/clawwarden/internal/audit"
	"github.com/clawwarden/clawwarden/internal/safefile"
)

// ApproversGroup may read the pending queue and the audit log.
const ApproversGroup = "clawwarden-approvers"

// Layout locates enforced mode's files under Root ("" is /).
type Layout struct{ Root string }

func (l Layout) path(p string) string {
	if l.Root == "" {
		return p
	}
	return filepath.Join(l.Root, p)
}

// The locations.
func (l Layout) LibexecDir() string     { return l.path("/usr/local/libexec/clawwarden") }
func (l Layout) Helper() string         { return filepath.Join(l.LibexecDir(), "clawwarden-root") }
func (l Layout) CLI() string            { return filepath.Join(l.LibexecDir(), "clawwarden") }
func (l Layout) SudoShim() string       { return filepath.Join(l.LibexecDir(), "clawwarden-sudo") }
func (l Layout) ConfigDir() string      { return l.path("/etc/clawwarden") }
func (l Layout) SettingsFile() string   { return filepath.Join(l.ConfigDir(), "settings.json") }
func (l Layout) AllowedSigners() string { return filepath.Join(l.ConfigDir(), "allowed_signers") }
func (l Layout) PolicyFile() string     { return filepath.Join(l.ConfigDir(), "command-policy.json") }
func (l Layout) VarDir() string         { return l.path("/var/lib/clawwarden") }
func (l Layout) StateDir() string       { return filepath.Join(l.VarDir(), "state") }
func (l Layout) SessionsFile() string   { return filepath.Join(l.StateDir(), "sessions.json") }
func (l Layout) ConsumedFile() string   { return filepath.Join(l.StateDir(), "consumed.log") }
func (l Layout) StagingDir() string     { return filepath.Join(l.StateDir(), "staging") }
func (l Layout) PendingDir() string     { return filepath.Join(l.VarDir(), "pending") }
func (l Layout) InboxDir() string       { return filepath.Join(l.VarDir(), "inbox") }
func (l Layout) LogDir() string         { return l.path("/var/log/clawwarden") }
func (l Layout) AuditLog() string       { return filepath.Join(l.LogDir(), "audit.jsonl") }
func (l Layout) SudoersFile() string    { return l.path("/etc/sudoers.d/clawwarden") }
func (l Layout) SyslogSocket() string   { return l.path(audit.SyslogSocket) }
func (l Layout) JournalSocket() string  { return l.path(audit.JournalSocket) }

// Audit is the root-side audit log as the root helper appends to it. With
// s.AuditSyslog every record also goes to the host's log pipeline (as
// clawwarden-root, authpriv), within audit.DefaultForwardTimeout, and warn
// is told of records that are in the log but were not sent.
func (l Layout) Audit(s Settings, warn func(error)) *audit.Log {
	log := &audit.Log{Path: l.AuditLog()}
	if s.AuditSyslog {
		log.Forward = &audit.Forwarder{Journal: l.JournalSocket(), Syslog: l.SyslogSocket(), AppName: "clawwarden-root"}
		log.Warn = warn
	}
	return log
}

// Settings is /etc/clawwarden/settings.json.
type Settings struct {
	Version   int    `json:"version"`
	InstallID string `json:"install_id"` // random, names this host in every request and decision
	AgentUser string `json:"agent_user"`
	AgentUID  int    `json:"agent_uid"`
	// ApprovalTimeout is how long a request waits for a decision.
	ApprovalTimeout Duration `json:"approval_timeout"`
	// MaxPending requests per account; MaxRequestBytes each.
	MaxPending      int `json:"max_pending"`
	MaxRequestBytes int `json:"max_request_bytes"`
	// Notifier runs (as NotifierUser) for each new request, with the
	// request id and the facts the helper worked out as JSON on stdin.
	Notifier        []string `json:"notifier,omitempty"`
	NotifierUser    string   `json:"notifier_user,omitempty"`
	NotifierTimeout Duration `json:"notifier_timeout,omitempty"`
	// Forced records that install went on despite other routes to root.
	Forced bool `json:"forced,omitempty"`
	// AuditSyslog also sends every audit record to the host's log pipeline
	// (journald's socket, else /dev/log; see audit.Forwarder), for a
	// collector to keep off the host. It is set by 'enforce install
	// --audit-syslog' and lives here, in root's file, so that the agent
	// cannot turn it off; the root helper reads no environment for it.
	AuditSyslog bool `json:"audit_syslog,omitempty"`
	// ClawwardenVersion is the version that installed it.
	ClawwardenVersion string `json:"clawwarden_version"`
}

// SettingsVersion is the format of Settings.
const SettingsVersion = 1

// Defaults for settings left zero.
const (
	DefaultApprovalTimeout = 5 * time.Minute
	DefaultMaxPending      = 16
	DefaultMaxRequestBytes = 64 << 10
)

// Duration is a time.Duration written as "5m0s".
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// ErrNotEnforced is wrapped when this host has no enforced-mode settings.
var ErrNotEnforced = errors.New("enforced mode is not installed")

// LoadSettings reads the settings; they must be a regular root-owned file
// not writable by group or others, in a root-owned directory.
func (l Layout) LoadSettings() (Settings, error) {
	data, err := ReadRootFile(l.SettingsFile())
	if errors.Is(err, fs.ErrNotExist) {
		return Settings{}, fmt.Errorf("%w (no %s)", ErrNotEnforced, l.SettingsFile())
	}
	if err != nil {
		return Settings{}, err
	}
	var s Settings
	if err := json.Unmarshal(data, &s); err != nil {
		return Settings{}, fmt.Errorf("%s: %w: %v", l.SettingsFile(), safefile.ErrInvalid, err)
	}
	if s.Version != SettingsVersion || len(s.InstallID) < 16 || s.AgentUser == "" || s.AgentUID <= 0 {
		return Settings{}, fmt.Errorf("%s: %w: incomplete settings", l.SettingsFile(), safefile.ErrInvalid)
	}
	if s.ApprovalTimeout <= 0 {
		s.ApprovalTimeout = Duration(DefaultApprovalTimeout)
	}
	if s.MaxPending <= 0 {
		s.MaxPending = DefaultMaxPending
	}
	if s.MaxRequestBytes <= 0 {
		s.MaxRequestBytes = DefaultMaxRequestBytes
	}
	return s, nil
}

// ReadRootFile reads a file that must be root-owned, a regular file, not
// group or other writable, in a directory with the same properties: what
// enforced mode trusts, whoever reads it.
func ReadRootFile(path string) ([]byte, error) {
	if err := checkRootDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := rootOwned(path, fi); err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() || fi.Size() > safefile.MaxSize {
		return nil, fmt.Errorf("%s: %w: not a regular file of sensible size", path, safefile.ErrUnsafe)
	}
	buf := make([]byte, fi.Size())
	if _, err := f.ReadAt(buf, 0); err != nil && fi.Size() > 0 {
		return nil, err
	}
	return buf, nil
}

func checkRootDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s: %w: not a directory", dir, safefile.ErrUnsafe)
	}
	return rootOwned(dir, fi)
}

func rootOwned(path string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Uid != 0 {
		return fmt.Errorf("%s: %w: not owned by root", path, safefile.ErrUnsafe)
	}
	if fi.Mode().Perm()&0o022 != 0 && fi.Mode()&fs.ModeSticky == 0 {
		return fmt.Errorf("%s: %w: writable by group or others", path, safefile.ErrUnsafe)
	}
	return nil
}

// Enforced reports whether enforced mode is installed here (its settings
// exist and are root's), and loads them.
func (l Layout) Enforced() (Settings, bool) {
	s, err := l.LoadSettings()
	return s, err == nil
}

// ShareAudit makes the audit log and its head readable by everyone (root
// writes them 0600 by default): approvers and the agent read what ran.
func (l Layout) ShareAudit() {
	for _, p := range []string{l.AuditLog(), l.AuditLog() + ".head"} {
		if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm() != 0o644 {
			os.Chmod(p, 0o644)
		}
	}
}
