// Package enforce installs, checks and removes enforced mode (Linux only):
// the agent's account gets exactly one sudo right, the root helper, and a
// person approves each privileged command with a signed decision (see
// packages helper, rootside and signed).
//
// Install lists every system path it writes before writing, refuses (unless
// forced) when the agent's account has any other route to root (package
// boundary), and records what it added, so that Uninstall removes exactly
// that: /etc/sudoers.d ends byte-identical to before. The audit log is the
// record of what ran as root and is kept.
package enforce

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/clawwarden/clawwarden/internal/boundary"
	"github.com/clawwarden/clawwarden/internal/policy"
	"github.com/clawwarden/clawwarden/internal/rootfile"
	"github.com/clawwarden/clawwarden/internal/rootside"
	"github.com/clawwarden/clawwarden/internal/signed"
)

// Sentinel errors.
var (
	// ErrOtherRoutes: the agent account has other routes to root.
	ErrOtherRoutes = errors.New("the agent account has other routes to root")
	// ErrUnsupported: not Linux, or not root.
	ErrUnsupported = errors.New("enforced mode cannot be installed here")
)

// Approver is a person who may sign decisions: a local account (added to
// the approvers' group, so it can read the queue) and an OpenSSH public key.
type Approver struct {
	Account string
	KeyFile string
}

// Options for Install.
type Options struct {
	Layout    rootside.Layout
	AgentUser string
	Approvers []Approver
	Force     bool
	// Binary is the running clawwarden; the root helper and the agent's
	// sudo are taken from beside it (clawwarden-root and clawwarden-sudo in
	// the same directory, from the same build).
	Binary string
	// Out receives what is done, line by line.
	Out io.Writer
	// Sudo runs `sudo -ll -U` for the boundary check (nil: the real one).
	Sudo boundary.Runner
	// Visudo checks a sudoers file (nil: visudo -cf).
	Visudo func(path string) error
	// AuditSyslog sets (or clears) the settings' audit_syslog: the root
	// helper also sends every audit record to the host's log pipeline. nil
	// keeps what the settings say (off on a new install).
	AuditSyslog *bool
}

// applyAuditSyslog sets s.AuditSyslog from o and says what it is.
func (o *Options) applyAuditSyslog(s *rootside.Settings) {
	if o.AuditSyslog != nil {
		s.AuditSyslog = *o.AuditSyslog
	}
	if s.AuditSyslog {
		o.say("audit records also go to the host's log pipeline (audit_syslog in %s): journald's socket when it exists, else /dev/log", o.Layout.SettingsFile())
	}
}

// Record is what Install added, kept in /var/lib/clawwarden/state/install.json
// so that Uninstall removes exactly that.
type Record struct {
	Version      int      `json:"version"`
	AgentUser    string   `json:"agent_user"`
	Created      []string `json:"created"` // paths install created, deepest last
	SudoersSHA   string   `json:"sudoers_sha256"`
	HelperSHA    string   `json:"helper_sha256"` // the helper install copied, so status notices a change
	GroupCreated bool     `json:"group_created"`
	GroupAdded   []string `json:"group_added"` // accounts install added to the approvers' group
	Shims        []string `json:"shims"`       // the agent's shim links
}

func (o *Options) say(format string, args ...any) {
	if o.Out != nil {
		fmt.Fprintf(o.Out, format+"\n", args...)
	}
}

// Plan lists every system path Install writes.
func Plan(l rootside.Layout) []string {
	return []string{l.Helper(), l.SudoShim(), l.CLI(), l.ConfigDir() + "/ (settings.json, allowed_signers, command-policy.json)",
		l.VarDir() + "/ (state/ 0700, pending/ 0750 root:" + rootside.ApproversGroup + ", inbox/ 1733)",
		l.LogDir() + "/ (audit.jsonl and its head, readable by all)", l.SudoersFile(),
		"group " + rootside.ApproversGroup, "the agent's ~/.openclaw/bin/sudo and sudoedit (symlinks to " + l.SudoShim() + ")"}
}

func recordPath(l rootside.Layout) string { return filepath.Join(l.StateDir(), "install.json") }

// LoadRecord reads what install added, if installed.
func LoadRecord(l rootside.Layout) (Record, error) {
	data, err := rootside.ReadRootFile(recordPath(l))
	if err != nil {
		return Record{}, err
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return Record{}, err
	}
	return r, nil
}

// SudoersRule is the agent account's one sudo right.
func SudoersRule(l rootside.Layout, agent string) string {
	return fmt.Sprintf("# clawwarden enforced mode (clawwarden enforce install): %s's one sudo right is the root helper.\n"+
		"# Remove with 'clawwarden enforce uninstall'.\n"+
		"Defaults!%s !setenv, env_reset, secure_path=\"%s\"\n"+
		"%s ALL=(root) NOPASSWD: %s request *\n", agent, l.Helper(), rootfile.SecurePath, agent, l.Helper())
}

// Install sets enforced mode up (see the package doc).
func Install(ctx context.Context, o Options) (Record, error) {
	var rec Record
	if runtime.GOOS != "linux" {
		return rec, fmt.Errorf("%w: enforced mode is Linux only (it relies on sudoers, /proc and openat2); on %s use same-user mode", ErrUnsupported, runtime.GOOS)
	}
	if os.Geteuid() != 0 {
		return rec, fmt.Errorf("%w: run it as root (sudo clawwarden enforce install …)", ErrUnsupported)
	}
	l := o.Layout
	agent, err := user.Lookup(o.AgentUser)
	if err != nil {
		return rec, fmt.Errorf("agent account %q: %w", o.AgentUser, err)
	}
	agentUID, _ := strconv.Atoi(agent.Uid)
	agentGID, _ := strconv.Atoi(agent.Gid)
	if agentUID == 0 {
		return rec, fmt.Errorf("%w: the agent account must not be root", ErrUnsupported)
	}
	if len(o.Approvers) == 0 {
		return rec, errors.New("name at least one approver: --approver ACCOUNT=PUBLIC_KEY_FILE")
	}
	signers, err := approverSigners(o.Approvers, o.AgentUser)
	if err != nil {
		return rec, err
	}
	helperSrc := filepath.Join(filepath.Dir(o.Binary), "clawwarden-root")
	shimSrc := filepath.Join(filepath.Dir(o.Binary), "clawwarden-sudo")
	for _, b := range []string{helperSrc, shimSrc} {
		if err := sameBuild(o.Binary, b); err != nil {
			return rec, err
		}
	}
	if prev, err := LoadRecord(l); err == nil && prev.AgentUser != o.AgentUser {
		return rec, fmt.Errorf("enforced mode is installed for %s; run 'clawwarden enforce uninstall' first", prev.AgentUser)
	}

	// Other routes to root.
	rep := boundary.Check(ctx, boundary.Options{Account: o.AgentUser, Helper: l.Helper(), Root: l.Root, Sudo: o.Sudo})
	if !rep.Clean() {
		for _, f := range rep.Findings {
			o.say("  route to root: %s [%s]\n    fix: %s", f.Detail, f.Kind, f.Fix)
		}
		if !o.Force {
			return rec, fmt.Errorf("%w (%d found, listed above): close them and install again, or --force (status then keeps saying \"not enforced\")", ErrOtherRoutes, len(rep.Findings))
		}
		o.say("  --force: installing anyway; 'clawwarden enforce status' will say \"not enforced\" until they are closed")
	}

	o.say("writing:")
	for _, p := range Plan(l) {
		o.say("  %s", p)
	}
	if prev, err := LoadRecord(l); err == nil {
		rec = prev
	}
	rec.Version, rec.AgentUser = 1, o.AgentUser
	created := func(p string) {
		if !slices.Contains(rec.Created, p) {
			rec.Created = append(rec.Created, p)
		}
	}
	mkdir := func(p string, mode os.FileMode, gid int) error {
		// Each directory install creates is recorded, parents too, so that
		// uninstall leaves none behind.
		var missing []string
		for d := p; ; d = filepath.Dir(d) {
			if _, err := os.Lstat(d); err == nil || d == filepath.Dir(d) {
				break
			}
			missing = append(missing, d)
		}
		for i := len(missing) - 1; i >= 0; i-- {
			if err := os.Mkdir(missing[i], 0o755); err != nil {
				return err
			}
			created(missing[i])
		}
		if err := os.Chown(p, 0, gid); err != nil {
			return err
		}
		return os.Chmod(p, mode)
	}

	// The approvers' group.
	gid, made, err := ensureGroup(rootside.ApproversGroup)
	if err != nil {
		return rec, err
	}
	rec.GroupCreated = rec.GroupCreated || made
	for _, a := range o.Approvers {
		added, err := addToGroup(a.Account, rootside.ApproversGroup)
		if err != nil {
			return rec, err
		}
		if added && !slices.Contains(rec.GroupAdded, a.Account) {
			rec.GroupAdded = append(rec.GroupAdded, a.Account)
		}
	}

	// Directories.
	for _, d := range []struct {
		path string
		mode os.FileMode
		gid  int
	}{
		{l.LibexecDir(), 0o755, 0}, {l.ConfigDir(), 0o755, 0}, {l.VarDir(), 0o711, 0}, {l.StateDir(), 0o700, 0},
		{l.StagingDir(), 0o700, 0}, {l.PendingDir(), 0o750, gid}, {l.InboxDir(), 0o1733, 0}, {l.LogDir(), 0o755, 0},
	} {
		if err := mkdir(d.path, d.mode, d.gid); err != nil {
			return rec, err
		}
	}
	if err := os.Chmod(l.InboxDir(), 0o1733|os.ModeSticky); err != nil {
		return rec, err
	}

	// The binaries.
	for _, b := range [][2]string{{helperSrc, l.Helper()}, {shimSrc, l.SudoShim()}, {o.Binary, l.CLI()}} {
		if _, err := os.Lstat(b[1]); err != nil {
			created(b[1])
		}
		if err := copyRoot(b[0], b[1], 0o755); err != nil {
			return rec, err
		}
	}
	if data, err := os.ReadFile(l.Helper()); err == nil {
		rec.HelperSHA = hexSHA(data)
	}

	// Configuration.
	s, err := l.LoadSettings()
	if err != nil {
		s = rootside.Settings{Version: rootside.SettingsVersion, InstallID: randomID(), ApprovalTimeout: rootside.Duration(rootside.DefaultApprovalTimeout),
			MaxPending: rootside.DefaultMaxPending, MaxRequestBytes: rootside.DefaultMaxRequestBytes}
	}
	s.AgentUser, s.AgentUID, s.Forced = o.AgentUser, agentUID, !rep.Clean()
	o.applyAuditSyslog(&s)
	s.ClawwardenVersion = versionOf(o.Binary)
	settings, _ := json.MarshalIndent(s, "", "  ")
	for _, f := range []struct {
		path string
		data []byte
	}{
		{l.SettingsFile(), append(settings, '\n')},
		{l.AllowedSigners(), signers},
	} {
		if _, err := os.Lstat(f.path); err != nil {
			created(f.path)
		}
		if err := writeRoot(f.path, f.data, 0o644, 0); err != nil {
			return rec, err
		}
	}
	if _, err := os.Lstat(l.PolicyFile()); err != nil {
		pol, from, err := agentPolicy(agent.HomeDir)
		if err != nil {
			return rec, err
		}
		o.say("command policy (from %s), now root's in %s:\n%s", from, l.PolicyFile(), indent(string(pol)))
		created(l.PolicyFile())
		if err := writeRoot(l.PolicyFile(), pol, 0o644, 0); err != nil {
			return rec, err
		}
	}
	if _, err := os.Lstat(l.AuditLog()); err != nil {
		created(l.AuditLog())
		if err := writeRoot(l.AuditLog(), nil, 0o644, 0); err != nil {
			return rec, err
		}
	}

	// The one sudo right, checked by visudo before it is in place.
	rule := []byte(SudoersRule(l, o.AgentUser))
	if cur, err := os.ReadFile(l.SudoersFile()); err == nil && hexSHA(cur) != rec.SudoersSHA {
		return rec, fmt.Errorf("%s exists and is not what clawwarden wrote; move it aside first", l.SudoersFile())
	}
	if err := installSudoers(l.SudoersFile(), rule, o.Visudo); err != nil {
		return rec, err
	}
	rec.SudoersSHA = hexSHA(rule)

	// The agent's shims: sudo and sudoedit go to the root helper.
	linked, err := linkShims(agent.HomeDir, []string{"sudo", "sudoedit"}, l.SudoShim(), agentUID, agentGID)
	if err != nil {
		o.say("  could not install the agent's shims: %v", err)
	}
	for _, p := range linked {
		if !slices.Contains(rec.Shims, p) {
			rec.Shims = append(rec.Shims, p)
		}
	}

	data, _ := json.MarshalIndent(rec, "", "  ")
	if err := writeRoot(recordPath(l), append(data, '\n'), 0o600, 0); err != nil {
		return rec, err
	}
	o.say("enforced mode installed for %s: its one sudo right is %s", o.AgentUser, l.Helper())
	return rec, nil
}

// approverSigners builds allowed_signers from the approvers' key files,
// each checked by the same strict parser the helper uses.
func approverSigners(as []Approver, agent string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# clawwarden approvers: principal key (written by 'clawwarden enforce install'; options are refused)\n")
	for _, a := range as {
		if a.Account == agent {
			return nil, fmt.Errorf("the agent account %s cannot be an approver", agent)
		}
		if _, err := user.Lookup(a.Account); err != nil {
			return nil, fmt.Errorf("approver %q: %w", a.Account, err)
		}
		key, err := os.ReadFile(a.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("approver %s: %w", a.Account, err)
		}
		fields := strings.Fields(string(key))
		if len(fields) < 2 {
			return nil, fmt.Errorf("approver %s: %s is not an OpenSSH public key", a.Account, a.KeyFile)
		}
		fmt.Fprintf(&b, "%s %s %s\n", a.Account, fields[0], fields[1])
	}
	if _, err := signed.ParseAllowedSigners(bytes.NewReader(b.Bytes())); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// sameBuild checks that the root helper beside the CLI comes from the same
// build: the same Go version, module version and build settings (VCS
// revision, -ldflags with the version).
func sameBuild(cli, helper string) error {
	a, err := buildinfo.ReadFile(cli)
	if err != nil {
		return fmt.Errorf("read the build of %s: %w", cli, err)
	}
	b, err := buildinfo.ReadFile(helper)
	if err != nil {
		return fmt.Errorf("the root helper %s (built and released beside clawwarden): %w", helper, err)
	}
	settings := func(bi *buildinfo.BuildInfo) string {
		var out []string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision", "vcs.modified", "-ldflags", "GOOS", "GOARCH":
				out = append(out, s.Key+"="+s.Value)
			}
		}
		return strings.Join(out, " ")
	}
	if a.GoVersion != b.GoVersion || a.Main.Version != b.Main.Version || settings(a) != settings(b) {
		return fmt.Errorf("%s and %s are not from the same build (%s %s [%s] vs %s %s [%s]); install both from one release",
			cli, helper, a.GoVersion, a.Main.Version, settings(a), b.GoVersion, b.Main.Version, settings(b))
	}
	return nil
}

func versionOf(bin string) string {
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		return "unknown"
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			return bi.Main.Version + " " + s.Value
		}
	}
	return bi.Main.Version
}

// agentPolicy is the command policy to move root-side: the agent's own file
// when it has one, else an empty policy (the built-in rules apply).
func agentPolicy(home string) ([]byte, string, error) {
	p := filepath.Join(home, ".openclaw", "security", "command-policy.json")
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return []byte("{}\n"), "no policy file of the agent's: an empty policy", nil
	}
	if err != nil {
		return nil, "", err
	}
	if _, err := policy.Parse(data, p); err != nil {
		return nil, "", err
	}
	return data, p, nil
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func hexSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// copyRoot copies src to dst atomically, root-owned with mode.
func copyRoot(src, dst string, mode os.FileMode) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return writeRoot(dst, data, mode, 0)
}

// writeRoot writes dst atomically (temp file, fsync, rename), owned by root
// and gid, with mode.
func writeRoot(dst string, data []byte, mode os.FileMode, gid int) error {
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".clawwarden-tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chown(0, gid); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

// installSudoers writes the rule to a temp file in the sudoers directory
// (which sudo ignores: its name has a dot), checks it with visudo -cf, then
// renames it into place.
func installSudoers(path string, rule []byte, visudo func(string) error) error {
	tmp := filepath.Join(filepath.Dir(path), ".clawwarden.tmp")
	if err := writeRoot(tmp, rule, 0o440, 0); err != nil {
		return err
	}
	defer os.Remove(tmp)
	if visudo == nil {
		visudo = func(p string) error {
			out, err := exec.Command("visudo", "-cqf", p).CombinedOutput()
			if err != nil {
				return fmt.Errorf("visudo -cf %s: %v: %s", p, err, bytes.TrimSpace(out))
			}
			return nil
		}
	}
	if err := visudo(tmp); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ensureGroup creates the group when missing.
func ensureGroup(name string) (gid int, created bool, err error) {
	if g, err := user.LookupGroup(name); err == nil {
		gid, _ = strconv.Atoi(g.Gid)
		return gid, false, nil
	}
	if out, err := exec.Command("groupadd", "--system", name).CombinedOutput(); err != nil {
		return 0, false, fmt.Errorf("groupadd %s: %v: %s", name, err, bytes.TrimSpace(out))
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, false, err
	}
	gid, _ = strconv.Atoi(g.Gid)
	return gid, true, nil
}

// addToGroup adds account to group and reports whether it was not in it.
func addToGroup(account, group string) (bool, error) {
	u, err := user.Lookup(account)
	if err != nil {
		return false, err
	}
	g, err := user.LookupGroup(group)
	if err != nil {
		return false, err
	}
	if ids, err := u.GroupIds(); err == nil && slices.Contains(ids, g.Gid) {
		return false, nil
	}
	if out, err := exec.Command("gpasswd", "-a", account, group).CombinedOutput(); err != nil {
		return false, fmt.Errorf("gpasswd -a %s %s: %v: %s", account, group, err, bytes.TrimSpace(out))
	}
	return true, nil
}

// Uninstall removes exactly what Install recorded adding, and keeps the
// audit log.
func Uninstall(o Options) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: run it as root", ErrUnsupported)
	}
	l := o.Layout
	rec, err := LoadRecord(l)
	if err != nil {
		return fmt.Errorf("enforced mode is not installed here (no record of an install: %v)", err)
	}
	if cur, err := os.ReadFile(l.SudoersFile()); err == nil {
		if hexSHA(cur) != rec.SudoersSHA {
			return fmt.Errorf("%s changed since install; remove it yourself after checking it, then run uninstall again", l.SudoersFile())
		}
		if err := os.Remove(l.SudoersFile()); err != nil {
			return err
		}
		o.say("removed %s", l.SudoersFile())
	}
	for _, p := range rec.Shims {
		switch removed, err := unlinkShim(p, l.SudoShim(), l.CLI()); {
		case err != nil:
			o.say("left %s: %v", p, err)
		case removed:
			o.say("removed %s", p)
		}
	}
	for _, a := range rec.GroupAdded {
		if out, err := exec.Command("gpasswd", "-d", a, rootside.ApproversGroup).CombinedOutput(); err != nil {
			o.say("could not take %s out of %s: %v: %s", a, rootside.ApproversGroup, err, bytes.TrimSpace(out))
		}
	}
	keep := func(p string) bool { return p == l.AuditLog() || p == l.LogDir() }
	own := map[string]bool{l.LibexecDir(): true, l.ConfigDir(): true, l.VarDir(): true, l.StateDir(): true,
		l.StagingDir(): true, l.PendingDir(): true, l.InboxDir(): true}
	for i := len(rec.Created) - 1; i >= 0; i-- {
		p := rec.Created[i]
		if keep(p) {
			continue
		}
		remove := os.Remove // a parent install created: only if nothing else is in it now
		if own[p] {
			remove = os.RemoveAll
		}
		if err := remove(p); err != nil {
			o.say("could not remove %s: %v", p, err)
			continue
		}
		o.say("removed %s", p)
	}
	os.Remove(recordPath(l))
	os.Remove(l.StateDir())
	os.Remove(l.VarDir())
	if rec.GroupCreated {
		if out, err := exec.Command("groupdel", rootside.ApproversGroup).CombinedOutput(); err != nil {
			o.say("could not remove the group %s: %v: %s", rootside.ApproversGroup, err, bytes.TrimSpace(out))
		}
	}
	o.say("kept %s (the record of what ran as root); remove it yourself when it is no longer needed", l.LogDir())
	return nil
}

// Status is what 'enforce status' reports.
type Status struct {
	Installed bool            `json:"installed"`
	Enforced  bool            `json:"enforced"`
	AgentUser string          `json:"agent_user,omitempty"`
	Reasons   []string        `json:"reasons"` // why not enforced; empty when enforced
	Boundary  boundary.Report `json:"boundary"`
	Signers   []string        `json:"signers,omitempty"`
	// AuditSyslog: the root helper also sends audit records to the host's
	// log pipeline.
	AuditSyslog bool `json:"audit_syslog"`
}

// Check reports whether enforced mode holds: installed, the helper and its
// sudoers rule in place and unchanged, allowed signers valid, and no other
// route to root for the agent account.
func Check(ctx context.Context, o Options) Status {
	l := o.Layout
	var st Status
	s, err := l.LoadSettings()
	if err != nil {
		st.Reasons = append(st.Reasons, err.Error())
		return st
	}
	st.Installed, st.AgentUser, st.AuditSyslog = true, s.AgentUser, s.AuditSyslog
	if os.Geteuid() != 0 {
		st.Reasons = append(st.Reasons, "not checked in full: run 'clawwarden enforce status' as root (sudo rights, root-only files and other routes to root are root's to read)")
		st.Boundary = boundary.Report{Account: s.AgentUser}
		return st
	}
	if _, err := rootfile.Check(l.Helper(), rootfile.NotSetuid); err != nil {
		st.Reasons = append(st.Reasons, "root helper: "+err.Error())
	}
	if _, err := rootfile.Check(l.SudoShim(), rootfile.NotSetuid); err != nil {
		st.Reasons = append(st.Reasons, "the agent's sudo: "+err.Error())
	}
	rec, err := LoadRecord(l)
	if data, herr := os.ReadFile(l.Helper()); err == nil && herr == nil && rec.HelperSHA != "" && hexSHA(data) != rec.HelperSHA {
		st.Reasons = append(st.Reasons, l.Helper()+" changed since install (its SHA-256 is not the one install copied)")
	}
	for _, d := range []struct {
		path string
		mode os.FileMode
	}{
		{l.ConfigDir(), 0o755}, {l.VarDir(), 0o711}, {l.StateDir(), 0o700}, {l.PendingDir(), 0o750},
		{l.InboxDir(), 0o1733 | os.ModeSticky}, {l.LogDir(), 0o755}, {l.AuditLog(), 0o644},
	} {
		fi, err := os.Lstat(d.path)
		if err != nil {
			st.Reasons = append(st.Reasons, err.Error())
			continue
		}
		want := d.mode & (os.ModePerm | os.ModeSticky)
		got := fi.Mode() & (os.ModePerm | os.ModeSticky)
		if sys, ok := fi.Sys().(*syscall.Stat_t); !ok || sys.Uid != 0 || (got != want && !(d.path == l.AuditLog() && got&0o022 == 0)) {
			st.Reasons = append(st.Reasons, fmt.Sprintf("%s is %v, owner uid %d; install made it %v, root's", d.path, got, sysUID(fi), want))
		}
	}
	switch cur, rerr := os.ReadFile(l.SudoersFile()); {
	case rerr != nil:
		st.Reasons = append(st.Reasons, "the sudoers rule is missing: "+rerr.Error())
	case err == nil && hexSHA(cur) != rec.SudoersSHA:
		st.Reasons = append(st.Reasons, l.SudoersFile()+" changed since install")
	}
	if data, err := rootside.ReadRootFile(l.AllowedSigners()); err != nil {
		st.Reasons = append(st.Reasons, "allowed signers: "+err.Error())
	} else if signers, err := signed.ParseAllowedSigners(bytes.NewReader(data)); err != nil {
		st.Reasons = append(st.Reasons, "allowed signers: "+err.Error())
	} else {
		for _, sg := range signers {
			kind := "key file or agent"
			if signed.HardwareBacked(sg.Key) {
				kind = "hardware key (touch)"
			}
			st.Signers = append(st.Signers, strings.Join(sg.Principals, ",")+" "+signed.Fingerprint(sg.Key)+" ("+kind+")")
		}
		if len(signers) == 0 {
			st.Reasons = append(st.Reasons, "no approver in "+l.AllowedSigners())
		}
	}
	st.Boundary = boundary.Check(ctx, boundary.Options{Account: s.AgentUser, Helper: l.Helper(), Root: l.Root, Sudo: o.Sudo})
	for _, f := range st.Boundary.Findings {
		st.Reasons = append(st.Reasons, "route to root: "+f.Detail+" (fix: "+f.Fix+")")
	}
	if s.Forced && len(st.Boundary.Findings) > 0 {
		st.Reasons = append(st.Reasons, "installed with --force")
	}
	st.Enforced = len(st.Reasons) == 0
	return st
}

func sysUID(fi os.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}
