package assess

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/clawwarden/clawwarden/internal/approval"
	"github.com/clawwarden/clawwarden/internal/audit"
	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/egress"
	"github.com/clawwarden/clawwarden/internal/openclaw"
	"github.com/clawwarden/clawwarden/internal/policy"
	"github.com/clawwarden/clawwarden/internal/ports"
	"github.com/clawwarden/clawwarden/internal/quote"
	"github.com/clawwarden/clawwarden/internal/safefile"
	"github.com/clawwarden/clawwarden/internal/session"
)

// evidence is everything the checks judge: the caller's [Options] (the
// hook's status, OpenClaw's exec policy and audit, the live gateway scan,
// the environment) and what [gather] read from the host. The judges in
// checks.go read only this struct, never the host, so they are tested with
// evidence built in the test.
type evidence struct {
	Options

	goos string // runtime.GOOS: the ptrace finding applies to Linux

	cfg    *openclaw.Config
	cfgErr error // why cfg is nil

	sudo SudoPosture

	portsRep  *ports.Report
	portsErr  error
	egressRep *egress.Report
	egressErr error
	network   []NetworkFinding
	chain     ChainVerdict
	recent    []Action

	tiocsti fileRead // /proc/sys/dev/tty/legacy_tiocsti
	ptrace  fileRead // /proc/sys/kernel/yama/ptrace_scope
	pam     pamStack // /etc/pam.d/sudo and what it includes

	stateErr   error      // why the OpenClaw state directory cannot be read
	stateFiles []fileMode // OpenClaw state, config and credentials that exist
	// openclawFiles counts OpenClaw's own files among them (its config,
	// credentials, agents): a state directory that holds only clawwarden's
	// files says nothing about how OpenClaw keeps its secrets.
	openclawFiles int

	privBinaries []fileMode // privilegeBinaries present, by their unrooted path
	doasConf     fileRead   // /etc/doas.conf

	backupDirs     []string // where backups were looked for
	newestBackup   string   // "" when none was found
	newestBackupAt time.Time

	aptDir   string
	aptErr   error      // why aptDir cannot be listed
	aptFiles []fileRead // the readable files of aptDir, in name order

	allowlistPath  string
	allowlistRules int
	allowlistErr   error

	promptPath  string
	prompt      policy.PromptPolicy
	promptFound bool
	promptErr   error

	commandPath   string
	commandErr    error
	commandCounts map[string]int // rules per list of the command policy

	sessionPath    string
	session        session.State
	sessionFound   bool
	sessionErr     error
	sessionCorrupt bool // sessionErr is a parse error, not a read error

	passphrasePath string
	passphrase     *approval.Passphrase
	passphraseErr  error

	inputErrors []string
}

// fileRead is one small file read whole.
type fileRead struct {
	path string
	data []byte
	err  error
}

// fileMode is the mode of a path that exists.
type fileMode struct {
	path string
	mode fs.FileMode
}

// pamStack is sudo's PAM configuration: its file and, by the name its
// include line gives (made absolute under /etc/pam.d), each file it
// includes.
type pamStack struct {
	sudo     pamFile
	includes map[string]pamFile
}

// pamFile is one PAM configuration file read into rules.
type pamFile struct {
	path  string
	lines []pamLine
	err   error
}

// gather reads the evidence of an assessment from the host.
func gather(ctx context.Context, o Options) evidence {
	ev := evidence{Options: o, goos: runtime.GOOS}
	ev.cfg, ev.cfgErr = openclaw.LoadConfig(o.ConfigPath)
	ev.inputError(ev.cfgErr)
	ev.gatherSudo(ctx)
	ev.gatherNetwork()
	ev.gatherAudit()
	ev.gatherHost()
	ev.gatherState()
	ev.gatherFiles()
	return ev
}

// root joins the assessment's filesystem root and an absolute path.
func (ev *evidence) root(p string) string {
	if ev.Root == "" {
		return p
	}
	return filepath.Join(ev.Root, p)
}

// inputError records a malformed input (exit status 12).
func (ev *evidence) inputError(err error) {
	if errors.Is(err, safefile.ErrInvalid) || errors.Is(err, safefile.ErrUnsafe) {
		ev.inputErrors = append(ev.inputErrors, err.Error())
	}
}

// gatherSudo reads the sudoers files, or asks `sudo -n -l` when they cannot
// be read.
func (ev *evidence) gatherSudo(ctx context.Context) {
	p, err := readSudoers(ev.root("/etc/sudoers"), ev.root("/etc/sudoers.d"), ev.User, ev.Groups)
	switch {
	case err == nil:
		ev.sudo = p
	case ev.SudoList == nil:
		ev.sudo = SudoPosture{Source: "none", Unknown: err.Error()}
	default:
		out, lerr := ev.SudoList(ctx)
		if lerr != nil {
			ev.sudo = SudoPosture{Source: "none", Unknown: fmt.Sprintf("%v; sudo -n -l: %v", err, lerr)}
			return
		}
		ev.sudo = parseSudoList(string(out))
	}
}

// readReport reads a JSON report of clawwarden's own.
func readReport[T any](path string) (*T, error) {
	data, err := safefile.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r T
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", path, safefile.ErrInvalid, err)
	}
	return &r, nil
}

// gatherNetwork reads the latest port and egress reports.
func (ev *evidence) gatherNetwork() {
	ev.network = []NetworkFinding{}
	ev.portsRep, ev.portsErr = readReport[ports.Report](filepath.Join(ev.ReportsDir, ports.ReportFile))
	ev.inputError(ev.portsErr)
	ev.egressRep, ev.egressErr = readReport[egress.Report](filepath.Join(ev.ReportsDir, egress.ReportFile))
	ev.inputError(ev.egressErr)
	if ev.portsRep != nil {
		for _, f := range ev.portsRep.Findings {
			ev.network = append(ev.network, NetworkFinding{Report: "ports", CheckID: f.CheckID, Status: f.Status, Risk: f.Risk, Title: f.Title,
				Protocol: f.Protocol, Address: f.BindAddress, Port: f.Port, Process: f.Process, PID: f.PID, Flags: f.Flags})
		}
	}
	if ev.egressRep != nil {
		for _, f := range ev.egressRep.Findings {
			ev.network = append(ev.network, NetworkFinding{Report: "egress", CheckID: f.CheckID, Status: f.Status, Risk: f.Risk, Title: f.Title,
				Protocol: f.Protocol, Address: f.RemoteAddress, Port: f.Port, Process: f.Process, PID: f.PID, Flags: f.Flags})
		}
	}
}

// gatherAudit verifies the audit chain and reads its latest records.
func (ev *evidence) gatherAudit() {
	path := ev.Paths.Security(config.AuditLogFile)
	ev.chain = ChainVerdict{File: path}
	ev.recent = []Action{}
	res, err := audit.VerifyFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		ev.chain.Status, ev.chain.Detail = "missing", "no audit log yet"
		return
	case err != nil:
		ev.chain.Status, ev.chain.Detail = "unreadable", err.Error()
		return
	}
	ev.chain.Records, ev.chain.Legacy, ev.chain.Head = res.Records, res.Legacy, res.Head
	if res.Broken != nil {
		ev.chain.Status = "broken"
		ev.chain.Detail = fmt.Sprintf("line %d: %s", res.Broken.Line, res.Broken.Reason)
	} else {
		ev.chain.Status = "ok"
		ev.chain.Detail = fmt.Sprintf("%d chained records verify", res.Records)
	}
	entries, err := audit.Tail(path, ev.RecentActions)
	if err != nil {
		return
	}
	for _, en := range entries {
		if en.Invalid != "" || en.Legacy {
			continue
		}
		r := en.Record
		ev.recent = append(ev.recent, Action{
			Time: r.Time.UTC().Format(time.RFC3339), Event: r.Event, Command: quote.Argv(r.Argv),
			Decision: r.Decision, Session: quote.Text(r.SessionID), Reason: quote.Text(r.Reason),
		})
	}
}

// readFile reads the file at p under the assessment's root.
func (ev *evidence) readFile(p string) fileRead {
	p = ev.root(p)
	data, err := os.ReadFile(p)
	return fileRead{path: p, data: data, err: err}
}

// gatherHost reads the kernel switches, sudo's PAM stack, the other
// privilege tools, the backups and the update settings.
func (ev *evidence) gatherHost() {
	ev.tiocsti = ev.readFile("/proc/sys/dev/tty/legacy_tiocsti")
	ev.ptrace = ev.readFile("/proc/sys/kernel/yama/ptrace_scope")
	ev.pam = ev.readPAM()
	for _, b := range privilegeBinaries {
		if fi, err := os.Stat(ev.root(b)); err == nil && !fi.IsDir() {
			ev.privBinaries = append(ev.privBinaries, fileMode{path: b, mode: fi.Mode()})
		}
	}
	ev.doasConf = ev.readFile("/etc/doas.conf")
	ev.gatherBackups()
	ev.aptDir = ev.root("/etc/apt/apt.conf.d")
	ents, err := os.ReadDir(ev.aptDir)
	ev.aptErr = err
	for _, en := range ents {
		p := filepath.Join(ev.aptDir, en.Name())
		if data, err := os.ReadFile(p); err == nil {
			ev.aptFiles = append(ev.aptFiles, fileRead{path: p, data: data})
		}
	}
}

// readPAM reads /etc/pam.d/sudo and the files it includes, one level deep.
func (ev *evidence) readPAM() pamStack {
	st := pamStack{sudo: readPAMFile(ev.root("/etc/pam.d/sudo")), includes: map[string]pamFile{}}
	for _, l := range st.sudo.lines {
		inc := pamInclude(l)
		if _, done := st.includes[inc]; inc != "" && !done {
			st.includes[inc] = readPAMFile(ev.root(inc))
		}
	}
	return st
}

// readPAMFile reads one PAM configuration file.
func readPAMFile(path string) pamFile {
	data, err := os.ReadFile(path)
	if err != nil {
		return pamFile{path: path, err: err}
	}
	return pamFile{path: path, lines: parsePAM(path, data)}
}

// gatherBackups finds the newest `openclaw backup create` archive.
func (ev *evidence) gatherBackups() {
	ev.backupDirs = []string{ev.Paths.Home, filepath.Join(ev.Paths.Home, "backups")}
	for _, d := range ev.backupDirs {
		ents, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, en := range ents {
			if !strings.HasSuffix(en.Name(), "openclaw-backup.tar.gz") {
				continue
			}
			fi, err := en.Info()
			if err == nil && fi.ModTime().After(ev.newestBackupAt) {
				ev.newestBackup, ev.newestBackupAt = filepath.Join(d, en.Name()), fi.ModTime()
			}
		}
	}
}

// gatherState reads the modes of OpenClaw's state directory, configuration
// and credentials.
func (ev *evidence) gatherState() {
	state := ev.Paths.StateDir
	if _, ev.stateErr = os.Lstat(state); ev.stateErr != nil {
		return
	}
	look := func(p string, openclaws bool) {
		if fi, err := os.Lstat(p); err == nil {
			ev.stateFiles = append(ev.stateFiles, fileMode{path: p, mode: fi.Mode()})
			if openclaws {
				ev.openclawFiles++
			}
		}
	}
	look(state, false)
	look(ev.ConfigPath, true)
	look(ev.Paths.SecurityDir, false)
	for _, dir := range []string{filepath.Join(state, "credentials"), filepath.Join(state, "agents")} {
		look(dir, true)
		ents, _ := os.ReadDir(dir)
		for _, en := range ents {
			look(filepath.Join(dir, en.Name()), true)
		}
	}
}

// gatherFiles reads clawwarden's own files: the hook's status error, the
// prompt and command policies, the session state, the approval passphrase
// and the egress allowlist. Malformed ones are input errors, in this order.
func (ev *evidence) gatherFiles() {
	if ev.Hook == nil {
		ev.inputError(ev.HookErr)
	}
	ev.promptPath = ev.Paths.Security(config.PromptPolicyFile)
	ev.prompt, ev.promptFound, ev.promptErr = policy.LoadPrompt(ev.promptPath)
	ev.inputError(ev.promptErr)

	ev.commandPath = ev.Paths.Security(config.CommandPolicyFile)
	if _, ev.commandErr = policy.Load(ev.commandPath); ev.commandErr == nil {
		// policy.Load validated the file; count its rules for the evidence.
		data, _ := safefile.ReadFile(ev.commandPath)
		var lists map[string][]json.RawMessage
		_ = json.Unmarshal(data, &lists)
		ev.commandCounts = map[string]int{}
		for k, v := range lists {
			ev.commandCounts[k] = len(v)
		}
	}
	ev.inputError(ev.commandErr)

	ev.gatherSession()

	// The passphrase is same-user mode's second factor; enforced mode's
	// approvers sign instead.
	if ev.Enforced == nil {
		ev.passphrasePath = ev.Paths.Security(config.PassphraseFile)
		ev.passphrase, ev.passphraseErr = approval.LoadPassphrase(ev.passphrasePath)
		ev.inputError(ev.passphraseErr)
	}

	ev.allowlistPath = ev.Paths.Security(config.EgressAllowlistFile)
	rules, err := egress.LoadAllowlist(ev.allowlistPath)
	ev.allowlistRules, ev.allowlistErr = len(rules), err
	ev.inputError(err)
}

// gatherSession reads the session state of same-user approvals.
func (ev *evidence) gatherSession() {
	ev.sessionPath = ev.Paths.Security(config.SessionStateFile)
	data, err := safefile.ReadFile(ev.sessionPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		ev.sessionErr = err
	default:
		ev.sessionFound = true
		ev.session, ev.sessionErr = session.Parse(data, ev.sessionPath)
		ev.sessionCorrupt = ev.sessionErr != nil
	}
	ev.inputError(ev.sessionErr)
}
