package openclaw

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// AuditFinding is one finding of `openclaw security audit --json`
// (OpenClaw's docs/cli/security.md).
type AuditFinding struct {
	CheckID     string `json:"checkId"`
	Severity    string `json:"severity"` // critical, warn or info
	Title       string `json:"title"`
	Detail      string `json:"detail"`
	Remediation string `json:"remediation,omitempty"`
}

// AuditReport is the part of `openclaw security audit --json` clawwarden
// reads.
type AuditReport struct {
	Summary struct {
		Critical int `json:"critical"`
		Warn     int `json:"warn"`
		Info     int `json:"info"`
	} `json:"summary"`
	Findings []AuditFinding `json:"findings"`
}

// ParseAudit parses the JSON printed by `openclaw security audit --json`.
// Anything printed before the first "{" (banners, warnings) is skipped.
func ParseAudit(data []byte) (*AuditReport, error) {
	i := bytes.IndexByte(data, '{')
	if i < 0 {
		return nil, errors.New("openclaw security audit printed no JSON object")
	}
	var r AuditReport
	if err := json.Unmarshal(data[i:], &r); err != nil {
		return nil, fmt.Errorf("parse openclaw security audit output: %w", err)
	}
	return &r, nil
}

// RunAudit runs `exe security audit --json` with the given timeout; see
// [CLI.SecurityAudit].
func RunAudit(ctx context.Context, exe string, timeout time.Duration) (*AuditReport, error) {
	return (&CLI{Path: exe, Timeout: timeout}).SecurityAudit(ctx)
}

// ExecScope is the effective exec policy of one agent, as
// `openclaw approvals get --json` reports it (OpenClaw's docs/cli/approvals.md).
type ExecScope struct {
	AgentID  string // the agent
	Security string // deny, allowlist or full
	Ask      string // off, on-miss or always
}

// ParseApprovals reads the effective exec policy scopes from the JSON
// printed by `openclaw approvals get --json`.
func ParseApprovals(data []byte) ([]ExecScope, error) {
	i := bytes.IndexByte(data, '{')
	if i < 0 {
		return nil, errors.New("openclaw approvals get printed no JSON object")
	}
	var doc struct {
		EffectivePolicy struct {
			Scopes []struct {
				AgentID  string `json:"agentId"`
				Security struct {
					Effective string `json:"effective"`
				} `json:"security"`
				Ask struct {
					Effective string `json:"effective"`
				} `json:"ask"`
			} `json:"scopes"`
		} `json:"effectivePolicy"`
	}
	if err := json.Unmarshal(data[i:], &doc); err != nil {
		return nil, fmt.Errorf("parse openclaw approvals get output: %w", err)
	}
	var out []ExecScope
	for _, s := range doc.EffectivePolicy.Scopes {
		out = append(out, ExecScope{AgentID: s.AgentID, Security: s.Security.Effective, Ask: s.Ask.Effective})
	}
	return out, nil
}

// RunApprovals runs `exe approvals get --json` with the given timeout; see
// [CLI.Approvals].
func RunApprovals(ctx context.Context, exe string, timeout time.Duration) ([]ExecScope, error) {
	return (&CLI{Path: exe, Timeout: timeout}).Approvals(ctx)
}
