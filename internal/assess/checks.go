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
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clawwarden/clawwarden/internal/approval"
	"github.com/clawwarden/clawwarden/internal/audit"
	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/egress"
	"github.com/clawwarden/clawwarden/internal/hook"
	"github.com/clawwarden/clawwarden/internal/openclaw"
	"github.com/clawwarden/clawwarden/internal/policy"
	"github.com/clawwarden/clawwarden/internal/ports"
	"github.com/clawwarden/clawwarden/internal/quote"
	"github.com/clawwarden/clawwarden/internal/safefile"
	"github.com/clawwarden/clawwarden/internal/session"
)

// evaluator holds the evidence gathered once and shared by the checks.
type evaluator struct {
	o    Options
	ctx  context.Context
	byID map[string]*Check

	cfg    *openclaw.Config
	cfgErr error // why cfg is nil

	sudo SudoPosture

	portsRep    *ports.Report
	portsErr    error
	egressRep   *egress.Report
	egressErr   error
	network     []NetworkFinding
	chain       ChainVerdict
	recent      []Action
	inputErrors []string
}

// root joins the assessment's filesystem root and an absolute path.
func (e *evaluator) root(p string) string {
	if e.o.Root == "" {
		return p
	}
	return filepath.Join(e.o.Root, p)
}

// inputError records a malformed input (exit status 12).
func (e *evaluator) inputError(err error) {
	if errors.Is(err, safefile.ErrInvalid) || errors.Is(err, safefile.ErrUnsafe) {
		e.inputErrors = append(e.inputErrors, err.Error())
	}
}

func (e *evaluator) gather() {
	e.cfg, e.cfgErr = openclaw.LoadConfig(e.o.ConfigPath)
	e.inputError(e.cfgErr)
	e.gatherSudo()
	e.gatherNetwork()
	e.gatherAudit()
}

func (e *evaluator) gatherSudo() {
	p, err := readSudoers(e.root("/etc/sudoers"), e.root("/etc/sudoers.d"), e.o.User, e.o.Groups)
	if err == nil {
		e.sudo = p
		return
	}
	why := err.Error()
	if e.o.SudoList == nil {
		e.sudo = SudoPosture{Source: "none", Unknown: why}
		return
	}
	out, lerr := e.o.SudoList(e.ctx)
	if lerr != nil {
		e.sudo = SudoPosture{Source: "none", Unknown: fmt.Sprintf("%s; sudo -n -l: %v", why, lerr)}
		return
	}
	e.sudo = parseSudoList(string(out))
}

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

func (e *evaluator) gatherNetwork() {
	e.network = []NetworkFinding{}
	e.portsRep, e.portsErr = readReport[ports.Report](filepath.Join(e.o.ReportsDir, ports.ReportFile))
	e.inputError(e.portsErr)
	e.egressRep, e.egressErr = readReport[egress.Report](filepath.Join(e.o.ReportsDir, egress.ReportFile))
	e.inputError(e.egressErr)
	if e.portsRep != nil {
		for _, f := range e.portsRep.Findings {
			e.network = append(e.network, NetworkFinding{Report: "ports", CheckID: f.CheckID, Status: f.Status, Risk: f.Risk, Title: f.Title,
				Protocol: f.Protocol, Address: f.BindAddress, Port: f.Port, Process: f.Process, PID: f.PID, Flags: f.Flags})
		}
	}
	if e.egressRep != nil {
		for _, f := range e.egressRep.Findings {
			e.network = append(e.network, NetworkFinding{Report: "egress", CheckID: f.CheckID, Status: f.Status, Risk: f.Risk, Title: f.Title,
				Protocol: f.Protocol, Address: f.RemoteAddress, Port: f.Port, Process: f.Process, PID: f.PID, Flags: f.Flags})
		}
	}
}

func (e *evaluator) gatherAudit() {
	path := e.o.Paths.Security(config.AuditLogFile)
	e.chain = ChainVerdict{File: path}
	e.recent = []Action{}
	res, err := audit.VerifyFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		e.chain.Status, e.chain.Detail = "missing", "no audit log yet"
		return
	case err != nil:
		e.chain.Status, e.chain.Detail = "unreadable", err.Error()
		return
	}
	e.chain.Records, e.chain.Legacy, e.chain.Head = res.Records, res.Legacy, res.Head
	if res.Broken != nil {
		e.chain.Status = "broken"
		e.chain.Detail = fmt.Sprintf("line %d: %s", res.Broken.Line, res.Broken.Reason)
	} else {
		e.chain.Status = "ok"
		e.chain.Detail = fmt.Sprintf("%d chained records verify", res.Records)
	}
	entries, err := audit.Tail(path, e.o.RecentActions)
	if err != nil {
		return
	}
	for _, en := range entries {
		if en.Invalid != "" || en.Legacy {
			continue
		}
		r := en.Record
		e.recent = append(e.recent, Action{
			Time: r.Time.UTC().Format(time.RFC3339), Event: r.Event, Command: quote.Argv(r.Argv),
			Decision: r.Decision, Session: quote.Text(r.SessionID), Reason: quote.Text(r.Reason),
		})
	}
}

// outcome is the judgement of one check: the fields of a [Check] that the
// evidence decides. Gap and Mitigation are dropped when Status is compliant.
type outcome struct {
	Status     string
	Risk       string
	Observed   string // the state found, in one sentence
	Evidence   string // what was read, where
	Gap        string // what falls short of the control
	Mitigation string // what to change, where
}

// set fills a check's outcome.
func (e *evaluator) set(id string, out outcome) {
	c := e.byID[id]
	c.Status, c.Risk, c.Observed, c.Evidence, c.Gap, c.Mitigation = out.Status, out.Risk, out.Observed, out.Evidence, out.Gap, out.Mitigation
	if out.Status == StatusCompliant {
		c.Gap, c.Mitigation = "", ""
	}
}

func (e *evaluator) evaluate() {
	e.privilegeApproval()
	e.leastPrivilege()
	e.elevationTimeout()
	e.privilegeBoundary()
	e.auditLogging()
	e.portChecks()
	e.channelChecks()
	e.gatewayLoopback()
	e.secretsPermissions()
	e.runtimeHook()
	e.alternatePaths()
	e.backup()
	e.updates()
	e.promptInjection()
	e.commandPolicy()
	e.sessionBoundary()
	e.multiFactor()
	e.egressChecks()
}

func (e *evaluator) sudoUnknown(id string) bool {
	if e.sudo.Unknown == "" {
		return false
	}
	e.set(id, outcome{Status: StatusNotAssessed, Risk: RiskMedium, Observed: "the sudoers configuration could not be read",
		Evidence: "sudoers: " + e.sudo.Unknown, Gap: "no evidence about sudo rights for " + e.o.User,
		Mitigation: "Let " + e.o.User + " list its own sudo rules without a password: add `Defaults:" + e.o.User + " listpw=never` with `visudo -f /etc/sudoers.d/clawwarden-assess`, then assess again (`sudo -n -l` is the fallback when /etc/sudoers is unreadable)."})
	return true
}

func ruleList(rules []SudoRule) string {
	var parts []string
	for _, r := range rules {
		parts = append(parts, fmt.Sprintf("%s: %q", r.Origin, r.Text))
	}
	return strings.Join(parts, "; ")
}

func (e *evaluator) privilegeApproval() {
	const id = "privilege_approval_required"
	if e.sudoUnknown(id) {
		return
	}
	var nopw []SudoRule
	for _, r := range e.sudo.Rules {
		if r.NoPasswd {
			nopw = append(nopw, r)
		}
	}
	ev := fmt.Sprintf("%d sudo rule(s) apply to %s in %s", len(e.sudo.Rules), e.o.User, e.sudo.Source)
	if len(nopw) > 0 {
		e.set(id, outcome{Status: StatusViolation, Risk: RiskHigh,
			Observed:   fmt.Sprintf("%d sudo rule(s) let %s run commands as root without a password", len(nopw), e.o.User),
			Evidence:   ev + "; NOPASSWD: " + ruleList(nopw),
			Gap:        "with NOPASSWD the password is not the gate: any process of " + e.o.User + ", the agent included, can call /usr/bin/sudo directly and run these commands as root without clawwarden and without any person approving",
			Mitigation: "Remove the NOPASSWD tag from these rules (edit with `visudo -f FILE`), so sudo asks the person, and route privileged commands through `clawwarden exec`. The fix that holds against a hostile agent is enforced mode: `clawwarden enforce install` gives the agent its own account whose only sudo right is clawwarden's root helper."})
		return
	}
	e.set(id, outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "every sudo rule for " + e.o.User + " needs authentication", Evidence: ev})
}

func (e *evaluator) leastPrivilege() {
	const id = "least_privilege_enforced"
	if e.o.UID == 0 {
		e.set(id, outcome{Status: StatusViolation, Risk: RiskCritical, Observed: "the assessed user is root (uid 0)",
			Evidence:   fmt.Sprintf("assessment ran as %s, uid %d", e.o.User, e.o.UID),
			Gap:        "agents of this user run every command as root, with no approval step",
			Mitigation: "Run the OpenClaw gateway and its agents as an unprivileged user; keep root for `clawwarden exec` approvals. Assess that user's posture by running `clawwarden assess` as it."})
		return
	}
	if e.sudoUnknown(id) {
		return
	}
	var all []SudoRule
	for _, r := range e.sudo.Rules {
		if r.AllCommands {
			all = append(all, r)
		}
	}
	switch {
	case len(e.sudo.Rules) == 0:
		e.set(id, outcome{Status: StatusCompliant, Risk: RiskLow, Observed: e.o.User + " has no sudo rights",
			Evidence: fmt.Sprintf("uid %d; no sudo rule for %s in %s", e.o.UID, e.o.User, e.sudo.Source)})
	case len(all) > 0:
		e.set(id, outcome{Status: StatusPartial, Risk: RiskMedium, Observed: fmt.Sprintf("%s may run ALL commands as root through sudo", e.o.User),
			Evidence:   fmt.Sprintf("uid %d; %s", e.o.UID, ruleList(all)),
			Gap:        "sudo rights are not scoped to the commands the agent's tasks need; only the approval step and the command policy narrow them",
			Mitigation: "Replace `ALL` in these rules with the exact commands needed (Cmnd_Alias in /etc/sudoers.d/), and list them in " + e.o.Paths.Security(config.CommandPolicyFile) + "."})
	default:
		e.set(id, outcome{Status: StatusCompliant, Risk: RiskLow, Observed: fmt.Sprintf("%s may run only named commands through sudo", e.o.User),
			Evidence: fmt.Sprintf("uid %d; %s", e.o.UID, ruleList(e.sudo.Rules))})
	}
}

func (e *evaluator) elevationTimeout() {
	const id = "elevation_timeout_30m"
	if e.sudoUnknown(id) {
		return
	}
	ev := fmt.Sprintf("clawwarden approvals idle out after %s; sudo settings from %s", session.IdleTimeout, e.sudo.Source)
	tt := "timestamp_timeout unset (sudo default 15 minutes)"
	if e.sudo.TimestampTimeout != nil {
		tt = "timestamp_timeout=" + strconv.FormatFloat(*e.sudo.TimestampTimeout, 'f', -1, 64)
	}
	ty := "timestamp_type unset (default tty)"
	if e.sudo.TimestampType != "" {
		ty = "timestamp_type=" + e.sudo.TimestampType
	}
	// Who may reuse a cached ticket (timestamp_type) is privilege_boundary's
	// question; this check is about how long elevation lasts.
	ev += "; " + tt + "; " + ty + ", assessed in privilege_boundary"
	mit := "Set `Defaults:" + e.o.User + " timestamp_timeout=0` in /etc/sudoers.d/ with visudo: clawwarden runs `sudo -k` and needs no cached credentials (if people want a cache, at most 30)."
	switch t := e.sudo.TimestampTimeout; {
	case t != nil && *t < 0:
		e.set(id, outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "sudo credentials never expire (" + tt + ")", Evidence: ev,
			Gap: "once a person authenticates, sudo stays open for good: elevation outlives its task", Mitigation: mit})
	case t != nil && *t > 30:
		e.set(id, outcome{Status: StatusViolation, Risk: RiskMedium, Observed: "sudo caches credentials for more than 30 minutes (" + tt + ")", Evidence: ev,
			Gap: "elevation can outlive the 30-minute idle limit", Mitigation: mit})
	default:
		e.set(id, outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "elevation expires within 30 idle minutes", Evidence: ev})
	}
}

// privilegeBoundary assesses what separates the person from the agent. The
// assessment cannot see enforced mode yet, so it assesses same-user mode,
// where the only secret is the person's sudo password, asked for on every
// `sudo -k` clawwarden runs. That mode is advisory against a hostile agent,
// so the check is never compliant; it is a violation where the password is
// void (NOPASSWD) or sudo's ticket of one terminal serves another, or where
// a process can type into its terminal (TIOCSTI).
func (e *evaluator) privilegeBoundary() {
	const id = "privilege_boundary"
	if en := e.o.Enforced; en != nil {
		ev := "mode: enforced for " + en.AgentUser + "; " + strings.Join(en.Evidence, "; ")
		if en.Enforced {
			e.set(id, outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "enforced mode: " + en.AgentUser + "'s one sudo right is the root helper, and a person approves each command with a signed decision",
				Evidence: ev})
			return
		}
		e.set(id, outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "enforced mode is installed for " + en.AgentUser + " but does not hold: " + strings.Join(en.Reasons, "; "), Evidence: ev,
			Gap:        "the agent account can reach root without a person's signed decision",
			Mitigation: "Close each route listed (the fix is named with it), then check with `clawwarden enforce status` as root."})
		return
	}
	u := e.o.User
	var (
		violation bool
		found     []string // observed, one phrase per finding
		gaps      []string
		fixes     []string
		ev        = []string{"mode: same-user (the assessment does not detect enforced mode yet)"}
	)
	finding := func(v bool, obs, gap, fix string) {
		violation = violation || v
		found, gaps, fixes = append(found, obs), append(gaps, gap), append(fixes, fix)
	}

	if e.sudo.Unknown != "" {
		ev = append(ev, "sudoers: "+e.sudo.Unknown)
		fixes = append(fixes, "let "+u+" list its own sudo rules (`Defaults:"+u+" listpw=never` in /etc/sudoers.d/clawwarden-assess, with visudo) and assess again")
	} else {
		var nopw []SudoRule
		for _, r := range e.sudo.Rules {
			if r.NoPasswd {
				nopw = append(nopw, r)
			}
		}
		if len(nopw) > 0 {
			ev = append(ev, "NOPASSWD rules for "+u+": "+ruleList(nopw))
			finding(true, fmt.Sprintf("%d NOPASSWD sudo rule(s) for %s", len(nopw), u),
				"NOPASSWD: any process of "+u+" runs those commands as root with no password and without clawwarden",
				"remove NOPASSWD from the rules listed (`visudo -f FILE`)")
		} else {
			ev = append(ev, fmt.Sprintf("no NOPASSWD rule among the %d sudo rule(s) for %s in %s", len(e.sudo.Rules), u, e.sudo.Source))
		}

		t := e.sudo.TimestampTimeout
		noCache := t != nil && *t == 0
		switch ty := e.sudo.TimestampType; ty {
		case "global", "ppid":
			at := "timestamp_type=" + ty + " from " + e.sudo.TimestampTypeFrom
			if noCache {
				ev = append(ev, at+", moot while timestamp_timeout=0: sudo keeps no ticket")
				break
			}
			ev = append(ev, at)
			reach := "in any terminal or none"
			if ty == "ppid" {
				reach = "with the same parent process, terminal or not"
			}
			finding(true, "sudo tickets are not bound to a terminal (timestamp_type="+ty+")",
				"timestamp_type="+ty+": a ticket left by the person's own sudo lets any process of "+u+", "+reach+", run sudo with no password and without clawwarden",
				"remove the setting ("+e.sudo.TimestampTypeFrom+") with visudo, or add `Defaults:"+u+" timestamp_type=tty`")
		case "":
			ev = append(ev, "timestamp_type unset (sudo's default, tty: a ticket serves one terminal session)")
		default:
			ev = append(ev, "timestamp_type="+ty+" from "+e.sudo.TimestampTypeFrom)
		}

		switch {
		case noCache:
			ev = append(ev, "timestamp_timeout=0 from "+e.sudo.TimestampTimeoutFrom+": sudo keeps no ticket")
		default:
			val, at, valid := "timestamp_timeout unset, so 15 minutes", "timestamp_timeout unset (sudo's default, 15 minutes)", "valid 15 minutes"
			if t != nil {
				val = "timestamp_timeout=" + strconv.FormatFloat(*t, 'f', -1, 64)
				at = val + " from " + e.sudo.TimestampTimeoutFrom
				valid = "valid " + strconv.FormatFloat(*t, 'f', -1, 64) + " minutes"
				if *t < 0 {
					valid = "with no expiry"
				}
			}
			ev = append(ev, at)
			finding(false, "sudo caches the person's credentials ("+val+")",
				"the person's own `sudo` leaves a ticket ("+valid+") that any process in the same terminal session can use to run sudo with no password and without clawwarden",
				"set `Defaults:"+u+" timestamp_timeout=0` in /etc/sudoers.d/ with visudo (clawwarden runs `sudo -k` and needs no cached credentials)")
		}
	}

	tiocsti := e.root("/proc/sys/dev/tty/legacy_tiocsti")
	switch b, err := os.ReadFile(tiocsti); {
	case errors.Is(err, fs.ErrNotExist):
		ev = append(ev, tiocsti+" not present (not Linux, or a kernel without the switch): TIOCSTI not checked")
	case err != nil:
		ev = append(ev, "TIOCSTI not checked: "+err.Error())
	default:
		switch v := strings.TrimSpace(string(b)); v {
		case "1":
			ev = append(ev, tiocsti+": 1")
			finding(true, "processes can type into their terminal (dev.tty.legacy_tiocsti=1)",
				"TIOCSTI: a process can push keystrokes into the terminal it runs in, so an agent started from the person's shell can queue commands, sudo included, that the person's shell then runs",
				"run `sysctl -w dev.tty.legacy_tiocsti=0` and keep it across reboots with a file in /etc/sysctl.d/ (e.g. `echo dev.tty.legacy_tiocsti=0 > /etc/sysctl.d/60-legacy-tiocsti.conf`)")
		case "0":
			ev = append(ev, tiocsti+": 0 (TIOCSTI needs CAP_SYS_ADMIN)")
		default:
			ev = append(ev, fmt.Sprintf("%s: unexpected value %q: TIOCSTI not checked", tiocsti, v))
		}
	}

	ptrace := e.root("/proc/sys/kernel/yama/ptrace_scope")
	switch b, err := os.ReadFile(ptrace); {
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		ev = append(ev, "ptrace scope not checked: "+err.Error())
	case err != nil || strings.TrimSpace(string(b)) == "0":
		val := "the Yama LSM is not active (" + ptrace + " not present)"
		if err == nil {
			val = ptrace + ": 0"
		}
		ev = append(ev, val)
		if runtime.GOOS == "linux" || e.o.Root != "" {
			finding(false, "any process can trace or rewrite the memory of the account's other processes ("+val+")",
				"a process of the account can attach to the person's shell or to `clawwarden approve` as it starts (before it makes itself non-dumpable) and change what runs",
				"set `kernel.yama.ptrace_scope=1` (a file in /etc/sysctl.d/; needs the Yama LSM in the kernel's lsm= list)")
		}
	default:
		ev = append(ev, ptrace+": "+strings.TrimSpace(string(b)))
	}

	touch, pamEv := e.sudoTouchFactor()
	ev = append(ev, pamEv)
	if !touch {
		fixes = append(fixes, "require a touch for sudo: `apt-get install libpam-u2f pamu2fcfg`, register the key in a root-owned list with `pamu2fcfg | sudo tee -a /etc/u2f_mappings` (a list in the home directory is the agent's to edit), then add `auth required pam_u2f.so cue authfile=/etc/u2f_mappings` to /etc/pam.d/sudo above `@include common-auth` (keep a root shell open until sudo works)")
	}

	status, risk := StatusPartial, RiskMedium
	if violation {
		status, risk = StatusViolation, RiskHigh
	}
	obs := "same-user mode: " + strings.Join(found, "; ")
	switch {
	case len(found) == 0 && e.sudo.Unknown != "":
		obs = "same-user mode; the sudo rights of " + u + " could not be read"
	case len(found) == 0:
		obs = "same-user mode: sudo asks for the person's password on every command clawwarden runs, and nothing found weakens that"
	case e.sudo.Unknown != "":
		obs += "; the sudo rights of " + u + " could not be read"
	}
	if touch {
		obs += "; sudo also needs a touch"
	}
	gap := "same-user mode is advisory against a hostile agent: the person's sudo password is the only thing that tells the person from the agent, and a process of " + u +
		" can alias sudo in the person's shell or type into a terminal multiplexer the person uses"
	if len(gaps) > 0 {
		gap += "; " + strings.Join(gaps, "; ")
	}
	mit := "Run `clawwarden enforce install` (enforced mode, the fix): the agent then runs as its own account whose only sudo right is clawwarden's root helper, and a person approves each command with a signed decision."
	if len(fixes) > 0 {
		mit += " Until then: " + strings.Join(fixes, "; ") + "."
	}
	e.set(id, outcome{Status: status, Risk: risk, Observed: obs, Evidence: strings.Join(ev, "; "), Gap: gap, Mitigation: mit})
}

// touchModules are PAM modules that need a person's touch or fingerprint.
var touchModules = []string{"pam_u2f.so", "pam_tid.so"}

// sudoTouchFactor reports whether the auth stack of /etc/pam.d/sudo needs a
// touch (pam_u2f, or Touch ID's pam_tid on macOS), and says where it looked.
// Includes (@include, include, substack) are followed one level deep.
func (e *evaluator) sudoTouchFactor() (bool, string) {
	sudoFile := e.root("/etc/pam.d/sudo")
	lines, err := pamLines(sudoFile)
	if errors.Is(err, fs.ErrNotExist) {
		return false, sudoFile + " not present: no PAM touch factor for sudo"
	}
	if err != nil {
		return false, "PAM touch factor not checked: " + err.Error()
	}
	read := []string{sudoFile}
	var unread []string
	var weak []string // touch modules that do not gate sudo
	look := func(l pamLine) bool {
		if len(l.fields) < 3 || !slices.Contains(touchModules, filepath.Base(l.fields[2])) {
			return false
		}
		args := l.fields[3:]
		authfile := ""
		for _, a := range args {
			if v, ok := strings.CutPrefix(a, "authfile="); ok {
				authfile = v
			}
		}
		switch {
		case l.fields[1] == "optional":
			weak = append(weak, l.where+" is optional")
		case slices.Contains(args, "alwaysok"):
			weak = append(weak, l.where+" has alwaysok")
		case slices.Contains(args, "nouserok") && !filepath.IsAbs(authfile):
			// The key list lives in the account's home: deleting it
			// skips the touch.
			weak = append(weak, l.where+" has nouserok with the key list in the home directory")
		default:
			return true
		}
		return false
	}
	for _, l := range lines {
		kind := strings.TrimPrefix(l.fields[0], "-")
		var inc string
		switch {
		case kind == "@include" && len(l.fields) > 1:
			inc = l.fields[1]
		case kind == "auth" && len(l.fields) > 2 && (l.fields[1] == "include" || l.fields[1] == "substack"):
			inc = l.fields[2]
		case kind == "auth" && look(l):
			return true, fmt.Sprintf("PAM: %s at %s", filepath.Base(l.fields[2]), l.where)
		}
		if inc == "" {
			continue
		}
		if !filepath.IsAbs(inc) {
			inc = filepath.Join("/etc/pam.d", inc)
		}
		incFile := e.root(inc)
		sub, err := pamLines(incFile)
		if err != nil {
			// A missing include breaks sudo's PAM stack rather than
			// weakening it; anything else is worth saying.
			if !errors.Is(err, fs.ErrNotExist) {
				unread = append(unread, err.Error())
			}
			continue
		}
		read = append(read, incFile)
		for _, s := range sub {
			if strings.TrimPrefix(s.fields[0], "-") == "auth" && look(s) {
				return true, fmt.Sprintf("PAM: %s at %s (included from %s)", filepath.Base(s.fields[2]), s.where, l.where)
			}
		}
	}
	ev := "PAM: no touch factor (pam_u2f) in the auth stack of " + strings.Join(read, ", ")
	if len(weak) > 0 {
		ev += " that sudo requires: " + strings.Join(weak, "; ")
	}
	if len(unread) > 0 {
		ev += "; not read: " + strings.Join(unread, "; ")
	}
	return false, ev
}

// pamLine is one PAM rule: type, control (a bracketed control is one
// field), module path and arguments, or @include and a file.
type pamLine struct {
	where  string // file:line
	fields []string
}

// pamLines reads the rules of a PAM configuration file, without comments
// and blank lines; backslash continuations are joined.
func pamLines(path string) ([]pamLine, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []pamLine
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		no, text := i+1, lines[i]
		for strings.HasSuffix(text, "\\") && i+1 < len(lines) {
			i++
			text = strings.TrimSuffix(text, "\\") + " " + lines[i]
		}
		if c := strings.IndexByte(text, '#'); c >= 0 {
			text = text[:c]
		}
		var fields []string
		for _, f := range strings.Fields(text) {
			if n := len(fields); n > 0 && strings.HasPrefix(fields[n-1], "[") && !strings.HasSuffix(fields[n-1], "]") {
				fields[n-1] += " " + f
				continue
			}
			fields = append(fields, f)
		}
		if len(fields) > 0 {
			out = append(out, pamLine{where: fmt.Sprintf("%s:%d", path, no), fields: fields})
		}
	}
	return out, nil
}

func (e *evaluator) auditLogging() {
	const id = "audit_logging_privileged_actions"
	ch := e.chain
	ev := fmt.Sprintf("%s: %s", ch.File, ch.Detail)
	switch ch.Status {
	case "ok":
		e.set(id, outcome{Status: StatusCompliant, Risk: RiskLow, Observed: fmt.Sprintf("the audit chain verifies (%d records, head %s)", ch.Records, short(ch.Head)), Evidence: ev})
	case "missing":
		e.set(id, outcome{Status: StatusPartial, Risk: RiskMedium, Observed: "no privileged action has been audited yet", Evidence: ev,
			Gap:        "no audit trail exists to review",
			Mitigation: "Route privileged commands through `clawwarden exec` (or install the shim with `clawwarden hook install`) so they are logged to " + ch.File + "."})
	case "broken":
		e.set(id, outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "the audit chain does not verify", Evidence: ev,
			Gap:        "audit records were altered, inserted, removed or torn: the trail cannot be trusted",
			Mitigation: "Run `clawwarden audit verify` to see the first broken record, investigate who changed " + ch.File + ", then move it and its head file (" + ch.File + ".head) aside so a new chain starts."})
	default:
		e.set(id, outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "the audit log cannot be read safely", Evidence: ev,
			Gap:        "the log is unsafe (symlink, foreign owner, writable by others) or unreadable",
			Mitigation: "Fix ownership and mode of " + ch.File + " (`chmod 600`, owned by the agent's user), then run `clawwarden audit verify`."})
	}
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func worstRisk(risks []string) string {
	order := []string{RiskLow, RiskMedium, RiskHigh, RiskCritical}
	best := -1
	for _, r := range risks {
		if i := slices.Index(order, r); i > best {
			best = i
		}
	}
	if best < 0 {
		return RiskLow
	}
	return order[best]
}

// fromReport sets a check from a network report's status for it.
// maxReportAge is how old a clean network report may be and still count as
// evidence of compliance.
const maxReportAge = 24 * time.Hour

func (e *evaluator) fromReport(id, file, generatedAt, status, scanCmd string, titles, risks, mitigations []string) {
	ev := fmt.Sprintf("%s (generated %s)", file, generatedAt)
	if len(titles) == 0 && (status == "" || status == StatusCompliant) {
		at, err := time.Parse(time.RFC3339, generatedAt)
		switch {
		case err != nil:
			e.set(id, outcome{Status: StatusPartial, Risk: RiskLow, Observed: "nothing flagged, but the scan has no valid time", Evidence: ev,
				Gap: "the evidence cannot be dated", Mitigation: "Run `" + scanCmd + "` again."})
		case e.o.Now.Sub(at) > maxReportAge:
			e.set(id, outcome{Status: StatusPartial, Risk: RiskLow, Observed: fmt.Sprintf("nothing flagged, but the latest scan is %d hours old", int(e.o.Now.Sub(at).Hours())), Evidence: ev,
				Gap: "the evidence is stale: exposure may have changed since", Mitigation: "Run `" + scanCmd + "` (or schedule `clawwarden cycle`) and assess again."})
		default:
			e.set(id, outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "nothing flagged in the latest scan", Evidence: ev})
		}
		return
	}
	if status == "" {
		status = StatusViolation
	}
	shown := titles
	if len(shown) > 5 {
		shown = append(slices.Clone(shown[:5]), fmt.Sprintf("and %d more", len(titles)-5))
	}
	mit := "See the findings in " + file + "."
	if len(mitigations) > 0 {
		mit = mitigations[0] + " (first finding; see " + file + " for the others)"
	}
	e.set(id, outcome{Status: status, Risk: worstRisk(risks), Observed: fmt.Sprintf("%d finding(s) in the latest scan", len(titles)),
		Evidence: ev + ": " + strings.Join(shown, "; "), Gap: "flagged network exposure not covered by the approved baseline or allowlist", Mitigation: mit})
}

func (e *evaluator) reportMissing(id string, err error, file, scanCmd string) {
	if errors.Is(err, fs.ErrNotExist) {
		e.set(id, outcome{Status: StatusNotAssessed, Risk: RiskMedium, Observed: "no scan report", Evidence: file + " does not exist",
			Gap: "no evidence of what is on the network", Mitigation: "Run `" + scanCmd + "` (or `clawwarden cycle`) and assess again."})
		return
	}
	e.set(id, outcome{Status: StatusNotAssessed, Risk: RiskMedium, Observed: "the scan report cannot be read", Evidence: err.Error(),
		Gap: "no usable evidence", Mitigation: "Fix or remove " + file + ", then run `" + scanCmd + "` again."})
}

func (e *evaluator) portChecks() {
	file := filepath.Join(e.o.ReportsDir, ports.ReportFile)
	for _, id := range []string{ports.CheckApproved, ports.CheckInsecure} {
		if e.portsRep == nil {
			e.reportMissing(id, e.portsErr, file, "clawwarden ports")
			continue
		}
		var titles, risks, mits []string
		for _, f := range e.portsRep.Findings {
			if f.CheckID == id {
				titles, risks, mits = append(titles, f.Title), append(risks, f.Risk), append(mits, f.Mitigation)
			}
		}
		if id == ports.CheckApproved && e.portsRep.BaselineMissing {
			e.set(id, outcome{Status: StatusViolation, Risk: worstRisk(append(risks, RiskMedium)), Observed: "no approved port baseline exists",
				Evidence:   fmt.Sprintf("%s: baseline_missing; %d listeners", file, e.portsRep.Summary.Listeners),
				Gap:        "every listener is unapproved: there is nothing to compare exposure against",
				Mitigation: "Create a baseline with `clawwarden ports baseline`, review and prune " + e.portsRep.ApprovedFile + ", then run `clawwarden ports`."})
			continue
		}
		e.fromReport(id, file, e.portsRep.GeneratedAt, e.portsRep.Summary.Checks[id], "clawwarden ports", titles, risks, mits)
	}
}

func (e *evaluator) egressChecks() {
	const cfgID = "egress_allowlist_configured"
	path := e.o.Paths.Security(config.EgressAllowlistFile)
	rules, err := egress.LoadAllowlist(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		e.set(cfgID, outcome{Status: StatusViolation, Risk: RiskMedium, Observed: "no egress allowlist", Evidence: path + " does not exist",
			Gap:        "outbound destinations cannot be judged: every connection is flagged",
			Mitigation: "Create " + path + ` with the destinations agents need, e.g. [{"protocol":"tcp","host":"api.openai.com","port":443}], then run ` + "`clawwarden egress`."})
	case err != nil:
		e.inputError(err)
		e.set(cfgID, outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "the egress allowlist is unusable", Evidence: err.Error(),
			Gap:        "a malformed or unsafe allowlist is not applied",
			Mitigation: "Fix " + path + " (JSON array of {protocol, host|host_regex|cidr, port, command}; mode 0600, owned by you)."})
	case len(rules) == 0:
		e.set(cfgID, outcome{Status: StatusPartial, Risk: RiskLow, Observed: "the egress allowlist is empty", Evidence: path + ": 0 entries",
			Gap: "no destination is allowed, so every outbound connection is flagged", Mitigation: "Add the destinations agents need to " + path + "."})
	default:
		e.set(cfgID, outcome{Status: StatusCompliant, Risk: RiskLow, Observed: fmt.Sprintf("the egress allowlist has %d entries", len(rules)), Evidence: path})
	}
	const id = egress.CheckID
	file := filepath.Join(e.o.ReportsDir, egress.ReportFile)
	if e.egressRep == nil {
		e.reportMissing(id, e.egressErr, file, "clawwarden egress")
		return
	}
	var titles, risks, mits []string
	for _, f := range e.egressRep.Findings {
		titles, risks, mits = append(titles, f.Title), append(risks, f.Risk), append(mits, f.Mitigation)
	}
	e.fromReport(id, file, e.egressRep.GeneratedAt, e.egressRep.Summary.Checks[id], "clawwarden egress", titles, risks, mits)
}

// configUnknown sets id to not_assessed when openclaw.json cannot be read.
func (e *evaluator) configUnknown(id string) bool {
	if e.cfg != nil {
		return false
	}
	if errors.Is(e.cfgErr, fs.ErrNotExist) {
		e.set(id, outcome{Status: StatusNotAssessed, Risk: RiskMedium, Observed: "no OpenClaw configuration",
			Evidence: e.o.ConfigPath + " does not exist", Gap: "OpenClaw's settings cannot be checked",
			Mitigation: "Point OPENCLAW_CONFIG_PATH (or OPENCLAW_STATE_DIR) at the gateway's openclaw.json and assess again."})
		return true
	}
	e.set(id, outcome{Status: StatusNotAssessed, Risk: RiskMedium, Observed: "the OpenClaw configuration cannot be read", Evidence: e.cfgErr.Error(),
		Gap: "OpenClaw's settings cannot be checked", Mitigation: "Fix " + e.o.ConfigPath + " (`openclaw doctor` validates it), then assess again."})
	return true
}

func (e *evaluator) channelChecks() {
	const allowID, mentionID = "channel_allowlist_configured", "group_mentions_required"
	if e.configUnknown(allowID) {
		e.configUnknown(mentionID)
		return
	}
	chans := e.cfg.Channels()
	var names []string
	var open, pairing, noMention, openGroups []string
	for _, ch := range chans {
		if !ch.Enabled {
			continue
		}
		names = append(names, ch.ID)
		desc := fmt.Sprintf("channels.%s (dmPolicy %s, groupPolicy %s, allowFrom %d entries)", ch.ID, ch.DMPolicy, ch.GroupPolicy, len(ch.AllowFrom))
		switch {
		case ch.DMPolicy == "open" || ch.GroupPolicy == "open" || ch.Wildcard:
			open = append(open, desc)
		case ch.DMPolicy == "pairing":
			pairing = append(pairing, desc)
		}
		for _, g := range ch.NoMention {
			noMention = append(noMention, "channels."+ch.ID+"."+g)
		}
		if ch.GroupPolicy == "open" {
			openGroups = append(openGroups, ch.ID)
		}
	}
	ev := fmt.Sprintf("%s: enabled channels: %s", e.cfg.Path, orNone(names))
	switch {
	case len(names) == 0:
		e.set(allowID, outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "no chat channel is configured", Evidence: ev})
	case len(open) > 0:
		e.set(allowID, outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "anyone can message the agent on " + strings.Join(open, "; "), Evidence: ev,
			Gap:        "open DM or group policy or a \"*\" allowFrom lets strangers instruct the agent",
			Mitigation: "In " + e.cfg.Path + " set channels.<channel>.dmPolicy to \"allowlist\" and groupPolicy to \"allowlist\", list trusted senders in allowFrom, and remove \"*\" (`openclaw config set channels.<channel>.dmPolicy allowlist`)."})
	case len(pairing) > 0:
		e.set(allowID, outcome{Status: StatusPartial, Risk: RiskLow, Observed: "unknown senders can request pairing on " + strings.Join(pairing, "; "), Evidence: ev,
			Gap:        "pairing lets unknown senders ask the owner for access; an explicit allowlist does not",
			Mitigation: "Set channels.<channel>.dmPolicy to \"allowlist\" with the trusted senders in allowFrom in " + e.cfg.Path + "."})
	default:
		e.set(allowID, outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "every channel accepts only allowlisted senders", Evidence: ev})
	}
	switch {
	case len(noMention) > 0:
		status, risk := StatusPartial, RiskMedium
		if len(openGroups) > 0 {
			status, risk = StatusViolation, RiskHigh
		}
		e.set(mentionID, outcome{Status: status, Risk: risk, Observed: "mention gating is off for " + strings.Join(noMention, ", "), Evidence: ev,
			Gap:        "the agent acts on every group message there, including injected instructions from any member",
			Mitigation: "Set requireMention: true (or remove requireMention: false) for these groups in " + e.cfg.Path + "."})
	default:
		e.set(mentionID, outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "group messages need a mention (OpenClaw's default; no group turns it off)", Evidence: ev})
	}
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func (e *evaluator) gatewayLoopback() {
	const id = "gateway_loopback_only"
	mit := "Run `openclaw config set gateway.bind loopback` and restart the gateway; reach it remotely through an SSH tunnel or Tailscale Serve."
	// What the gateway listens on now outranks what the configuration
	// says: a gateway started with other flags, or without a configuration
	// file, binds where it was told.
	var live, exposed []string
	if g := e.o.Gateway; g != nil {
		for _, l := range g.Listeners {
			s := fmt.Sprintf("pid %d (%s) listens on %s %s", l.PID, l.Process, l.Proto, l.Address)
			live = append(live, s)
			if l.BeyondLoopback() {
				exposed = append(exposed, s)
			}
		}
	}
	if len(exposed) > 0 {
		var cfgSays string
		switch {
		case e.cfg != nil:
			bind, set := e.cfg.Bind()
			cfgSays = fmt.Sprintf("%s says gateway.bind=%s", e.cfg.Path, bind)
			if !set {
				cfgSays += " (unset: loopback)"
			}
		case errors.Is(e.cfgErr, fs.ErrNotExist):
			cfgSays = fmt.Sprintf("there is no OpenClaw configuration (%s does not exist), so nothing says loopback", e.o.ConfigPath)
		default:
			cfgSays = fmt.Sprintf("the configuration %s cannot be read: %v", e.o.ConfigPath, e.cfgErr)
		}
		risk := RiskHigh
		if e.cfg != nil && e.cfg.Auth().Mode == "none" {
			risk = RiskCritical
		}
		e.set(id, outcome{Status: StatusViolation, Risk: risk, Observed: "the running gateway listens beyond loopback: " + strings.Join(exposed, "; "),
			Evidence:   strings.Join(exposed, "; ") + "; " + cfgSays + " (live socket scan)",
			Gap:        "the gateway's WebSocket and HTTP API are reachable from other hosts, whatever the configuration says",
			Mitigation: mit + " If the gateway was started by hand with --bind or without a configuration file, restart it with --bind loopback."})
		return
	}
	if e.cfg == nil && len(live) > 0 && errors.Is(e.cfgErr, fs.ErrNotExist) {
		e.set(id, outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "the running gateway listens on loopback only (no OpenClaw configuration to check its auth)",
			Evidence: strings.Join(live, "; ") + " (live socket scan); " + e.o.ConfigPath + " does not exist"})
		return
	}
	if e.configUnknown(id) {
		return
	}
	bind, set := e.cfg.Bind()
	port := 18789
	if v, ok := e.cfg.Get("gateway.port"); ok {
		if f, ok := v.(float64); ok {
			port = int(f)
		}
	}
	auth := e.cfg.Auth()
	ev := fmt.Sprintf("%s: gateway.bind=%s", e.cfg.Path, bind)
	if !set {
		ev += " (unset; OpenClaw's default)"
	}
	ev += fmt.Sprintf(", gateway.port=%d, gateway.auth.mode=%s", port, orDefault(auth.Mode, "unset"))
	switch g := e.o.Gateway; {
	case g == nil:
	case len(live) > 0:
		ev += "; live: " + strings.Join(live, "; ")
	case g.Note != "":
		ev += "; live scan: " + g.Note
	default:
		ev += "; live: no gateway process is listening"
	}
	var public []string
	if e.portsRep != nil {
		for _, l := range e.portsRep.Listeners {
			if int(l.Port) == port && l.Protocol == "tcp" && slices.Contains(l.Flags, "public") {
				public = append(public, fmt.Sprintf("%s:%d (%s)", l.BindAddress, l.Port, l.Process))
			}
		}
		ev += fmt.Sprintf("; %s (generated %s)", ports.ReportFile, e.portsRep.GeneratedAt)
	}
	switch {
	case !openclaw.BindIsLoopback(bind):
		risk := RiskHigh
		if auth.Mode == "none" {
			risk = RiskCritical
		}
		e.set(id, outcome{Status: StatusViolation, Risk: risk, Observed: "the gateway binds " + bind + ", not loopback", Evidence: ev,
			Gap: "the gateway's WebSocket and HTTP API are reachable from other hosts", Mitigation: mit})
	case len(public) > 0:
		e.set(id, outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "a process listens publicly on the gateway port: " + strings.Join(public, ", "), Evidence: ev,
			Gap: "the configuration says loopback, but the port is exposed", Mitigation: mit + " Check for an older gateway or a proxy on that port."})
	case auth.Mode == "none" || (auth.Mode != "trusted-proxy" && !auth.HasToken && !auth.HasPassword):
		e.set(id, outcome{Status: StatusPartial, Risk: RiskMedium, Observed: "the gateway is on loopback but openclaw.json configures no gateway auth secret", Evidence: ev,
			Gap:        "any local process or user can drive the gateway",
			Mitigation: "Set gateway.auth.mode to \"token\" with gateway.auth.token from a secret reference or ${OPENCLAW_GATEWAY_TOKEN} in " + e.cfg.Path + " (`openclaw configure` generates one)."})
	default:
		e.set(id, outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "the gateway binds loopback only", Evidence: ev})
	}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func (e *evaluator) secretsPermissions() {
	const id = "secrets_permissions_hardened"
	state := e.o.Paths.StateDir
	if _, err := os.Lstat(state); err != nil {
		e.set(id, outcome{Status: StatusNotAssessed, Risk: RiskMedium, Observed: "the OpenClaw state directory cannot be read", Evidence: err.Error(),
			Gap: "no evidence about file permissions", Mitigation: "Point OPENCLAW_STATE_DIR at the gateway's state directory and assess again."})
		return
	}
	var loose, checked []string
	look := func(p string) {
		fi, err := os.Lstat(p)
		if err != nil {
			return
		}
		checked = append(checked, p)
		if fi.Mode()&fs.ModeSymlink != 0 {
			return
		}
		if fi.Mode().Perm()&0o077 != 0 {
			loose = append(loose, fmt.Sprintf("%s is %04o", p, fi.Mode().Perm()))
		}
	}
	look(state)
	look(e.o.ConfigPath)
	look(e.o.Paths.SecurityDir)
	for _, dir := range []string{filepath.Join(state, "credentials"), filepath.Join(state, "agents")} {
		look(dir)
		ents, _ := os.ReadDir(dir)
		for _, en := range ents {
			look(filepath.Join(dir, en.Name()))
		}
	}
	auth := gatewayAuthOf(e.cfg)
	ev := fmt.Sprintf("checked %d paths under %s", len(checked), state)
	switch {
	case len(loose) > 0:
		e.set(id, outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "OpenClaw files are readable by group or others: " + strings.Join(loose, ", "), Evidence: ev,
			Gap:        "other local users can read tokens, credentials and session data",
			Mitigation: "Run `chmod 700 " + state + "` and `chmod 600` on the files listed (or `openclaw security audit --fix`)."})
	case auth.Plaintext:
		e.set(id, outcome{Status: StatusPartial, Risk: RiskMedium, Observed: "gateway.auth holds a plaintext token or password in " + e.o.ConfigPath, Evidence: ev + "; permissions are owner-only",
			Gap:        "the secret is stored in the config file itself and copied into backups",
			Mitigation: "Move gateway.auth.token/password to a secret reference or ${OPENCLAW_GATEWAY_TOKEN} (`openclaw secrets`), then rotate it."})
	default:
		e.set(id, outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "OpenClaw state, config and credentials are owner-only", Evidence: ev})
	}
}

// gatewayAuthOf returns the gateway auth settings of cfg; the zero value
// when cfg is nil.
func gatewayAuthOf(cfg *openclaw.Config) openclaw.GatewayAuth {
	if cfg == nil {
		return openclaw.GatewayAuth{}
	}
	return cfg.Auth()
}

func (e *evaluator) runtimeHook() {
	const id = "runtime_privilege_hook_installed"
	h := e.o.Hook
	if h == nil {
		why := "no hook status"
		if e.o.HookErr != nil {
			why = e.o.HookErr.Error()
		}
		e.inputError(e.o.HookErr)
		e.set(id, outcome{Status: StatusNotAssessed, Risk: RiskMedium, Observed: "the hook's state cannot be read", Evidence: why,
			Gap: "unknown whether the agent's sudo goes through the guard", Mitigation: "Run `clawwarden hook status` and fix what it reports."})
		return
	}
	var parts []string
	var fix string
	for _, l := range h.Layers {
		parts = append(parts, l.Layer+"="+l.State)
		if fix == "" && l.Fix != "" && l.State != "ok" {
			fix = l.Fix
		}
	}
	ev := "clawwarden hook status: " + strings.Join(parts, ", ")
	bypasses := hookBypasses(h)
	sameUser := e.o.Enforced == nil || !e.o.Enforced.Enforced
	switch {
	case h.Effective:
		e.set(id, outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "the sudo shim at " + h.Shim + " is first on the gateway's PATH", Evidence: ev})
	case h.Installed && sameUser && len(bypasses) > 0:
		// Installed, but undone from where the agent can reach: the agent
		// can run `openclaw config unset tools.exec.pathPrepend` or add an
		// alias to ~/.bashrc. In enforced mode root is behind the helper,
		// so this no longer matters for root.
		e.set(id, outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "the hook is installed but the agent's sudo skips the shim", Evidence: ev + "; " + strings.Join(bypasses, "; "),
			Gap:        "the agent's sudo reaches the real sudo, with no policy, approval of the exact command or audit; the agent itself can undo the hook this way",
			Mitigation: "Run `" + orDefault(fix, "clawwarden hook install") + "` (see `clawwarden hook status`). The fix that holds against a hostile agent is enforced mode: `clawwarden enforce install`."})
	case h.Installed:
		e.set(id, outcome{Status: StatusPartial, Risk: RiskMedium, Observed: "the hook is installed but not effective", Evidence: ev,
			Gap: "the agent's sudo may bypass the guard", Mitigation: "Run `" + orDefault(fix, "clawwarden hook install") + "` (see `clawwarden hook status`)."})
	default:
		e.set(id, outcome{Status: StatusViolation, Risk: RiskMedium, Observed: "the sudo shim is not installed", Evidence: ev,
			Gap:        "the agent's sudo calls go straight to sudo, with no policy, approval of the exact command or audit",
			Mitigation: "Run `clawwarden hook install` and restart the gateway."})
	}
}

// hookBypasses returns, for a hook that is not effective, the layers that
// let the agent's sudo skip the shim: pathPrepend not putting the shim first
// (unset, say by `openclaw config unset tools.exec.pathPrepend`) while no
// service layer does instead, and an alias or function named sudo that the
// exec shell loads.
func hookBypasses(h *hook.Status) []string {
	layer := func(name string) hook.LayerStatus { l, _ := h.Layer(name); return l }
	var out []string
	service := (layer(hook.LayerSystemd).State == hook.StateOK || layer(hook.LayerLaunchd).State == hook.StateOK) &&
		layer(hook.LayerRestart).State == hook.StateOK
	if p := layer(hook.LayerPathPrepend); !service && (p.State == hook.StateMissing || p.State == hook.StatePartial) {
		out = append(out, "pathPrepend: "+p.Detail)
	}
	if a := layer(hook.LayerShellAliases); a.State == hook.StateOverridden {
		out = append(out, "shell_aliases: "+a.Detail)
	}
	return out
}

// privilegeBinaries are other routes to root that bypass sudo and the guard.
var privilegeBinaries = []string{"/usr/bin/pkexec", "/usr/bin/doas", "/usr/local/bin/doas", "/usr/bin/run0", "/usr/bin/su", "/bin/su"}

func (e *evaluator) alternatePaths() {
	const id = "alternate_privilege_paths_restricted"
	var found, flagged []string
	for _, b := range privilegeBinaries {
		fi, err := os.Stat(e.root(b))
		if err != nil || fi.IsDir() {
			continue
		}
		desc := fmt.Sprintf("%s (%s)", b, fi.Mode())
		found = append(found, desc)
		setuid := fi.Mode()&fs.ModeSetuid != 0
		switch filepath.Base(b) {
		case "su":
			// su asks for the target user's password, not a rule of ours.
		case "run0":
			flagged = append(flagged, desc+": polkit-authorised root shell")
		default:
			if setuid {
				flagged = append(flagged, desc+": setuid")
			}
		}
	}
	var nopass []string
	if data, err := os.ReadFile(e.root("/etc/doas.conf")); err == nil {
		for i, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) > 2 && f[0] == "permit" && slices.Contains(f, "nopass") && doasNames(f, e.o.User, e.o.Groups) {
				nopass = append(nopass, fmt.Sprintf("/etc/doas.conf:%d: %s", i+1, strings.TrimSpace(line)))
			}
		}
	}
	ev := "found: " + orNone(found)
	switch {
	case len(nopass) > 0:
		e.set(id, outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "doas lets " + e.o.User + " become root without a password", Evidence: ev + "; " + strings.Join(nopass, "; "),
			Gap:        "an agent can use doas to bypass the guard and any approval",
			Mitigation: "Remove `nopass` from these rules in /etc/doas.conf, or uninstall doas."})
	case len(flagged) > 0:
		e.set(id, outcome{Status: StatusPartial, Risk: RiskMedium, Observed: "other privilege tools are installed: " + strings.Join(flagged, "; "), Evidence: ev,
			Gap:        "these routes to root bypass the sudo shim, its policy and its audit log",
			Mitigation: "Remove what is not needed (e.g. `apt-get remove pkexec`), or restrict it (polkit rules for pkexec, no rule for this user in /etc/doas.conf)."})
	default:
		e.set(id, outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "no route to root other than sudo (and su, which needs the root password)", Evidence: ev})
	}
}

func doasNames(f []string, user string, groups []string) bool {
	for _, w := range f[1:] {
		if w == user || (strings.HasPrefix(w, ":") && slices.Contains(groups, w[1:])) {
			return true
		}
	}
	return false
}

func (e *evaluator) backup() {
	const id = "backup_configured"
	dirs := []string{e.o.Paths.Home, filepath.Join(e.o.Paths.Home, "backups")}
	var newest string
	var newestAt time.Time
	for _, d := range dirs {
		ents, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, en := range ents {
			if !strings.HasSuffix(en.Name(), "openclaw-backup.tar.gz") {
				continue
			}
			fi, err := en.Info()
			if err == nil && fi.ModTime().After(newestAt) {
				newest, newestAt = filepath.Join(d, en.Name()), fi.ModTime()
			}
		}
	}
	ev := "looked for *openclaw-backup.tar.gz (`openclaw backup create`) in " + strings.Join(dirs, ", ")
	mit := "Run `openclaw backup create --verify` and schedule it (cron or a systemd timer); keep a copy off the host."
	if newest == "" {
		e.set(id, outcome{Status: StatusViolation, Risk: RiskMedium, Observed: "no OpenClaw backup archive found", Evidence: ev,
			Gap: "config, credentials and sessions cannot be restored after loss or tampering", Mitigation: mit})
		return
	}
	age := e.o.Now.Sub(newestAt)
	days := int(age.Hours() / 24)
	ev += fmt.Sprintf("; newest %s, %d day(s) old", newest, days)
	switch {
	case age <= 7*24*time.Hour:
		e.set(id, outcome{Status: StatusCompliant, Risk: RiskLow, Observed: fmt.Sprintf("the newest backup is %d day(s) old", days), Evidence: ev})
	case age <= 30*24*time.Hour:
		e.set(id, outcome{Status: StatusPartial, Risk: RiskLow, Observed: fmt.Sprintf("the newest backup is %d days old", days), Evidence: ev, Gap: "backups are older than a week", Mitigation: mit})
	default:
		e.set(id, outcome{Status: StatusViolation, Risk: RiskMedium, Observed: fmt.Sprintf("the newest backup is %d days old", days), Evidence: ev, Gap: "backups are older than 30 days", Mitigation: mit})
	}
}

func (e *evaluator) updates() {
	const id = "update_hygiene"
	ocOK, ocEv := true, "OpenClaw update.checkOnStart unset (default true)"
	if e.cfg != nil {
		if v, ok := e.cfg.Get("update.checkOnStart"); ok {
			if b, isBool := v.(bool); isBool && !b {
				ocOK, ocEv = false, "OpenClaw update.checkOnStart=false in "+e.cfg.Path
			} else {
				ocEv = fmt.Sprintf("OpenClaw update.checkOnStart=%v", v)
			}
		}
	} else {
		ocEv = "OpenClaw config not read"
	}
	aptDir := e.root("/etc/apt/apt.conf.d")
	ents, err := os.ReadDir(aptDir)
	if err != nil {
		e.set(id, outcome{Status: StatusNotAssessed, Risk: RiskMedium, Observed: "the host's update mechanism is unknown", Evidence: "no " + aptDir + "; " + ocEv,
			Gap:        "no evidence that the host receives security updates",
			Mitigation: "Enable automatic security updates with your distribution's tool and assess again."})
		return
	}
	hostOK, hostEv := false, "unattended-upgrades not enabled in "+aptDir
	for _, en := range ents {
		data, err := os.ReadFile(filepath.Join(aptDir, en.Name()))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			l := strings.TrimSpace(line)
			if strings.HasPrefix(l, "APT::Periodic::Unattended-Upgrade") && strings.Contains(l, `"1"`) {
				hostOK, hostEv = true, "unattended-upgrades enabled in "+filepath.Join(aptDir, en.Name())
			}
		}
	}
	ev := hostEv + "; " + ocEv
	switch {
	case hostOK && ocOK:
		e.set(id, outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "the host installs security updates and OpenClaw checks for updates", Evidence: ev})
	case hostOK || ocOK:
		gap, mit := "OpenClaw does not check for updates", "Remove update.checkOnStart=false from "+e.o.ConfigPath+" and run `openclaw update` regularly."
		if !hostOK {
			gap, mit = "the host does not install security updates automatically", "`apt-get install unattended-upgrades` and `dpkg-reconfigure -plow unattended-upgrades`."
		}
		e.set(id, outcome{Status: StatusPartial, Risk: RiskMedium, Observed: gap, Evidence: ev, Gap: gap, Mitigation: mit})
	default:
		e.set(id, outcome{Status: StatusViolation, Risk: RiskMedium, Observed: "neither the host nor OpenClaw is kept up to date", Evidence: ev,
			Gap:        "known vulnerabilities stay unpatched",
			Mitigation: "`apt-get install unattended-upgrades`; remove update.checkOnStart=false from " + e.o.ConfigPath + "."})
	}
}

func (e *evaluator) promptInjection() {
	const id = "prompt_injection_controls"
	path := e.o.Paths.Security(config.PromptPolicyFile)
	pp, found, err := policy.LoadPrompt(path)
	untrusted := "OPENCLAW_UNTRUSTED_SOURCE is not set in this environment"
	if e.o.Env.UntrustedSource {
		untrusted = "OPENCLAW_UNTRUSTED_SOURCE=1 in this environment"
	}
	// OpenClaw's own exec policy: security full with ask off runs any host
	// command the model asks for, injected or not.
	var open, scopes []string
	for _, s := range e.o.ExecPolicy {
		scopes = append(scopes, fmt.Sprintf("%s: security=%s ask=%s", s.AgentID, s.Security, s.Ask))
		if s.Security == "full" && s.Ask == "off" {
			open = append(open, s.AgentID)
		}
	}
	execEv := "OpenClaw exec policy not read: " + orDefault(e.o.ExecPolicyNote, "unknown")
	if e.o.ExecPolicy != nil {
		execEv = "openclaw approvals get: " + orNone(scopes)
	}
	ev := path + "; " + untrusted + "; " + execEv
	switch {
	case err != nil:
		e.inputError(err)
		e.set(id, outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "the prompt policy is unusable", Evidence: err.Error() + "; " + execEv,
			Gap:        "the guard refuses to run with a malformed prompt policy, and untrusted content is not handled as intended",
			Mitigation: `Fix ` + path + `: {"require_confirmation_for_untrusted": true}, mode 0600.`})
	case found && !pp.RequireConfirmationForUntrusted:
		e.set(id, outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "require_confirmation_for_untrusted is false", Evidence: ev,
			Gap:        "a privileged command prompted by untrusted content (web pages, email, chat) can reuse earlier approvals",
			Mitigation: `Set "require_confirmation_for_untrusted": true in ` + path + `.`})
	case len(open) > 0:
		e.set(id, outcome{Status: StatusPartial, Risk: RiskMedium, Observed: "OpenClaw runs host commands without asking for agent(s) " + strings.Join(open, ", ") + " (exec security full, ask off)", Evidence: ev,
			Gap:        "instructions injected through content the agent reads can run any unprivileged command; only sudo goes through the guard",
			Mitigation: "Run `openclaw exec-policy preset cautious` (or set tools.exec.security to \"allowlist\" and tools.exec.ask to \"on-miss\"), see OpenClaw's docs/tools/exec-approvals.md."})
	case !found:
		e.set(id, outcome{Status: StatusPartial, Risk: RiskLow, Observed: "no prompt policy file; the built-in default (confirm untrusted) applies", Evidence: path + " does not exist; " + untrusted + "; " + execEv,
			Gap:        "the default is not recorded in a reviewed policy file",
			Mitigation: `Create ` + path + ` with {"require_confirmation_for_untrusted": true} and have it reviewed.`})
	default:
		e.set(id, outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "untrusted content needs an extra CONFIRM before privileged commands", Evidence: ev})
	}
}

func (e *evaluator) commandPolicy() {
	const id = "command_policy_enforced"
	path := e.o.Paths.Security(config.CommandPolicyFile)
	_, err := policy.Load(path)
	req := "OPENCLAW_REQUIRE_POLICY_FILES is not 1 in this environment"
	if e.o.Env.RequirePolicyFiles {
		req = "OPENCLAW_REQUIRE_POLICY_FILES=1 in this environment"
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		e.set(id, outcome{Status: StatusPartial, Risk: RiskMedium, Observed: "no command policy; only the built-in rules apply", Evidence: path + " does not exist; " + req,
			Gap:        "no reviewed allow/deny list narrows what may be approved",
			Mitigation: `Create ` + path + ` ({"allow":[…],"deny":[…],"allow_exact":[[…]],"deny_exact":[[…]]}), have it reviewed, and set OPENCLAW_REQUIRE_POLICY_FILES=1 for the gateway.`})
		return
	case err != nil:
		e.inputError(err)
		e.set(id, outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "the command policy is unusable", Evidence: err.Error(),
			Gap:        "the guard refuses every privileged command while the policy is malformed or unsafe",
			Mitigation: "Fix " + path + " (`clawwarden policy check --file " + path + " -- true` shows the error)."})
		return
	}
	// policy.Load validated the file; count its rules for the evidence.
	data, _ := safefile.ReadFile(path)
	var counts map[string][]json.RawMessage
	_ = json.Unmarshal(data, &counts)
	n := 0
	var parts []string
	for _, k := range []string{"allow", "deny", "allow_exact", "deny_exact"} {
		n += len(counts[k])
		parts = append(parts, fmt.Sprintf("%s %d", k, len(counts[k])))
	}
	ev := path + ": " + strings.Join(parts, ", ") + "; " + req
	if n == 0 {
		e.set(id, outcome{Status: StatusPartial, Risk: RiskLow, Observed: "the command policy has no rules", Evidence: ev,
			Gap: "only the built-in rules apply", Mitigation: "Add allow/deny rules for the commands agents need to " + path + "."})
		return
	}
	e.set(id, outcome{Status: StatusCompliant, Risk: RiskLow, Observed: fmt.Sprintf("a command policy with %d rules applies", n), Evidence: ev})
}

func (e *evaluator) sessionBoundary() {
	const id = "session_boundary_enforced"
	path := e.o.Paths.Security(config.SessionStateFile)
	ev := "OPENCLAW_REQUIRE_SESSION_ID is not 1 in this environment"
	if e.o.Env.RequireSessionID {
		ev = "OPENCLAW_REQUIRE_SESSION_ID=1 in this environment"
	}
	data, err := safefile.ReadFile(path)
	var st session.State
	switch {
	case errors.Is(err, fs.ErrNotExist):
		ev += "; no session state at " + path
	case err != nil:
		e.inputError(err)
		e.set(id, outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "the session state is unsafe or unreadable", Evidence: err.Error(),
			Gap: "approvals cannot be trusted", Mitigation: "Run `clawwarden session drop` (it moves a corrupt state aside)."})
		return
	default:
		st, err = session.Parse(data, path)
		if err != nil {
			e.inputError(err)
			e.set(id, outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "the session state is corrupt", Evidence: err.Error(),
				Gap: "approvals cannot be trusted", Mitigation: "Run `clawwarden session drop` (it moves a corrupt state aside)."})
			return
		}
		ev += fmt.Sprintf("; %s: %d approval(s) held", path, len(st.Approvals))
	}
	unscoped := 0
	for _, a := range st.Approvals {
		if a.SessionID == "" {
			unscoped++
		}
	}
	switch {
	case len(st.Approvals) > 0 && st.Expired(e.o.Now):
		e.set(id, outcome{Status: StatusPartial, Risk: RiskMedium, Observed: fmt.Sprintf("%d approval(s) past the 30-minute idle limit are still stored", len(st.Approvals)), Evidence: ev,
			Gap: "they are refused when used, but should have been dropped", Mitigation: "Run `clawwarden session drop`."})
	case !e.o.Env.RequireSessionID:
		e.set(id, outcome{Status: StatusPartial, Risk: RiskLow, Observed: "approvals are not required to carry a task session id", Evidence: ev,
			Gap:        "an approval given for one task can be reused by another task of the same agent within the idle window",
			Mitigation: "Set OPENCLAW_REQUIRE_SESSION_ID=1 in the gateway's environment and pass OPENCLAW_TASK_SESSION_ID per task."})
	case unscoped > 0:
		e.set(id, outcome{Status: StatusPartial, Risk: RiskLow, Observed: fmt.Sprintf("%d stored approval(s) have no session id", unscoped), Evidence: ev,
			Gap: "approvals from before the requirement are not scoped", Mitigation: "Run `clawwarden session drop`."})
	default:
		e.set(id, outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "approvals are bound to a task session id", Evidence: ev})
	}
}

func (e *evaluator) multiFactor() {
	const id = "multi_factor_approval"
	if en := e.o.Enforced; en != nil {
		ev := fmt.Sprintf("enforced mode: %d approver key(s) in /etc/clawwarden/allowed_signers, %d hardware-backed (sk-)", en.Keys, en.HardwareKeys)
		switch {
		case en.Keys > 0 && en.HardwareKeys == en.Keys:
			e.set(id, outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "every approver signs with a hardware key that needs a touch", Evidence: ev})
		default:
			e.set(id, outcome{Status: StatusPartial, Risk: RiskMedium, Observed: "approvers sign with SSH keys, not all of them hardware keys that need a touch", Evidence: ev,
				Gap:        "a stolen key file, or an ssh-agent forwarded to a compromised host, can sign an approval",
				Mitigation: "Register a FIDO key per approver (ssh-keygen -t ed25519-sk), or add keys with `ssh-add -c` so each signature asks; sign locally, not through a forwarded agent."})
		}
		return
	}
	path := e.o.Paths.Security(config.PassphraseFile)
	p, err := approval.LoadPassphrase(path)
	token := e.o.Env.ApprovalToken != ""
	tokenEv := "OPENCLAW_APPROVAL_TOKEN is not set in this environment"
	if token {
		tokenEv = "OPENCLAW_APPROVAL_TOKEN is set in this environment"
	}
	switch {
	case err != nil:
		e.inputError(err)
		e.set(id, outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "the approval passphrase record is unusable", Evidence: err.Error() + "; " + tokenEv,
			Gap: "approvals that need the passphrase fail", Mitigation: "Set it again with `clawwarden approval set-passphrase`."})
	case p != nil:
		obs := "an approval passphrase is set (stored as a salted Argon2id-derived key)"
		if token {
			obs += "; the environment token is also set (weak on its own)"
		}
		e.set(id, outcome{Status: StatusCompliant, Risk: RiskLow, Observed: obs, Evidence: path + "; " + tokenEv})
	case token:
		e.set(id, outcome{Status: StatusPartial, Risk: RiskMedium, Observed: "approval relies on OPENCLAW_APPROVAL_TOKEN only", Evidence: path + " does not exist; " + tokenEv,
			Gap:        "the token lives in the agent's environment, so the agent can read and type it: it proves little",
			Mitigation: "Run `clawwarden approval set-passphrase` on the person's own terminal; the passphrase is never stored in the agent's reach."})
	default:
		e.set(id, outcome{Status: StatusViolation, Risk: RiskMedium, Observed: "approval needs only a keypress on the terminal", Evidence: path + " does not exist; " + tokenEv,
			Gap:        "no second factor: whoever controls the approving terminal approves",
			Mitigation: "Run `clawwarden approval set-passphrase` on the person's own terminal."})
	}
}
