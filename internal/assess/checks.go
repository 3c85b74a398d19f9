package assess

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/egress"
	"github.com/clawwarden/clawwarden/internal/ports"
	"github.com/clawwarden/clawwarden/internal/session"
)

// evaluator runs one assessment: [gather] reads the evidence, [judge] turns
// it into an outcome per check.
type evaluator struct {
	o    Options
	ctx  context.Context
	byID map[string]*Check
	evidence
}

// gather reads the evidence of the assessment.
func (e *evaluator) gather() { e.evidence = gather(e.ctx, e.o) }

// evaluate judges every check.
func (e *evaluator) evaluate() {
	for id, out := range judge(&e.evidence) {
		e.set(id, out)
	}
}

// outcome is the judgement of one check: the fields of a [Check] that the
// evidence decides. Gap and Mitigation are dropped when Status is compliant.
type outcome struct {
	Status     checkStatus
	Risk       checkRisk
	Observed   string // the state found, in one sentence
	Evidence   string // what was read, where
	Gap        string // what falls short of the control
	Mitigation string // what to change, where
}

// checkStatus and checkRisk are the types of a [Check]'s Status and Risk,
// named once for the judges.
type (
	checkStatus = string
	checkRisk   = string
)

// set fills a check's outcome.
func (e *evaluator) set(id string, out outcome) {
	c := e.byID[id]
	c.Status, c.Risk, c.Observed, c.Evidence, c.Gap, c.Mitigation = out.Status, out.Risk, out.Observed, out.Evidence, out.Gap, out.Mitigation
	if out.Status == StatusCompliant {
		c.Gap, c.Mitigation = "", ""
	}
}

// judge returns the outcome of every check, by check id, from the evidence
// alone: it reads nothing from the host.
func judge(ev *evidence) map[string]outcome {
	return map[string]outcome{
		"privilege_approval_required":          privilegeApproval(ev),
		"least_privilege_enforced":             leastPrivilege(ev),
		"elevation_timeout_30m":                elevationTimeout(ev),
		"privilege_boundary":                   privilegeBoundary(ev),
		"audit_logging_privileged_actions":     auditLogging(ev),
		ports.CheckApproved:                    portCheck(ev, ports.CheckApproved),
		ports.CheckInsecure:                    portCheck(ev, ports.CheckInsecure),
		"channel_allowlist_configured":         channelAllowlist(ev),
		"group_mentions_required":              groupMentions(ev),
		"gateway_loopback_only":                gatewayLoopback(ev),
		"secrets_permissions_hardened":         secretsPermissions(ev),
		"runtime_privilege_hook_installed":     runtimeHook(ev),
		"alternate_privilege_paths_restricted": alternatePaths(ev),
		"backup_configured":                    backup(ev),
		"update_hygiene":                       updates(ev),
		"prompt_injection_controls":            promptInjection(ev),
		"command_policy_enforced":              commandPolicy(ev),
		"session_boundary_enforced":            sessionBoundary(ev),
		"multi_factor_approval":                multiFactor(ev),
		"egress_allowlist_configured":          egressAllowlist(ev),
		egress.CheckID:                         egressReport(ev),
	}
}

// sudoUnknown is the outcome of a sudo check when the sudoers configuration
// could not be read; false when it was read.
func sudoUnknown(ev *evidence) (outcome, bool) {
	if ev.sudo.Unknown == "" {
		return outcome{}, false
	}
	return outcome{Status: StatusNotAssessed, Risk: RiskMedium, Observed: "the sudoers configuration could not be read",
		Evidence: "sudoers: " + ev.sudo.Unknown, Gap: "no evidence about sudo rights for " + ev.User,
		Mitigation: "Let " + ev.User + " list its own sudo rules without a password: add `Defaults:" + ev.User + " listpw=never` with `visudo -f /etc/sudoers.d/clawwarden-assess`, then assess again (`sudo -n -l` is the fallback when /etc/sudoers is unreadable)."}, true
}

// ruleList quotes sudo rules with where they are written.
func ruleList(rules []SudoRule) string {
	var parts []string
	for _, r := range rules {
		parts = append(parts, fmt.Sprintf("%s: %q", r.Origin, r.Text))
	}
	return strings.Join(parts, "; ")
}

// privilegeApproval judges whether sudo asks a person: a NOPASSWD rule
// lets any process of the user, the agent included, skip the person.
func privilegeApproval(ev *evidence) outcome {
	if out, ok := sudoUnknown(ev); ok {
		return out
	}
	var nopw []SudoRule
	for _, r := range ev.sudo.Rules {
		if r.NoPasswd {
			nopw = append(nopw, r)
		}
	}
	evText := fmt.Sprintf("%d sudo rule(s) apply to %s in %s", len(ev.sudo.Rules), ev.User, ev.sudo.Source)
	if len(nopw) > 0 {
		return outcome{Status: StatusViolation, Risk: RiskHigh,
			Observed:   fmt.Sprintf("%d sudo rule(s) let %s run commands as root without a password", len(nopw), ev.User),
			Evidence:   evText + "; NOPASSWD: " + ruleList(nopw),
			Gap:        "with NOPASSWD the password is not the gate: any process of " + ev.User + ", the agent included, can call /usr/bin/sudo directly and run these commands as root without clawwarden and without any person approving",
			Mitigation: "Remove the NOPASSWD tag from these rules (edit with `visudo -f FILE`), so sudo asks the person, and route privileged commands through `clawwarden exec`. The fix that holds against a hostile agent is enforced mode: `clawwarden enforce install` gives the agent its own account whose only sudo right is clawwarden's root helper."}
	}
	return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "every sudo rule for " + ev.User + " needs authentication", Evidence: evText}
}

// leastPrivilege judges how much the user may run as root.
func leastPrivilege(ev *evidence) outcome {
	if ev.UID == 0 {
		return outcome{Status: StatusViolation, Risk: RiskCritical, Observed: "the assessed user is root (uid 0)",
			Evidence:   fmt.Sprintf("assessment ran as %s, uid %d", ev.User, ev.UID),
			Gap:        "agents of this user run every command as root, with no approval step",
			Mitigation: "Run the OpenClaw gateway and its agents as an unprivileged user; keep root for `clawwarden exec` approvals. Assess that user's posture by running `clawwarden assess` as it."}
	}
	if out, ok := sudoUnknown(ev); ok {
		return out
	}
	var all []SudoRule
	for _, r := range ev.sudo.Rules {
		if r.AllCommands {
			all = append(all, r)
		}
	}
	switch {
	case len(ev.sudo.Rules) == 0:
		return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: ev.User + " has no sudo rights",
			Evidence: fmt.Sprintf("uid %d; no sudo rule for %s in %s", ev.UID, ev.User, ev.sudo.Source)}
	case len(all) > 0:
		return outcome{Status: StatusPartial, Risk: RiskMedium, Observed: fmt.Sprintf("%s may run ALL commands as root through sudo", ev.User),
			Evidence:   fmt.Sprintf("uid %d; %s", ev.UID, ruleList(all)),
			Gap:        "sudo rights are not scoped to the commands the agent's tasks need; only the approval step and the command policy narrow them",
			Mitigation: "Replace `ALL` in these rules with the exact commands needed (Cmnd_Alias in /etc/sudoers.d/), and list them in " + ev.Paths.Security(config.CommandPolicyFile) + "."}
	default:
		return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: fmt.Sprintf("%s may run only named commands through sudo", ev.User),
			Evidence: fmt.Sprintf("uid %d; %s", ev.UID, ruleList(ev.sudo.Rules))}
	}
}

// elevationTimeout judges how long sudo caches credentials.
func elevationTimeout(ev *evidence) outcome {
	if out, ok := sudoUnknown(ev); ok {
		return out
	}
	evText := fmt.Sprintf("clawwarden approvals idle out after %s; sudo settings from %s", session.IdleTimeout, ev.sudo.Source)
	tt := "timestamp_timeout unset (sudo default 15 minutes)"
	if ev.sudo.TimestampTimeout != nil {
		tt = "timestamp_timeout=" + strconv.FormatFloat(*ev.sudo.TimestampTimeout, 'f', -1, 64)
	}
	ty := "timestamp_type unset (default tty)"
	if ev.sudo.TimestampType != "" {
		ty = "timestamp_type=" + ev.sudo.TimestampType
	}
	// Who may reuse a cached ticket (timestamp_type) is privilege_boundary's
	// question; this check is about how long elevation lasts.
	evText += "; " + tt + "; " + ty + ", assessed in privilege_boundary"
	mit := "Set `Defaults:" + ev.User + " timestamp_timeout=0` in /etc/sudoers.d/ with visudo: clawwarden runs `sudo -k` and needs no cached credentials (if people want a cache, at most 30)."
	switch t := ev.sudo.TimestampTimeout; {
	case t != nil && *t < 0:
		return outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "sudo credentials never expire (" + tt + ")", Evidence: evText,
			Gap: "once a person authenticates, sudo stays open for good: elevation outlives its task", Mitigation: mit}
	case t != nil && *t > 30:
		return outcome{Status: StatusViolation, Risk: RiskMedium, Observed: "sudo caches credentials for more than 30 minutes (" + tt + ")", Evidence: evText,
			Gap: "elevation can outlive the 30-minute idle limit", Mitigation: mit}
	default:
		return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "elevation expires within 30 idle minutes", Evidence: evText}
	}
}

// auditLogging judges the audit chain of privileged actions.
func auditLogging(ev *evidence) outcome {
	ch := ev.chain
	evText := fmt.Sprintf("%s: %s", ch.File, ch.Detail)
	switch ch.Status {
	case "ok":
		return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: fmt.Sprintf("the audit chain verifies (%d records, head %s)", ch.Records, short(ch.Head)), Evidence: evText}
	case "missing":
		return outcome{Status: StatusPartial, Risk: RiskMedium, Observed: "no privileged action has been audited yet", Evidence: evText,
			Gap:        "no audit trail exists to review",
			Mitigation: "Route privileged commands through `clawwarden exec` (or install the shim with `clawwarden hook install`) so they are logged to " + ch.File + "."}
	case "broken":
		return outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "the audit chain does not verify", Evidence: evText,
			Gap:        "audit records were altered, inserted, removed or torn: the trail cannot be trusted",
			Mitigation: "Run `clawwarden audit verify` to see the first broken record, investigate who changed " + ch.File + ", then move it and its head file (" + ch.File + ".head) aside so a new chain starts."}
	default:
		return outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "the audit log cannot be read safely", Evidence: evText,
			Gap:        "the log is unsafe (symlink, foreign owner, writable by others) or unreadable",
			Mitigation: "Fix ownership and mode of " + ch.File + " (`chmod 600`, owned by the agent's user), then run `clawwarden audit verify`."}
	}
}

// short abbreviates a hash for people.
func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// orNone joins s, or says "none".
func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// orDefault returns s, or d when s is empty.
func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// privilegeBinaries are other routes to root that bypass sudo and the guard.
var privilegeBinaries = []string{"/usr/bin/pkexec", "/usr/bin/doas", "/usr/local/bin/doas", "/usr/bin/run0", "/usr/bin/su", "/bin/su"}

// alternatePaths judges the routes to root that bypass sudo and the guard:
// setuid privilege tools, run0, and doas rules without a password.
func alternatePaths(ev *evidence) outcome {
	var found, flagged []string
	for _, b := range ev.privBinaries {
		desc := fmt.Sprintf("%s (%s)", b.path, b.mode)
		found = append(found, desc)
		setuid := b.mode&fs.ModeSetuid != 0
		switch filepath.Base(b.path) {
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
	if ev.doasConf.err == nil {
		for i, line := range strings.Split(string(ev.doasConf.data), "\n") {
			f := strings.Fields(line)
			if len(f) > 2 && f[0] == "permit" && slices.Contains(f, "nopass") && doasNames(f, ev.User, ev.Groups) {
				nopass = append(nopass, fmt.Sprintf("/etc/doas.conf:%d: %s", i+1, strings.TrimSpace(line)))
			}
		}
	}
	evText := "found: " + orNone(found)
	switch {
	case len(nopass) > 0:
		return outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "doas lets " + ev.User + " become root without a password", Evidence: evText + "; " + strings.Join(nopass, "; "),
			Gap:        "an agent can use doas to bypass the guard and any approval",
			Mitigation: "Remove `nopass` from these rules in /etc/doas.conf, or uninstall doas."}
	case len(flagged) > 0:
		return outcome{Status: StatusPartial, Risk: RiskMedium, Observed: "other privilege tools are installed: " + strings.Join(flagged, "; "), Evidence: evText,
			Gap:        "these routes to root bypass the sudo shim, its policy and its audit log",
			Mitigation: "Remove what is not needed (e.g. `apt-get remove pkexec`), or restrict it (polkit rules for pkexec, no rule for this user in /etc/doas.conf)."}
	default:
		return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "no route to root other than sudo (and su, which needs the root password)", Evidence: evText}
	}
}

// doasNames reports whether the doas rule f names user or one of groups.
func doasNames(f []string, user string, groups []string) bool {
	for _, w := range f[1:] {
		if w == user || (strings.HasPrefix(w, ":") && slices.Contains(groups, w[1:])) {
			return true
		}
	}
	return false
}

// backup judges the age of the newest OpenClaw backup archive.
func backup(ev *evidence) outcome {
	newest, newestAt := ev.newestBackup, ev.newestBackupAt
	evText := "looked for *openclaw-backup.tar.gz (`openclaw backup create`) in " + strings.Join(ev.backupDirs, ", ")
	mit := "Run `openclaw backup create --verify` and schedule it (cron or a systemd timer); keep a copy off the host."
	if newest == "" {
		return outcome{Status: StatusViolation, Risk: RiskMedium, Observed: "no OpenClaw backup archive found", Evidence: evText,
			Gap: "config, credentials and sessions cannot be restored after loss or tampering", Mitigation: mit}
	}
	age := ev.Now.Sub(newestAt)
	days := int(age.Hours() / 24)
	evText += fmt.Sprintf("; newest %s, %d day(s) old", newest, days)
	switch {
	case age <= 7*24*time.Hour:
		return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: fmt.Sprintf("the newest backup is %d day(s) old", days), Evidence: evText}
	case age <= 30*24*time.Hour:
		return outcome{Status: StatusPartial, Risk: RiskLow, Observed: fmt.Sprintf("the newest backup is %d days old", days), Evidence: evText, Gap: "backups are older than a week", Mitigation: mit}
	default:
		return outcome{Status: StatusViolation, Risk: RiskMedium, Observed: fmt.Sprintf("the newest backup is %d days old", days), Evidence: evText, Gap: "backups are older than 30 days", Mitigation: mit}
	}
}

// updates judges whether the host installs security updates and OpenClaw
// checks for its own.
func updates(ev *evidence) outcome {
	ocOK, ocEv := true, "OpenClaw update.checkOnStart unset (default true)"
	if ev.cfg != nil {
		if v, ok := ev.cfg.Get("update.checkOnStart"); ok {
			if b, isBool := v.(bool); isBool && !b {
				ocOK, ocEv = false, "OpenClaw update.checkOnStart=false in "+ev.cfg.Path
			} else {
				ocEv = fmt.Sprintf("OpenClaw update.checkOnStart=%v", v)
			}
		}
	} else {
		ocEv = "OpenClaw config not read"
	}
	aptDir := ev.aptDir
	if ev.aptErr != nil {
		return outcome{Status: StatusNotAssessed, Risk: RiskMedium, Observed: "the host's update mechanism is unknown", Evidence: "no " + aptDir + "; " + ocEv,
			Gap:        "no evidence that the host receives security updates",
			Mitigation: "Enable automatic security updates with your distribution's tool and assess again."}
	}
	hostOK, hostEv := false, "unattended-upgrades not enabled in "+aptDir
	for _, f := range ev.aptFiles {
		for _, line := range strings.Split(string(f.data), "\n") {
			l := strings.TrimSpace(line)
			if strings.HasPrefix(l, "APT::Periodic::Unattended-Upgrade") && strings.Contains(l, `"1"`) {
				hostOK, hostEv = true, "unattended-upgrades enabled in "+f.path
			}
		}
	}
	evText := hostEv + "; " + ocEv
	switch {
	case hostOK && ocOK:
		return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "the host installs security updates and OpenClaw checks for updates", Evidence: evText}
	case hostOK || ocOK:
		gap, mit := "OpenClaw does not check for updates", "Remove update.checkOnStart=false from "+ev.ConfigPath+" and run `openclaw update` regularly."
		if !hostOK {
			gap, mit = "the host does not install security updates automatically", "`apt-get install unattended-upgrades` and `dpkg-reconfigure -plow unattended-upgrades`."
		}
		return outcome{Status: StatusPartial, Risk: RiskMedium, Observed: gap, Evidence: evText, Gap: gap, Mitigation: mit}
	default:
		return outcome{Status: StatusViolation, Risk: RiskMedium, Observed: "neither the host nor OpenClaw is kept up to date", Evidence: evText,
			Gap:        "known vulnerabilities stay unpatched",
			Mitigation: "`apt-get install unattended-upgrades`; remove update.checkOnStart=false from " + ev.ConfigPath + "."}
	}
}
