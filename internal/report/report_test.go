package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/assess"
)

// sample returns a small assessment with hostile text in every field that
// comes from the host.
func sample() *assess.Assessment {
	pid := 77
	iso := []assess.Control{{ID: "A.8.2", Name: "Privileged access rights"}}
	nist := []assess.Control{{ID: "PR.AA-05", Name: "Access permissions"}}
	a := &assess.Assessment{
		GeneratedAt: "2026-11-25T09:00:00Z",
		Host:        `host"><script>alert(1)</script>`,
		User:        "agent",
		Tool:        "clawwarden",
		Frameworks:  map[string]string{"iso27001": "ISO/IEC 27001:2022 Annex A", "nist_csf": "NIST CSF 2.0"},
		Checks: []assess.Check{
			{CheckID: "privilege_approval_required", Title: "t1", Status: assess.StatusViolation, Risk: assess.RiskHigh, Observed: "<img src=x onerror=alert(2)>", Evidence: "e", Gap: "g", Mitigation: "m", Owner: "host administrator", DueDate: "2026-12-02", ISO27001: iso, NISTCSF: nist, Source: assess.SourceClawwarden},
			{CheckID: "elevation_timeout_30m", Title: "t2", Status: assess.StatusCompliant, Risk: assess.RiskLow, Observed: "ok", Evidence: "e", Owner: "host administrator", ISO27001: []assess.Control{{ID: "A.8.13", Name: "Information backup"}, {ID: "A.8.9", Name: "Configuration management"}}, NISTCSF: nist, Source: assess.SourceClawwarden},
			{CheckID: "backup_configured", Title: "t3", Status: assess.StatusPartial, Risk: assess.RiskCritical, Observed: "old", Evidence: "e", Gap: "g", Mitigation: "m", Owner: "OpenClaw operator", DueDate: "2026-11-26", ISO27001: []assess.Control{{ID: "A.8.13", Name: "Information backup"}}, NISTCSF: []assess.Control{{ID: "PR.DS-11", Name: "Backups"}}, Source: assess.SourceClawwarden},
		},
		OpenClawAudit: assess.AuditSection{Ran: true, Findings: []assess.Check{
			{CheckID: "openclaw:gateway.loopback_no_auth", Title: "Gateway auth missing", Status: assess.StatusNotAssessed, Risk: assess.RiskMedium, Owner: "OpenClaw operator", ISO27001: iso, NISTCSF: nist, Source: assess.SourceOpenClawAudit},
		}},
		Network:    []assess.NetworkFinding{{Report: "ports", CheckID: "open_ports_approved", Status: "violation", Risk: "high", Title: "tcp 0.0.0.0:23", Protocol: "tcp", Address: "0.0.0.0", Port: 23, Process: "<inetd>", PID: &pid, Flags: []string{"unapproved", "insecure"}}},
		AuditChain: assess.ChainVerdict{File: "/home/agent/.openclaw/security/privileged-audit.jsonl", Status: "ok", Records: 2, Head: "ab", Detail: "2 chained records verify"},
		Recent:     []assess.Action{{Time: "2026-11-25T08:59:00Z", Event: "request", Command: "bash -c 'curl x | sh' </script><script>alert(3)</script>", Reason: "<b>why</b>"}},
	}
	a.Summary = assess.Summary{Status: assess.StatusViolation, Total: 4,
		ByStatus:   map[string]int{"compliant": 1, "partial": 1, "violation": 1, "not_assessed": 1},
		ByRisk:     map[string]int{"critical": 1, "high": 1, "medium": 1, "low": 0},
		Violations: []string{"privilege_approval_required"}, Score: 50}
	return a
}

func TestSummarize(t *testing.T) {
	s := Summarize(sample())
	var gotOpen []string
	for _, it := range s.OpenItems {
		gotOpen = append(gotOpen, it.CheckID)
	}
	wantOpen := []string{"privilege_approval_required", "backup_configured", "openclaw:gateway.loopback_no_auth"}
	if !slices.Equal(gotOpen, wantOpen) {
		t.Errorf("open items = %v, want %v (worst status first)", gotOpen, wantOpen)
	}
	var gotCtl []string
	for _, c := range s.Controls {
		gotCtl = append(gotCtl, c.Framework+" "+c.ID+" "+c.Status)
	}
	wantCtl := []string{
		"iso27001 A.8.2 violation", "iso27001 A.8.9 compliant", "iso27001 A.8.13 partial",
		"nist_csf PR.AA-05 violation", "nist_csf PR.DS-11 partial",
	}
	if !slices.Equal(gotCtl, wantCtl) {
		t.Errorf("controls =\n%q\nwant\n%q", gotCtl, wantCtl)
	}
}

func TestCompareControlIDs(t *testing.T) {
	tests := []struct {
		a, b string
		want int // sign
	}{
		{"A.8.9", "A.8.13", -1},
		{"A.5.15", "A.8.2", -1},
		{"A.8.2", "A.8.2", 0},
		{"PR.AA-05", "PR.AA-03", 1},
		{"DE.CM-09", "PR.AA-01", -1},
	}
	for _, tt := range tests {
		got := compareControlIDs(tt.a, tt.b)
		if (got < 0) != (tt.want < 0) || (got > 0) != (tt.want > 0) {
			t.Errorf("compareControlIDs(%q, %q) = %d, want sign %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestDashboardEscapesHostText(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteDashboard(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, bad := range []string{"<script>alert", "<img src=x", "<b>why</b>", "<inetd>"} {
		if strings.Contains(page, bad) {
			t.Errorf("dashboard contains unescaped %q", bad)
		}
	}
	for _, want := range []string{
		`content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"`,
		"&lt;img src=x onerror=alert(2)&gt;", "&lt;inetd&gt;", `id="checks"`, `id="network"`, `id="recent"`, "<svg",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	// Exactly one <script>: ours.
	if n := strings.Count(page, "<script"); n != 1 {
		t.Errorf("dashboard has %d <script> tags, want 1", n)
	}
	for _, ext := range []string{"http://", "https://", "src=\"//"} {
		if strings.Contains(page, ext) {
			t.Errorf("dashboard references %q: it must be self-contained", ext)
		}
	}
}

func TestWriteAll(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "assessments")
	p, err := WriteAll(dir, sample())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{p.Assessment, p.Summary, p.Dashboard} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("%s mode = %04o, want 0600", f, got)
		}
	}
	data, err := os.ReadFile(p.Summary)
	if err != nil {
		t.Fatal(err)
	}
	var s Summary
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("compliance-summary.json: %v", err)
	}
	if s.Status != assess.StatusViolation || len(s.OpenItems) != 3 {
		t.Errorf("summary status %q with %d open items, want violation with 3", s.Status, len(s.OpenItems))
	}
}
