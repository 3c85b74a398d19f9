package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawwarden/clawwarden/internal/assess"
	"github.com/clawwarden/clawwarden/internal/audit"
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

// sampleWithLog is sample with a real audit log: one request that ran and
// failed, one refused by the policy, one approved by a signer that did not
// run, one pending, a session event, and hostile text in the command and
// reason.
func sampleWithLog(t *testing.T) *assess.Assessment {
	t.Helper()
	a := sample()
	a.AuditChain.File = filepath.Join(t.TempDir(), "privileged-audit.jsonl")
	argv := []string{"/usr/bin/systemctl", "restart", "nginx"}
	hostile := []string{"/usr/bin/bash", "-c", "curl x | sh </script><script>alert(3)</script>"}
	recs := []audit.Record{
		{RequestID: "r1", Event: "request", Argv: argv, SessionID: "task-42", Reason: "apply new config"},
		{RequestID: "r1", Event: "policy", Argv: argv, Decision: "allow", Rule: "allow_exact[0]"},
		{RequestID: "r1", Event: "approval", Argv: argv, Decision: "approved", Detail: "terminal /dev/pts/3"},
		{RequestID: "r1", Event: "result", Argv: argv, Decision: "ran", ExitCode: intp(1)},
		{RequestID: "r2", Event: "request", Argv: hostile, SessionID: "task-43", Reason: "<b>why</b>"},
		{RequestID: "r2", Event: "policy", Argv: hostile, Decision: "deny", Rule: "builtin:shell", Detail: "shells need explicit policy"},
		{RequestID: "r2", Event: "refused", Argv: hostile, Decision: "refused", Rule: "builtin:shell", Detail: "shells need explicit policy"},
		{Event: "session", Decision: "dropped", Detail: "clawwarden session drop"},
		{RequestID: "r3", Event: "request", Argv: argv, SessionID: "task-44"},
		{RequestID: "r3", Event: "policy", Argv: argv, Decision: "allow", Rule: "allow_exact[0]"},
		{RequestID: "r3", Event: "approval", Argv: argv, Decision: "approved", Approver: "alice@example.org", KeyFP: "SHA256:q0Vx2mVd"},
		{RequestID: "r3", Event: "result", Argv: argv, Decision: "not run", Detail: "enforced: the binary changed since the request"},
		{RequestID: "r4", Event: "request", Argv: []string{"/usr/bin/apt-get", "upgrade", "-y"}, SessionID: "task-45"},
		{RequestID: "r4", Event: "policy", Decision: "allow", Rule: "allow[2]"},
		{RequestID: "r4", Event: "approval", Decision: "pending", Detail: "non-interactive sudo; waiting for 'clawwarden approve r4'"},
	}
	for i := range recs {
		recs[i].Time = time.Date(2026, 11, 25, 8, 50+i/4, 0, 0, time.UTC)
	}
	if err := (&audit.Log{Path: a.AuditChain.File}).Append(recs...); err != nil {
		t.Fatal(err)
	}
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
	if err := WriteDashboard(&buf, sampleWithLog(t)); err != nil {
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
		"&lt;img src=x onerror=alert(2)&gt;", "&lt;inetd&gt;", `id="checks"`, `id="network"`, `id="recent"`,
		"&lt;/script&gt;&lt;script&gt;alert(3)", "&lt;b&gt;why&lt;/b&gt;",
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

// TestDashboardRequests: each request is one row with how it ended and who
// approved it, newest first.
func TestDashboardRequests(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteDashboard(&buf, sampleWithLog(t)); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{
		`data-request="r4" data-outcome="pending"`,
		`data-request="r3" data-outcome="not run"`, "alice@example.org (SHA256:q0Vx2mVd)", "enforced: the binary changed since the request",
		`data-request="r2" data-outcome="refused"`, "deny (builtin:shell)",
		`data-request="r1" data-outcome="ran"`, `class="badge o-ran-fail">ran, exit 1<`, "terminal /dev/pts/3",
		"session dropped",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	if i, j := strings.Index(page, `data-request="r4"`), strings.Index(page, `data-request="r1"`); i > j {
		t.Error("requests are not newest first")
	}
}

// TestWriteAllKeepsPrevious: the second WriteAll keeps the first
// assessment as openclaw-assessment.previous.json and the dashboard lists
// what changed.
func TestWriteAllKeepsPrevious(t *testing.T) {
	dir := t.TempDir()
	first := sample()
	p, err := WriteAll(dir, first)
	if err != nil {
		t.Fatal(err)
	}
	if p.Previous != "" {
		t.Errorf("first run kept a previous assessment: %s", p.Previous)
	}
	page, err := os.ReadFile(p.Dashboard)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), "no previous assessment to compare with") {
		t.Error("the first dashboard does not say there is nothing to compare with")
	}
	firstJSON, err := os.ReadFile(p.Assessment)
	if err != nil {
		t.Fatal(err)
	}

	second := sample()
	second.GeneratedAt = "2026-11-26T09:00:00Z"
	second.Checks[0].Status = assess.StatusCompliant                                         // privilege_approval_required resolved
	second.Checks[1].Status, second.Checks[1].Risk = assess.StatusViolation, assess.RiskHigh // elevation_timeout_30m new
	p, err = WriteAll(dir, second)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := os.ReadFile(p.Previous)
	if err != nil {
		t.Fatal(err)
	}
	if string(kept) != string(firstJSON) {
		t.Error("openclaw-assessment.previous.json is not the assessment the second run replaced")
	}
	if fi, err := os.Stat(p.Previous); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("previous assessment: %v, %v; want mode 0600", fi, err)
	}
	page, err = os.ReadFile(p.Dashboard)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`id="changes-new">1<`, `id="changes-resolved">1<`, `id="changes-worse">0<`,
		"compared with the assessment of 2026-11-25T09:00:00Z",
		`<tr data-kind="new">`, "elevation_timeout_30m", `<tr data-kind="resolved">`,
	} {
		if !strings.Contains(string(page), want) {
			t.Errorf("second dashboard lacks %q", want)
		}
	}

	// An old assessment that is not one is left alone, and the dashboard
	// says so.
	if err := os.WriteFile(p.Assessment, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteAll(dir, second); err != nil {
		t.Fatal(err)
	}
	page, err = os.ReadFile(p.Dashboard)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), "is not an assessment, so there is nothing to compare with") {
		t.Error("the dashboard does not say the old assessment could not be parsed")
	}
	if kept2, _ := os.ReadFile(p.Previous); string(kept2) != string(firstJSON) {
		t.Error("an unparseable assessment replaced the kept previous one")
	}
}
