// Package assess evaluates a host that runs OpenClaw agents against the
// controls of the cyber-security-engineer skill and maps each check to
// ISO/IEC 27001:2022 Annex A and NIST CSF 2.0.
//
// Every check is computed from evidence read at assessment time: OpenClaw's
// openclaw.json, file permissions, the sudoers configuration, the runtime
// hook's status, the audit chain, the policy files and the latest port and
// egress reports. Where the evidence cannot be read the check is
// not_assessed and says why; it never guesses. Findings of
// `openclaw security audit --json` are mapped to the same controls.
//
// The control references come from one embedded map (controls.json).
// Everything that varies between hosts and runs (paths, clock, hostname,
// user, the filesystem root under which /etc is read, the hook status) is
// an [Options] field, so tests are deterministic.
package assess

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/finding"
	"github.com/clawwarden/clawwarden/internal/hook"
	"github.com/clawwarden/clawwarden/internal/openclaw"
)

// Statuses of a [Check], best first: the [finding.Status] values as
// strings.
const (
	StatusCompliant   = string(finding.Compliant)
	StatusNotAssessed = string(finding.NotAssessed)
	StatusPartial     = string(finding.Partial)
	StatusViolation   = string(finding.Violation)
)

// Risks of a [Check], lowest first: the [finding.Risk] values as strings.
const (
	RiskLow      = string(finding.Low)
	RiskMedium   = string(finding.Medium)
	RiskHigh     = string(finding.High)
	RiskCritical = string(finding.Critical)
)

// Report file names in the reports directory.
const (
	AssessmentFile = "openclaw-assessment.json"
	SummaryFile    = "compliance-summary.json"
	DashboardFile  = "compliance-dashboard.html"
)

// Sources of a [Check].
const (
	SourceClawwarden    = "clawwarden"
	SourceOpenClawAudit = "openclaw security audit"
)

// Control is one ISO/IEC 27001 or NIST CSF reference.
type Control struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Check is one assessed control in the skill's output contract.
type Check struct {
	CheckID    string    `json:"check_id"`
	Title      string    `json:"title"`
	Status     string    `json:"status"`
	Risk       string    `json:"risk"`
	Observed   string    `json:"observed"`   // the state found, in one sentence
	Evidence   string    `json:"evidence"`   // what was read, where
	Gap        string    `json:"gap"`        // what falls short of the control; empty when compliant
	Mitigation string    `json:"mitigation"` // what to change, where
	Owner      string    `json:"owner"`
	DueDate    string    `json:"due_date"` // empty when compliant
	ISO27001   []Control `json:"iso27001"`
	NISTCSF    []Control `json:"nist_csf"`
	Source     string    `json:"source"`
}

// controlsJSON is the one controls map: every check's title, owner and
// ISO/NIST references, and the mapping of OpenClaw audit check ids.
//
//go:embed controls.json
var controlsJSON []byte

type checkDef struct {
	CheckID  string   `json:"check_id"`
	Title    string   `json:"title"`
	Owner    string   `json:"owner"`
	ISO27001 []string `json:"iso27001"`
	NISTCSF  []string `json:"nist_csf"`
}

type auditMapping struct {
	Prefix   string   `json:"prefix"`
	ISO27001 []string `json:"iso27001"`
	NISTCSF  []string `json:"nist_csf"`
}

type controlsMap struct {
	Frameworks    map[string]string `json:"frameworks"`
	Controls      map[string]string `json:"controls"`
	Checks        []checkDef        `json:"checks"`
	OpenClawAudit []auditMapping    `json:"openclaw_audit"`
}

// controls parses the embedded map on first use, not at program start:
// every clawwarden invocation (the sudo shim included) would pay for it.
var controls = sync.OnceValue(func() controlsMap {
	var m controlsMap
	if err := json.Unmarshal(controlsJSON, &m); err != nil {
		panic("assess: controls.json: " + err.Error())
	}
	return m
})

// CheckIDs lists the check ids of the assessment, in report order.
func CheckIDs() []string {
	ids := make([]string, len(controls().Checks))
	for i, d := range controls().Checks {
		ids[i] = d.CheckID
	}
	return ids
}

func refs(ids []string) []Control {
	out := make([]Control, 0, len(ids))
	for _, id := range ids {
		out = append(out, Control{ID: id, Name: controls().Controls[id]})
	}
	return out
}

// Options are the inputs of an assessment.
type Options struct {
	Paths      config.Paths
	Env        config.Env
	ConfigPath string // openclaw.json; see openclaw.ConfigPath
	ReportsDir string // where the latest port and egress reports are read; Paths.ReportsDir when empty
	Now        time.Time
	Hostname   string
	User       string   // the assessed user's name
	UID        int      // the assessed user's uid
	Groups     []string // the assessed user's group names
	// Root is the filesystem root under which /etc (sudoers, apt, doas) and
	// the privilege binaries are read; "" means "/".
	Root string
	// SudoList runs `sudo -n -l` when the sudoers files cannot be read; nil
	// skips that fallback.
	SudoList func(ctx context.Context) ([]byte, error)
	// Hook is the runtime hook's status; nil with HookErr saying why it is
	// unknown.
	Hook    *hook.Status
	HookErr error
	// OpenClawAudit holds the findings of `openclaw security audit --json`;
	// nil with OpenClawAuditNote saying why it did not run.
	OpenClawAudit     *openclaw.AuditReport
	OpenClawAuditNote string
	// ExecPolicy is OpenClaw's effective exec policy per agent, from
	// `openclaw approvals get --json`; nil with ExecPolicyNote saying why it
	// was not read.
	ExecPolicy     []openclaw.ExecScope
	ExecPolicyNote string
	// Enforced is enforced mode's status (see package enforce) when it is
	// installed here; nil means same-user mode. Read it as root for the
	// complete boundary check.
	Enforced *Enforcement
	// Gateway is what OpenClaw gateway processes listen on now, from a live
	// socket scan; nil when not scanned.
	Gateway *LiveGateway
	// RecentActions is how many audit records the dashboard shows (20 when 0).
	RecentActions int
}

// LiveGateway is the live socket scan's view of the gateway.
type LiveGateway struct {
	Listeners []openclaw.Listener
	// Note says why the scan failed or may have missed a gateway (other
	// users' processes cannot be attributed without root); "" when
	// complete.
	Note string
}

// Assessment is the content of openclaw-assessment.json.
type Assessment struct {
	GeneratedAt   string            `json:"generated_at"`
	Host          string            `json:"host"`
	User          string            `json:"user"`
	Tool          string            `json:"tool"`
	Frameworks    map[string]string `json:"frameworks"`
	Inputs        Inputs            `json:"inputs"`
	Checks        []Check           `json:"checks"`
	OpenClawAudit AuditSection      `json:"openclaw_security_audit"`
	Network       []NetworkFinding  `json:"network_findings"`
	AuditChain    ChainVerdict      `json:"audit_chain"`
	Recent        []Action          `json:"recent_privileged_actions"`
	InputErrors   []string          `json:"input_errors,omitempty"`
	Summary       Summary           `json:"summary"`
}

// Inputs names where the evidence came from.
type Inputs struct {
	OpenClawConfig string `json:"openclaw_config"`
	StateDir       string `json:"state_dir"`
	SecurityDir    string `json:"security_dir"`
	ReportsDir     string `json:"reports_dir"`
	Sudoers        string `json:"sudoers"`
}

// AuditSection is what `openclaw security audit --json` contributed.
type AuditSection struct {
	Ran      bool    `json:"ran"`
	Note     string  `json:"note,omitempty"`
	Findings []Check `json:"findings"`
}

// NetworkFinding is one finding of the latest port or egress report.
type NetworkFinding struct {
	Report   string   `json:"report"` // ports or egress
	CheckID  string   `json:"check_id"`
	Status   string   `json:"status"`
	Risk     string   `json:"risk"`
	Title    string   `json:"title"`
	Protocol string   `json:"protocol"`
	Address  string   `json:"address"` // bind address (ports) or remote address (egress)
	Port     uint16   `json:"port"`
	Process  string   `json:"process"`
	PID      *int     `json:"pid"`
	Flags    []string `json:"flags"`
}

// ChainVerdict is the audit chain's verification result.
type ChainVerdict struct {
	File    string `json:"file"`
	Status  string `json:"status"` // ok, broken, missing, unreadable
	Records int    `json:"records"`
	Legacy  int    `json:"legacy"`
	Head    string `json:"head,omitempty"`
	Detail  string `json:"detail"`
}

// Action is one recent audit record, for people.
type Action struct {
	Time     string `json:"time"`
	Event    string `json:"event"`
	Command  string `json:"command"`
	Decision string `json:"decision"`
	Session  string `json:"session"`
	Reason   string `json:"reason"`
}

// Summary counts the checks.
type Summary struct {
	Status     string         `json:"status"` // violation, partial or compliant: the worst assessed status
	Total      int            `json:"total"`
	ByStatus   map[string]int `json:"by_status"`
	ByRisk     map[string]int `json:"by_risk"` // of checks that are not compliant
	Violations []string       `json:"violations"`
	Score      int            `json:"score_percent"` // compliant share of assessed checks (partial counts half)
}

// HasViolations reports whether any check, OpenClaw's included, is a
// violation.
func (a *Assessment) HasViolations() bool { return a.Summary.ByStatus[StatusViolation] > 0 }

// FailOn is the finding status from which a completed assessment counts as
// failed (`assess --fail-on`): a completed assessment is a success by
// default, as with the scanners people know, and scripts opt in.
type FailOn string

// FailOn levels.
const (
	FailNever     FailOn = "none"      // a completed assessment never fails
	FailViolation FailOn = "violation" // any violation fails
	FailPartial   FailOn = "partial"   // any violation or partial fails
)

// ErrBadFailOn is returned by [ParseFailOn] for an unknown level.
var ErrBadFailOn = errors.New(`--fail-on must be "none", "violation" or "partial"`)

// ParseFailOn reads a --fail-on value.
func ParseFailOn(s string) (FailOn, error) {
	switch f := FailOn(s); f {
	case FailNever, FailViolation, FailPartial:
		return f, nil
	}
	return "", fmt.Errorf("%w, not %q", ErrBadFailOn, s)
}

// Fails reports whether the assessment fails at level f.
func (a *Assessment) Fails(f FailOn) bool {
	switch f {
	case FailViolation:
		return a.HasViolations()
	case FailPartial:
		return a.HasViolations() || a.Summary.ByStatus[StatusPartial] > 0
	}
	return false
}

// AllChecks returns the checks followed by the mapped OpenClaw audit
// findings.
func (a *Assessment) AllChecks() []Check {
	return append(slices.Clone(a.Checks), a.OpenClawAudit.Findings...)
}

// Run performs the assessment.
func Run(ctx context.Context, o Options) *Assessment {
	if o.ReportsDir == "" {
		o.ReportsDir = o.Paths.ReportsDir
	}
	if o.ConfigPath == "" {
		o.ConfigPath = openclaw.ConfigPath(o.Env.ConfigPath, o.Paths.StateDir, o.Paths.Home)
	}
	if o.RecentActions == 0 {
		o.RecentActions = 20
	}
	e := &evaluator{o: o, ctx: ctx, byID: map[string]*Check{}}
	a := &Assessment{
		GeneratedAt: o.Now.UTC().Format(time.RFC3339),
		Host:        o.Hostname,
		User:        o.User,
		Tool:        "clawwarden",
		Frameworks:  controls().Frameworks,
		Inputs: Inputs{
			OpenClawConfig: o.ConfigPath,
			StateDir:       o.Paths.StateDir,
			SecurityDir:    o.Paths.SecurityDir,
			ReportsDir:     o.ReportsDir,
		},
	}
	for _, d := range controls().Checks {
		c := &Check{
			CheckID: d.CheckID, Title: d.Title, Owner: d.Owner,
			ISO27001: refs(d.ISO27001), NISTCSF: refs(d.NISTCSF), Source: SourceClawwarden,
		}
		e.byID[d.CheckID] = c
	}
	e.gather()
	e.evaluate()
	for _, d := range controls().Checks {
		c := e.byID[d.CheckID]
		if c.Status == "" {
			panic("assess: check " + d.CheckID + " was not evaluated")
		}
		finish(c, o.Now)
		a.Checks = append(a.Checks, *c)
	}
	a.Inputs.Sudoers = e.sudo.Source
	a.OpenClawAudit = mapOpenClawAudit(o)
	for i := range a.OpenClawAudit.Findings {
		finish(&a.OpenClawAudit.Findings[i], o.Now)
	}
	a.Network = e.network
	a.AuditChain = e.chain
	a.Recent = e.recent
	a.InputErrors = e.inputErrors
	a.Summary = summarize(a.AllChecks())
	return a
}

// finish fills the due date: by risk for anything not compliant.
func finish(c *Check, now time.Time) {
	if c.Status == StatusCompliant {
		c.DueDate = ""
		if c.Risk == "" {
			c.Risk = RiskLow
		}
		return
	}
	if c.Risk == "" {
		c.Risk = RiskMedium
	}
	c.DueDate = finding.DueDate(now, finding.Risk(c.Risk))
}

func summarize(checks []Check) Summary {
	s := Summary{
		ByStatus:   map[string]int{StatusCompliant: 0, StatusPartial: 0, StatusViolation: 0, StatusNotAssessed: 0},
		ByRisk:     map[string]int{RiskLow: 0, RiskMedium: 0, RiskHigh: 0, RiskCritical: 0},
		Violations: []string{},
	}
	assessed, points := 0, 0
	for _, c := range checks {
		s.Total++
		s.ByStatus[c.Status]++
		if c.Status != StatusCompliant {
			s.ByRisk[c.Risk]++
		}
		switch c.Status {
		case StatusViolation:
			s.Violations = append(s.Violations, c.CheckID)
			assessed++
		case StatusPartial:
			assessed++
			points++
		case StatusCompliant:
			assessed++
			points += 2
		}
	}
	switch {
	case s.ByStatus[StatusViolation] > 0:
		s.Status = StatusViolation
	case s.ByStatus[StatusPartial] > 0:
		s.Status = StatusPartial
	case assessed == 0:
		s.Status = StatusNotAssessed
	default:
		s.Status = StatusCompliant
	}
	if assessed > 0 {
		s.Score = points * 50 / assessed
	}
	return s
}

// mapOpenClawAudit maps the findings of `openclaw security audit --json` to
// checks: critical is a violation, warn partial, info compliant.
func mapOpenClawAudit(o Options) AuditSection {
	sec := AuditSection{Findings: []Check{}}
	if o.OpenClawAudit == nil {
		sec.Note = o.OpenClawAuditNote
		return sec
	}
	sec.Ran = true
	sec.Note = o.OpenClawAuditNote
	for _, f := range o.OpenClawAudit.Findings {
		c := Check{
			CheckID:  "openclaw:" + f.CheckID,
			Title:    f.Title,
			Observed: f.Detail,
			Evidence: fmt.Sprintf("openclaw security audit --json: checkId %s, severity %s", f.CheckID, f.Severity),
			Owner:    "OpenClaw operator",
			Source:   SourceOpenClawAudit,
		}
		switch strings.ToLower(f.Severity) {
		case "critical":
			c.Status, c.Risk = StatusViolation, RiskCritical
		case "warn", "warning":
			c.Status, c.Risk = StatusPartial, RiskMedium
		default:
			c.Status, c.Risk = StatusCompliant, RiskLow
		}
		if c.Status != StatusCompliant {
			c.Gap = f.Detail
			c.Mitigation = f.Remediation
			if c.Mitigation == "" {
				c.Mitigation = "See `openclaw security audit` for " + f.CheckID + "; `openclaw security audit --fix` applies the safe fixes."
			}
		}
		m := auditMappingFor(f.CheckID)
		c.ISO27001, c.NISTCSF = refs(m.ISO27001), refs(m.NISTCSF)
		sec.Findings = append(sec.Findings, c)
	}
	return sec
}

// auditMappingFor returns the mapping of the longest matching prefix; the
// empty prefix is the generic A.8.9 / PR.PS-01 mapping.
func auditMappingFor(checkID string) auditMapping {
	best := auditMapping{Prefix: "-", ISO27001: []string{"A.8.9"}, NISTCSF: []string{"PR.PS-01"}}
	for _, m := range controls().OpenClawAudit {
		if strings.HasPrefix(checkID, m.Prefix) && (best.Prefix == "-" || len(m.Prefix) > len(best.Prefix)) {
			best = m
		}
	}
	return best
}

// Enforcement is what the assessment needs of enforced mode's status.
type Enforcement struct {
	Enforced  bool     // enforced mode holds (installed, unchanged, no other route to root)
	AgentUser string   // the agent account
	Reasons   []string // why it does not hold
	Evidence  []string // what the boundary check looked at
	// HardwareKeys and Keys count the approvers' keys that need a touch
	// (FIDO sk- keys) and all of them.
	HardwareKeys, Keys int
}
