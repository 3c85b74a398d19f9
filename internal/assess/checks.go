package assess

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/egress"
	"github.com/clawwarden/clawwarden/internal/hook"
	"github.com/clawwarden/clawwarden/internal/openclaw"
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

func (e *evaluator) gather() { e.evidence = gather(e.ctx, e.o) }

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

func ruleList(rules []SudoRule) string {
	var parts []string
	for _, r := range rules {
		parts = append(parts, fmt.Sprintf("%s: %q", r.Origin, r.Text))
	}
	return strings.Join(parts, "; ")
}

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

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func worstRisk(risks []checkRisk) checkRisk {
	order := []checkRisk{RiskLow, RiskMedium, RiskHigh, RiskCritical}
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

// maxReportAge is how old a clean network report may be and still count as
// evidence of compliance.
const maxReportAge = 24 * time.Hour

// fromReport judges a check from a network report's status for it and its
// findings' titles, risks and mitigations.
func fromReport(now time.Time, file, generatedAt string, status checkStatus, scanCmd string, titles []string, risks []checkRisk, mitigations []string) outcome {
	evText := fmt.Sprintf("%s (generated %s)", file, generatedAt)
	if len(titles) == 0 && (status == "" || status == StatusCompliant) {
		at, err := time.Parse(time.RFC3339, generatedAt)
		switch {
		case err != nil:
			return outcome{Status: StatusPartial, Risk: RiskLow, Observed: "nothing flagged, but the scan has no valid time", Evidence: evText,
				Gap: "the evidence cannot be dated", Mitigation: "Run `" + scanCmd + "` again."}
		case now.Sub(at) > maxReportAge:
			return outcome{Status: StatusPartial, Risk: RiskLow, Observed: fmt.Sprintf("nothing flagged, but the latest scan is %d hours old", int(now.Sub(at).Hours())), Evidence: evText,
				Gap: "the evidence is stale: exposure may have changed since", Mitigation: "Run `" + scanCmd + "` (or schedule `clawwarden cycle`) and assess again."}
		default:
			return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "nothing flagged in the latest scan", Evidence: evText}
		}
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
	return outcome{Status: status, Risk: worstRisk(risks), Observed: fmt.Sprintf("%d finding(s) in the latest scan", len(titles)),
		Evidence: evText + ": " + strings.Join(shown, "; "), Gap: "flagged network exposure not covered by the approved baseline or allowlist", Mitigation: mit}
}

// reportMissing judges a network check whose report cannot be read.
func reportMissing(err error, file, scanCmd string) outcome {
	if errors.Is(err, fs.ErrNotExist) {
		return outcome{Status: StatusNotAssessed, Risk: RiskMedium, Observed: "no scan report", Evidence: file + " does not exist",
			Gap: "no evidence of what is on the network", Mitigation: "Run `" + scanCmd + "` (or `clawwarden cycle`) and assess again."}
	}
	return outcome{Status: StatusNotAssessed, Risk: RiskMedium, Observed: "the scan report cannot be read", Evidence: err.Error(),
		Gap: "no usable evidence", Mitigation: "Fix or remove " + file + ", then run `" + scanCmd + "` again."}
}

// portCheck judges the ports check id from the latest port report.
func portCheck(ev *evidence, id string) outcome {
	file := filepath.Join(ev.ReportsDir, ports.ReportFile)
	rep := ev.portsRep
	if rep == nil {
		return reportMissing(ev.portsErr, file, "clawwarden ports")
	}
	var titles, mits []string
	var risks []checkRisk
	for _, f := range rep.Findings {
		if f.CheckID == id {
			titles, risks, mits = append(titles, f.Title), append(risks, f.Risk), append(mits, f.Mitigation)
		}
	}
	if id == ports.CheckApproved && rep.BaselineMissing {
		return outcome{Status: StatusViolation, Risk: worstRisk(append(risks, RiskMedium)), Observed: "no approved port baseline exists",
			Evidence:   fmt.Sprintf("%s: baseline_missing; %d listeners", file, rep.Summary.Listeners),
			Gap:        "every listener is unapproved: there is nothing to compare exposure against",
			Mitigation: "Create a baseline with `clawwarden ports baseline`, review and prune " + rep.ApprovedFile + ", then run `clawwarden ports`."}
	}
	return fromReport(ev.Now, file, rep.GeneratedAt, rep.Summary.Checks[id], "clawwarden ports", titles, risks, mits)
}

// egressAllowlist judges whether outbound destinations can be judged.
func egressAllowlist(ev *evidence) outcome {
	path, err := ev.allowlistPath, ev.allowlistErr
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return outcome{Status: StatusViolation, Risk: RiskMedium, Observed: "no egress allowlist", Evidence: path + " does not exist",
			Gap:        "outbound destinations cannot be judged: every connection is flagged",
			Mitigation: "Create " + path + ` with the destinations agents need, e.g. [{"protocol":"tcp","host":"api.openai.com","port":443}], then run ` + "`clawwarden egress`."}
	case err != nil:
		return outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "the egress allowlist is unusable", Evidence: err.Error(),
			Gap:        "a malformed or unsafe allowlist is not applied",
			Mitigation: "Fix " + path + " (JSON array of {protocol, host|host_regex|cidr, port, command}; mode 0600, owned by you)."}
	case ev.allowlistRules == 0:
		return outcome{Status: StatusPartial, Risk: RiskLow, Observed: "the egress allowlist is empty", Evidence: path + ": 0 entries",
			Gap: "no destination is allowed, so every outbound connection is flagged", Mitigation: "Add the destinations agents need to " + path + "."}
	default:
		return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: fmt.Sprintf("the egress allowlist has %d entries", ev.allowlistRules), Evidence: path}
	}
}

// egressReport judges the latest egress report.
func egressReport(ev *evidence) outcome {
	file := filepath.Join(ev.ReportsDir, egress.ReportFile)
	rep := ev.egressRep
	if rep == nil {
		return reportMissing(ev.egressErr, file, "clawwarden egress")
	}
	var titles, mits []string
	var risks []checkRisk
	for _, f := range rep.Findings {
		titles, risks, mits = append(titles, f.Title), append(risks, f.Risk), append(mits, f.Mitigation)
	}
	return fromReport(ev.Now, file, rep.GeneratedAt, rep.Summary.Checks[egress.CheckID], "clawwarden egress", titles, risks, mits)
}

// configUnknown is the outcome of an OpenClaw configuration check when
// openclaw.json cannot be read; false when it was read.
func configUnknown(ev *evidence) (outcome, bool) {
	if ev.cfg != nil {
		return outcome{}, false
	}
	if errors.Is(ev.cfgErr, fs.ErrNotExist) {
		return outcome{Status: StatusNotAssessed, Risk: RiskMedium, Observed: "no OpenClaw configuration",
			Evidence: ev.ConfigPath + " does not exist", Gap: "OpenClaw's settings cannot be checked",
			Mitigation: "Point OPENCLAW_CONFIG_PATH (or OPENCLAW_STATE_DIR) at the gateway's openclaw.json and assess again."}, true
	}
	return outcome{Status: StatusNotAssessed, Risk: RiskMedium, Observed: "the OpenClaw configuration cannot be read", Evidence: ev.cfgErr.Error(),
		Gap: "OpenClaw's settings cannot be checked", Mitigation: "Fix " + ev.ConfigPath + " (`openclaw doctor` validates it), then assess again."}, true
}

// channelSummary is what the enabled chat channels of openclaw.json allow.
type channelSummary struct {
	names      []string // enabled channels
	open       []string // channels anyone can message
	pairing    []string // channels where unknown senders can request pairing
	noMention  []string // groups where mention gating is off
	openGroups []string // channels whose groupPolicy is open
	evidence   string
}

func summarizeChannels(cfg *openclaw.Config) channelSummary {
	var c channelSummary
	for _, ch := range cfg.Channels() {
		if !ch.Enabled {
			continue
		}
		c.names = append(c.names, ch.ID)
		desc := fmt.Sprintf("channels.%s (dmPolicy %s, groupPolicy %s, allowFrom %d entries)", ch.ID, ch.DMPolicy, ch.GroupPolicy, len(ch.AllowFrom))
		switch {
		case ch.DMPolicy == "open" || ch.GroupPolicy == "open" || ch.Wildcard:
			c.open = append(c.open, desc)
		case ch.DMPolicy == "pairing":
			c.pairing = append(c.pairing, desc)
		}
		for _, g := range ch.NoMention {
			c.noMention = append(c.noMention, "channels."+ch.ID+"."+g)
		}
		if ch.GroupPolicy == "open" {
			c.openGroups = append(c.openGroups, ch.ID)
		}
	}
	c.evidence = fmt.Sprintf("%s: enabled channels: %s", cfg.Path, orNone(c.names))
	return c
}

// channelAllowlist judges who can message the agent.
func channelAllowlist(ev *evidence) outcome {
	if out, ok := configUnknown(ev); ok {
		return out
	}
	c := summarizeChannels(ev.cfg)
	evText := c.evidence
	switch {
	case len(c.names) == 0:
		return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "no chat channel is configured", Evidence: evText}
	case len(c.open) > 0:
		return outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "anyone can message the agent on " + strings.Join(c.open, "; "), Evidence: evText,
			Gap:        "open DM or group policy or a \"*\" allowFrom lets strangers instruct the agent",
			Mitigation: "In " + ev.cfg.Path + " set channels.<channel>.dmPolicy to \"allowlist\" and groupPolicy to \"allowlist\", list trusted senders in allowFrom, and remove \"*\" (`openclaw config set channels.<channel>.dmPolicy allowlist`)."}
	case len(c.pairing) > 0:
		return outcome{Status: StatusPartial, Risk: RiskLow, Observed: "unknown senders can request pairing on " + strings.Join(c.pairing, "; "), Evidence: evText,
			Gap:        "pairing lets unknown senders ask the owner for access; an explicit allowlist does not",
			Mitigation: "Set channels.<channel>.dmPolicy to \"allowlist\" with the trusted senders in allowFrom in " + ev.cfg.Path + "."}
	default:
		return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "every channel accepts only allowlisted senders", Evidence: evText}
	}
}

// groupMentions judges whether group messages need a mention.
func groupMentions(ev *evidence) outcome {
	if out, ok := configUnknown(ev); ok {
		return out
	}
	c := summarizeChannels(ev.cfg)
	switch {
	case len(c.noMention) > 0:
		status, risk := StatusPartial, RiskMedium
		if len(c.openGroups) > 0 {
			status, risk = StatusViolation, RiskHigh
		}
		return outcome{Status: status, Risk: risk, Observed: "mention gating is off for " + strings.Join(c.noMention, ", "), Evidence: c.evidence,
			Gap:        "the agent acts on every group message there, including injected instructions from any member",
			Mitigation: "Set requireMention: true (or remove requireMention: false) for these groups in " + ev.cfg.Path + "."}
	default:
		return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "group messages need a mention (OpenClaw's default; no group turns it off)", Evidence: c.evidence}
	}
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// gatewayMitigation is the fix for a gateway reachable from other hosts.
const gatewayMitigation = "Run `openclaw config set gateway.bind loopback` and restart the gateway; reach it remotely through an SSH tunnel or Tailscale Serve."

// gatewayLoopback judges where the gateway listens. What it listens on now
// outranks what the configuration says: a gateway started with other
// flags, or without a configuration file, binds where it was told.
func gatewayLoopback(ev *evidence) outcome {
	var live, exposed []string
	if g := ev.Gateway; g != nil {
		for _, l := range g.Listeners {
			s := fmt.Sprintf("pid %d (%s) listens on %s %s", l.PID, l.Process, l.Proto, l.Address)
			live = append(live, s)
			if l.BeyondLoopback() {
				exposed = append(exposed, s)
			}
		}
	}
	if len(exposed) > 0 {
		return gatewayExposed(ev, exposed)
	}
	if ev.cfg == nil && len(live) > 0 && errors.Is(ev.cfgErr, fs.ErrNotExist) {
		return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "the running gateway listens on loopback only (no OpenClaw configuration to check its auth)",
			Evidence: strings.Join(live, "; ") + " (live socket scan); " + ev.ConfigPath + " does not exist"}
	}
	if out, ok := configUnknown(ev); ok {
		return out
	}
	return gatewayConfigured(ev, live)
}

// gatewayExposed judges a gateway process the live scan found listening
// beyond loopback, naming what the configuration says.
func gatewayExposed(ev *evidence, exposed []string) outcome {
	var cfgSays string
	switch {
	case ev.cfg != nil:
		bind, set := ev.cfg.Bind()
		cfgSays = fmt.Sprintf("%s says gateway.bind=%s", ev.cfg.Path, bind)
		if !set {
			cfgSays += " (unset: loopback)"
		}
	case errors.Is(ev.cfgErr, fs.ErrNotExist):
		cfgSays = fmt.Sprintf("there is no OpenClaw configuration (%s does not exist), so nothing says loopback", ev.ConfigPath)
	default:
		cfgSays = fmt.Sprintf("the configuration %s cannot be read: %v", ev.ConfigPath, ev.cfgErr)
	}
	risk := RiskHigh
	if ev.cfg != nil && ev.cfg.Auth().Mode == "none" {
		risk = RiskCritical
	}
	return outcome{Status: StatusViolation, Risk: risk, Observed: "the running gateway listens beyond loopback: " + strings.Join(exposed, "; "),
		Evidence:   strings.Join(exposed, "; ") + "; " + cfgSays + " (live socket scan)",
		Gap:        "the gateway's WebSocket and HTTP API are reachable from other hosts, whatever the configuration says",
		Mitigation: gatewayMitigation + " If the gateway was started by hand with --bind or without a configuration file, restart it with --bind loopback."}
}

// gatewayConfigured judges openclaw.json's gateway settings, with the live
// scan (live: what gateway processes listen on, all on loopback) and the
// latest port report as evidence.
func gatewayConfigured(ev *evidence, live []string) outcome {
	bind, set := ev.cfg.Bind()
	port := 18789
	if v, ok := ev.cfg.Get("gateway.port"); ok {
		if f, ok := v.(float64); ok {
			port = int(f)
		}
	}
	auth := ev.cfg.Auth()
	evText := fmt.Sprintf("%s: gateway.bind=%s", ev.cfg.Path, bind)
	if !set {
		evText += " (unset; OpenClaw's default)"
	}
	evText += fmt.Sprintf(", gateway.port=%d, gateway.auth.mode=%s", port, orDefault(auth.Mode, "unset"))
	switch g := ev.Gateway; {
	case g == nil:
	case len(live) > 0:
		evText += "; live: " + strings.Join(live, "; ")
	case g.Note != "":
		evText += "; live scan: " + g.Note
	default:
		evText += "; live: no gateway process is listening"
	}
	var public []string
	if ev.portsRep != nil {
		for _, l := range ev.portsRep.Listeners {
			if int(l.Port) == port && l.Protocol == "tcp" && slices.Contains(l.Flags, "public") {
				public = append(public, fmt.Sprintf("%s:%d (%s)", l.BindAddress, l.Port, l.Process))
			}
		}
		evText += fmt.Sprintf("; %s (generated %s)", ports.ReportFile, ev.portsRep.GeneratedAt)
	}
	switch {
	case !openclaw.BindIsLoopback(bind):
		risk := RiskHigh
		if auth.Mode == "none" {
			risk = RiskCritical
		}
		return outcome{Status: StatusViolation, Risk: risk, Observed: "the gateway binds " + bind + ", not loopback", Evidence: evText,
			Gap: "the gateway's WebSocket and HTTP API are reachable from other hosts", Mitigation: gatewayMitigation}
	case len(public) > 0:
		return outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "a process listens publicly on the gateway port: " + strings.Join(public, ", "), Evidence: evText,
			Gap: "the configuration says loopback, but the port is exposed", Mitigation: gatewayMitigation + " Check for an older gateway or a proxy on that port."}
	case auth.Mode == "none" || (auth.Mode != "trusted-proxy" && !auth.HasToken && !auth.HasPassword):
		return outcome{Status: StatusPartial, Risk: RiskMedium, Observed: "the gateway is on loopback but openclaw.json configures no gateway auth secret", Evidence: evText,
			Gap:        "any local process or user can drive the gateway",
			Mitigation: "Set gateway.auth.mode to \"token\" with gateway.auth.token from a secret reference or ${OPENCLAW_GATEWAY_TOKEN} in " + ev.cfg.Path + " (`openclaw configure` generates one)."}
	default:
		return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "the gateway binds loopback only", Evidence: evText}
	}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func secretsPermissions(ev *evidence) outcome {
	state := ev.Paths.StateDir
	if ev.stateErr != nil {
		return outcome{Status: StatusNotAssessed, Risk: RiskMedium, Observed: "the OpenClaw state directory cannot be read", Evidence: ev.stateErr.Error(),
			Gap: "no evidence about file permissions", Mitigation: "Point OPENCLAW_STATE_DIR at the gateway's state directory and assess again."}
	}
	var loose []string
	for _, f := range ev.stateFiles {
		if f.mode&fs.ModeSymlink == 0 && f.mode.Perm()&0o077 != 0 {
			loose = append(loose, fmt.Sprintf("%s is %04o", f.path, f.mode.Perm()))
		}
	}
	auth := gatewayAuthOf(ev.cfg)
	evText := fmt.Sprintf("checked %d paths under %s", len(ev.stateFiles), state)
	switch {
	case len(loose) > 0:
		return outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "OpenClaw files are readable by group or others: " + strings.Join(loose, ", "), Evidence: evText,
			Gap:        "other local users can read tokens, credentials and session data",
			Mitigation: "Run `chmod 700 " + state + "` and `chmod 600` on the files listed (or `openclaw security audit --fix`)."}
	case auth.Plaintext:
		return outcome{Status: StatusPartial, Risk: RiskMedium, Observed: "gateway.auth holds a plaintext token or password in " + ev.ConfigPath, Evidence: evText + "; permissions are owner-only",
			Gap:        "the secret is stored in the config file itself and copied into backups",
			Mitigation: "Move gateway.auth.token/password to a secret reference or ${OPENCLAW_GATEWAY_TOKEN} (`openclaw secrets`), then rotate it."}
	default:
		return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "OpenClaw state, config and credentials are owner-only", Evidence: evText}
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

func runtimeHook(ev *evidence) outcome {
	h := ev.Hook
	if h == nil {
		why := "no hook status"
		if ev.HookErr != nil {
			why = ev.HookErr.Error()
		}
		return outcome{Status: StatusNotAssessed, Risk: RiskMedium, Observed: "the hook's state cannot be read", Evidence: why,
			Gap: "unknown whether the agent's sudo goes through the guard", Mitigation: "Run `clawwarden hook status` and fix what it reports."}
	}
	var parts []string
	var fix string
	for _, l := range h.Layers {
		parts = append(parts, l.Layer+"="+l.State)
		if fix == "" && l.Fix != "" && l.State != "ok" {
			fix = l.Fix
		}
	}
	evText := "clawwarden hook status: " + strings.Join(parts, ", ")
	bypasses := hookBypasses(h)
	sameUser := ev.Enforced == nil || !ev.Enforced.Enforced
	switch {
	case h.Effective:
		return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "the sudo shim at " + h.Shim + " is first on the gateway's PATH", Evidence: evText}
	case h.Installed && sameUser && len(bypasses) > 0:
		// Installed, but undone from where the agent can reach: the agent
		// can run `openclaw config unset tools.exec.pathPrepend` or add an
		// alias to ~/.bashrc. In enforced mode root is behind the helper,
		// so this no longer matters for root.
		return outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "the hook is installed but the agent's sudo skips the shim", Evidence: evText + "; " + strings.Join(bypasses, "; "),
			Gap:        "the agent's sudo reaches the real sudo, with no policy, approval of the exact command or audit; the agent itself can undo the hook this way",
			Mitigation: "Run `" + orDefault(fix, "clawwarden hook install") + "` (see `clawwarden hook status`). The fix that holds against a hostile agent is enforced mode: `clawwarden enforce install`."}
	case h.Installed:
		return outcome{Status: StatusPartial, Risk: RiskMedium, Observed: "the hook is installed but not effective", Evidence: evText,
			Gap: "the agent's sudo may bypass the guard", Mitigation: "Run `" + orDefault(fix, "clawwarden hook install") + "` (see `clawwarden hook status`)."}
	default:
		return outcome{Status: StatusViolation, Risk: RiskMedium, Observed: "the sudo shim is not installed", Evidence: evText,
			Gap:        "the agent's sudo calls go straight to sudo, with no policy, approval of the exact command or audit",
			Mitigation: "Run `clawwarden hook install` and restart the gateway."}
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

func doasNames(f []string, user string, groups []string) bool {
	for _, w := range f[1:] {
		if w == user || (strings.HasPrefix(w, ":") && slices.Contains(groups, w[1:])) {
			return true
		}
	}
	return false
}

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

func promptInjection(ev *evidence) outcome {
	path, pp, found, err := ev.promptPath, ev.prompt, ev.promptFound, ev.promptErr
	untrusted := "OPENCLAW_UNTRUSTED_SOURCE is not set in this environment"
	if ev.Env.UntrustedSource {
		untrusted = "OPENCLAW_UNTRUSTED_SOURCE=1 in this environment"
	}
	// OpenClaw's own exec policy: security full with ask off runs any host
	// command the model asks for, injected or not.
	var open, scopes []string
	for _, s := range ev.ExecPolicy {
		scopes = append(scopes, fmt.Sprintf("%s: security=%s ask=%s", s.AgentID, s.Security, s.Ask))
		if s.Security == "full" && s.Ask == "off" {
			open = append(open, s.AgentID)
		}
	}
	execEv := "OpenClaw exec policy not read: " + orDefault(ev.ExecPolicyNote, "unknown")
	if ev.ExecPolicy != nil {
		execEv = "openclaw approvals get: " + orNone(scopes)
	}
	evText := path + "; " + untrusted + "; " + execEv
	switch {
	case err != nil:
		return outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "the prompt policy is unusable", Evidence: err.Error() + "; " + execEv,
			Gap:        "the guard refuses to run with a malformed prompt policy, and untrusted content is not handled as intended",
			Mitigation: `Fix ` + path + `: {"require_confirmation_for_untrusted": true}, mode 0600.`}
	case found && !pp.RequireConfirmationForUntrusted:
		return outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "require_confirmation_for_untrusted is false", Evidence: evText,
			Gap:        "a privileged command prompted by untrusted content (web pages, email, chat) can reuse earlier approvals",
			Mitigation: `Set "require_confirmation_for_untrusted": true in ` + path + `.`}
	case len(open) > 0:
		return outcome{Status: StatusPartial, Risk: RiskMedium, Observed: "OpenClaw runs host commands without asking for agent(s) " + strings.Join(open, ", ") + " (exec security full, ask off)", Evidence: evText,
			Gap:        "instructions injected through content the agent reads can run any unprivileged command; only sudo goes through the guard",
			Mitigation: "Run `openclaw exec-policy preset cautious` (or set tools.exec.security to \"allowlist\" and tools.exec.ask to \"on-miss\"), see OpenClaw's docs/tools/exec-approvals.md."}
	case !found:
		return outcome{Status: StatusPartial, Risk: RiskLow, Observed: "no prompt policy file; the built-in default (confirm untrusted) applies", Evidence: path + " does not exist; " + untrusted + "; " + execEv,
			Gap:        "the default is not recorded in a reviewed policy file",
			Mitigation: `Create ` + path + ` with {"require_confirmation_for_untrusted": true} and have it reviewed.`}
	default:
		return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "untrusted content needs an extra CONFIRM before privileged commands", Evidence: evText}
	}
}

func commandPolicy(ev *evidence) outcome {
	path, err := ev.commandPath, ev.commandErr
	req := "OPENCLAW_REQUIRE_POLICY_FILES is not 1 in this environment"
	if ev.Env.RequirePolicyFiles {
		req = "OPENCLAW_REQUIRE_POLICY_FILES=1 in this environment"
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return outcome{Status: StatusPartial, Risk: RiskMedium, Observed: "no command policy; only the built-in rules apply", Evidence: path + " does not exist; " + req,
			Gap:        "no reviewed allow/deny list narrows what may be approved",
			Mitigation: `Create ` + path + ` ({"allow":[…],"deny":[…],"allow_exact":[[…]],"deny_exact":[[…]]}), have it reviewed, and set OPENCLAW_REQUIRE_POLICY_FILES=1 for the gateway.`}
	case err != nil:
		return outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "the command policy is unusable", Evidence: err.Error(),
			Gap:        "the guard refuses every privileged command while the policy is malformed or unsafe",
			Mitigation: "Fix " + path + " (`clawwarden policy check --file " + path + " -- true` shows the error)."}
	}
	n := 0
	var parts []string
	for _, k := range []string{"allow", "deny", "allow_exact", "deny_exact"} {
		n += ev.commandCounts[k]
		parts = append(parts, fmt.Sprintf("%s %d", k, ev.commandCounts[k]))
	}
	evText := path + ": " + strings.Join(parts, ", ") + "; " + req
	if n == 0 {
		return outcome{Status: StatusPartial, Risk: RiskLow, Observed: "the command policy has no rules", Evidence: evText,
			Gap: "only the built-in rules apply", Mitigation: "Add allow/deny rules for the commands agents need to " + path + "."}
	}
	return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: fmt.Sprintf("a command policy with %d rules applies", n), Evidence: evText}
}

func sessionBoundary(ev *evidence) outcome {
	path := ev.sessionPath
	evText := "OPENCLAW_REQUIRE_SESSION_ID is not 1 in this environment"
	if ev.Env.RequireSessionID {
		evText = "OPENCLAW_REQUIRE_SESSION_ID=1 in this environment"
	}
	st := ev.session
	switch err := ev.sessionErr; {
	case err != nil && ev.sessionCorrupt:
		return outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "the session state is corrupt", Evidence: err.Error(),
			Gap: "approvals cannot be trusted", Mitigation: "Run `clawwarden session drop` (it moves a corrupt state aside)."}
	case err != nil:
		return outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "the session state is unsafe or unreadable", Evidence: err.Error(),
			Gap: "approvals cannot be trusted", Mitigation: "Run `clawwarden session drop` (it moves a corrupt state aside)."}
	case !ev.sessionFound:
		evText += "; no session state at " + path
	default:
		evText += fmt.Sprintf("; %s: %d approval(s) held", path, len(st.Approvals))
	}
	unscoped := 0
	for _, a := range st.Approvals {
		if a.SessionID == "" {
			unscoped++
		}
	}
	switch {
	case len(st.Approvals) > 0 && st.Expired(ev.Now):
		return outcome{Status: StatusPartial, Risk: RiskMedium, Observed: fmt.Sprintf("%d approval(s) past the 30-minute idle limit are still stored", len(st.Approvals)), Evidence: evText,
			Gap: "they are refused when used, but should have been dropped", Mitigation: "Run `clawwarden session drop`."}
	case !ev.Env.RequireSessionID:
		return outcome{Status: StatusPartial, Risk: RiskLow, Observed: "approvals are not required to carry a task session id", Evidence: evText,
			Gap:        "an approval given for one task can be reused by another task of the same agent within the idle window",
			Mitigation: "Set OPENCLAW_REQUIRE_SESSION_ID=1 in the gateway's environment and pass OPENCLAW_TASK_SESSION_ID per task."}
	case unscoped > 0:
		return outcome{Status: StatusPartial, Risk: RiskLow, Observed: fmt.Sprintf("%d stored approval(s) have no session id", unscoped), Evidence: evText,
			Gap: "approvals from before the requirement are not scoped", Mitigation: "Run `clawwarden session drop`."}
	default:
		return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "approvals are bound to a task session id", Evidence: evText}
	}
}

func multiFactor(ev *evidence) outcome {
	if en := ev.Enforced; en != nil {
		evText := fmt.Sprintf("enforced mode: %d approver key(s) in /etc/clawwarden/allowed_signers, %d hardware-backed (sk-)", en.Keys, en.HardwareKeys)
		switch {
		case en.Keys > 0 && en.HardwareKeys == en.Keys:
			return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: "every approver signs with a hardware key that needs a touch", Evidence: evText}
		default:
			return outcome{Status: StatusPartial, Risk: RiskMedium, Observed: "approvers sign with SSH keys, not all of them hardware keys that need a touch", Evidence: evText,
				Gap:        "a stolen key file, or an ssh-agent forwarded to a compromised host, can sign an approval",
				Mitigation: "Register a FIDO key per approver (ssh-keygen -t ed25519-sk), or add keys with `ssh-add -c` so each signature asks; sign locally, not through a forwarded agent."}
		}
	}
	path, p, err := ev.passphrasePath, ev.passphrase, ev.passphraseErr
	token := ev.Env.ApprovalToken != ""
	tokenEv := "OPENCLAW_APPROVAL_TOKEN is not set in this environment"
	if token {
		tokenEv = "OPENCLAW_APPROVAL_TOKEN is set in this environment"
	}
	switch {
	case err != nil:
		return outcome{Status: StatusViolation, Risk: RiskHigh, Observed: "the approval passphrase record is unusable", Evidence: err.Error() + "; " + tokenEv,
			Gap: "approvals that need the passphrase fail", Mitigation: "Set it again with `clawwarden approval set-passphrase`."}
	case p != nil:
		obs := "an approval passphrase is set (stored as a salted Argon2id-derived key)"
		if token {
			obs += "; the environment token is also set (weak on its own)"
		}
		return outcome{Status: StatusCompliant, Risk: RiskLow, Observed: obs, Evidence: path + "; " + tokenEv}
	case token:
		return outcome{Status: StatusPartial, Risk: RiskMedium, Observed: "approval relies on OPENCLAW_APPROVAL_TOKEN only", Evidence: path + " does not exist; " + tokenEv,
			Gap:        "the token lives in the agent's environment, so the agent can read and type it: it proves little",
			Mitigation: "Run `clawwarden approval set-passphrase` on the person's own terminal; the passphrase is never stored in the agent's reach."}
	default:
		return outcome{Status: StatusViolation, Risk: RiskMedium, Observed: "approval needs only a keypress on the terminal", Evidence: path + " does not exist; " + tokenEv,
			Gap:        "no second factor: whoever controls the approving terminal approves",
			Mitigation: "Run `clawwarden approval set-passphrase` on the person's own terminal."}
	}
}
