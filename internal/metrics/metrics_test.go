package metrics_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clawwarden/clawwarden/internal/approval"
	"github.com/clawwarden/clawwarden/internal/assess"
	"github.com/clawwarden/clawwarden/internal/audit"
	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/egress"
	"github.com/clawwarden/clawwarden/internal/enforce"
	"github.com/clawwarden/clawwarden/internal/finding"
	"github.com/clawwarden/clawwarden/internal/metrics"
	"github.com/clawwarden/clawwarden/internal/ports"
	"github.com/clawwarden/clawwarden/internal/report"
	"github.com/clawwarden/clawwarden/internal/rootside"
	"github.com/clawwarden/clawwarden/internal/safefile"
	"github.com/clawwarden/clawwarden/internal/testenv"
)

var now = time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)

// host is a clawwarden home with a real assessment, a port and an egress
// report, one pending request, an audit log with decisions, and a cycle
// log.
type host struct {
	paths  config.Paths
	layout rootside.Layout // enforced mode not installed
	a      *assess.Assessment
}

func newHost(t *testing.T) host {
	t.Helper()
	dir := t.TempDir()
	env := map[string]string{"HOME": filepath.Join(dir, "home")}
	paths, err := config.Locate(func(k string) string { return env[k] })
	must(t, err)
	root := filepath.Join(dir, "root")
	must(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	a := assess.Run(context.Background(), assess.Options{Paths: paths, Now: now.Add(-time.Hour), Hostname: "h", User: "agent", UID: 1000, Root: root})
	_, err = report.WriteAll(paths.ReportsDir, a)
	must(t, err)

	pid := 42
	pr := ports.Report{GeneratedAt: now.Add(-2 * time.Hour).Format(time.RFC3339), Host: "h",
		Listeners: []ports.Listener{{Protocol: "tcp", BindAddress: "0.0.0.0", Port: 2323, PID: &pid, Process: "telnetd"}, {Protocol: "tcp", BindAddress: "127.0.0.1", Port: 18789, Process: "node", Approved: true}},
		Findings:  []ports.Finding{{Fields: finding.Fields{CheckID: "insecure_port", Status: "violation", Risk: "critical"}, Port: 2323, Protocol: "tcp", BindAddress: "0.0.0.0"}},
		Summary:   ports.Summary{Status: "violation", Listeners: 2, Approved: 1, Flagged: 1, Unapproved: 1, Insecure: 1, Public: 1}}
	var buf bytes.Buffer
	must(t, pr.WriteJSON(&buf))
	must(t, safefile.WriteFile(filepath.Join(paths.ReportsDir, ports.ReportFile), buf.Bytes()))
	er := egress.Report{GeneratedAt: now.Add(-2 * time.Hour).Format(time.RFC3339), Host: "h",
		Findings: []egress.Finding{{Fields: finding.Fields{CheckID: "egress_not_allowlisted", Status: "violation", Risk: "high"}, RemoteAddress: "203.0.113.9", Port: 443}},
		Summary:  egress.Summary{Status: "violation", Connections: 3, Allowed: 2, Flagged: 1, Destinations: 2}}
	buf.Reset()
	must(t, er.WriteJSON(&buf))
	must(t, safefile.WriteFile(filepath.Join(paths.ReportsDir, egress.ReportFile), buf.Bytes()))

	q := approval.Queue{Dir: paths.PendingDir(), Now: func() time.Time { return now }}
	must(t, q.Submit(approval.Request{Version: approval.RequestVersion, ID: approval.NewID(), Argv: []string{"/usr/bin/systemctl", "restart", "nginx"},
		BinarySHA256: strings.Repeat("a", 64), Cwd: "/", Created: now.Add(-15 * time.Minute), Expires: now.Add(time.Hour)}))
	// Expired long enough ago to be ignored, not removed yet.
	must(t, q.Submit(approval.Request{Version: approval.RequestVersion, ID: approval.NewID(), Argv: []string{"/usr/bin/true"},
		BinarySHA256: strings.Repeat("b", 64), Cwd: "/", Created: now.Add(-50 * time.Minute), Expires: now.Add(-40 * time.Minute)}))

	must(t, safefile.EnsureDir(paths.SecurityDir))
	log := audit.Log{Path: paths.Security(config.AuditLogFile)}
	code := 0
	must(t, log.Append(
		audit.Record{Time: now.Add(-30 * time.Minute), Event: "approval", Decision: "granted", RequestID: "r1"},
		audit.Record{Time: now.Add(-30 * time.Minute), Event: "approval", Decision: "approved", RequestID: "r1"},
		audit.Record{Time: now.Add(-29 * time.Minute), Event: "result", Decision: "ran", ExitCode: &code, RequestID: "r1"},
		audit.Record{Time: now.Add(-20 * time.Minute), Event: "approval", Decision: "refused"},
		audit.Record{Time: now.Add(-10 * time.Minute), Event: "approval", Decision: "approved"},
		audit.Record{Time: now.Add(-10 * time.Minute), Event: "result", Decision: "not run"},
	))

	must(t, safefile.EnsureDir(paths.LogsDir))
	must(t, os.WriteFile(paths.CycleLog(), []byte(
		"2026-12-02T06:00:00Z cycle start (pid 1)\n2026-12-02T06:00:04Z cycle end: exit 10 in 4200 ms\n"+
			"2026-12-02T07:00:00Z cycle start (pid 2)\n2026-12-02T07:00:01Z step ports: exit 0 in 5ms\n    cycle end: exit 3 in 9 ms\n"+
			"2026-12-02T07:00:03Z cycle end: exit 0 in 3250 ms\n"), 0o600))
	return host{paths: paths, layout: rootside.Layout{Root: filepath.Join(dir, "noenforce")}, a: a}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (h host) gather() *metrics.Figures {
	return metrics.Gather(context.Background(), metrics.Options{Paths: h.paths, Layout: h.layout, Now: now})
}

func render(t *testing.T, f *metrics.Figures) string {
	t.Helper()
	var b strings.Builder
	must(t, metrics.Write(&b, f))
	return b.String()
}

// wantLines are samples every export of newHost must contain.
func (h host) wantLines() []string {
	viol := 0
	for _, c := range h.a.AllChecks() {
		if c.Status == assess.StatusViolation {
			viol++
		}
	}
	c := h.a.Checks[0]
	return []string{
		`clawwarden_input_ok{input="assessment"} 1`,
		`clawwarden_input_ok{input="pending"} 1`,
		fmt.Sprintf(`clawwarden_checks{status="violation"} %d`, viol),
		fmt.Sprintf(`clawwarden_check_status{check_id=%q,status=%q,risk=%q} 1`, c.CheckID, c.Status, c.Risk),
		fmt.Sprintf(`clawwarden_assessment_timestamp_seconds %d`, now.Add(-time.Hour).Unix()),
		`clawwarden_approvals_pending 1`,
		`clawwarden_approval_oldest_pending_age_seconds 900`,
		`clawwarden_approvals_total{decision="granted"} 2`,
		`clawwarden_approvals_total{decision="refused"} 1`,
		fmt.Sprintf(`clawwarden_last_privileged_command_timestamp_seconds %d`, now.Add(-29*time.Minute).Unix()),
		`clawwarden_audit_chain_ok 1`,
		`clawwarden_audit_records 6`,
		`clawwarden_listeners 2`,
		`clawwarden_listeners_unapproved 1`,
		`clawwarden_listeners_public 1`,
		`clawwarden_port_findings{risk="critical"} 1`,
		`clawwarden_egress_violations{risk="high"} 1`,
		`clawwarden_egress_connections 3`,
		fmt.Sprintf(`clawwarden_last_cycle_timestamp_seconds %d`, time.Date(2026, 12, 2, 7, 0, 3, 0, time.UTC).Unix()),
		`clawwarden_last_cycle_duration_seconds 3.25`,
		`clawwarden_last_cycle_exit_code 0`,
		`clawwarden_enforced_installed 0`,
		`clawwarden_enforced 0`,
		`# TYPE clawwarden_approvals_total counter`,
		`# HELP clawwarden_audit_chain_ok Whether the audit log's hash chain verifies`,
	}
}

func TestWrite(t *testing.T) {
	h := newHost(t)
	out := render(t, h.gather())
	for _, w := range h.wantLines() {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q", w)
		}
	}
	// No command line, path or reason reaches the file.
	for _, secret := range []string{"systemctl", "nginx", h.paths.Home, "telnetd"} {
		if strings.Contains(out, secret) {
			t.Errorf("output contains %q", secret)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
}

func TestAbsentSources(t *testing.T) {
	dir := t.TempDir()
	paths, err := config.Locate(func(k string) string { return map[string]string{"HOME": dir}[k] })
	must(t, err)
	out := render(t, metrics.Gather(context.Background(), metrics.Options{Paths: paths, Layout: rootside.Layout{Root: dir}, Now: now}))
	for _, w := range []string{`clawwarden_input_ok{input="assessment"} 0`, `clawwarden_input_ok{input="ports"} 0`,
		`clawwarden_input_ok{input="cycle_log"} 0`, `clawwarden_audit_chain_ok 1`, `clawwarden_approvals_pending 0`} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	for _, absent := range []string{"clawwarden_checks", "clawwarden_listeners", "clawwarden_last_cycle", "clawwarden_last_privileged"} {
		if strings.Contains(out, absent) {
			t.Errorf("figure of an unread source is present: %s\n%s", absent, out)
		}
	}
}

func TestBrokenChain(t *testing.T) {
	h := newHost(t)
	path := h.paths.Security(config.AuditLogFile)
	data, err := os.ReadFile(path)
	must(t, err)
	must(t, os.WriteFile(path, bytes.Replace(data, []byte(`"refused"`), []byte(`"granted"`), 1), 0o600))
	if out := render(t, h.gather()); !strings.Contains(out, "clawwarden_audit_chain_ok 0\n") {
		t.Errorf("an edited log is not reported broken:\n%s", out)
	}
}

func TestWriteTextfile(t *testing.T) {
	h := newHost(t)
	f := h.gather()
	if _, err := metrics.WriteTextfile(filepath.Join(t.TempDir(), "missing"), f); err == nil || !strings.Contains(err.Error(), "textfile directory missing") {
		t.Errorf("missing directory: %v", err)
	}
	dir := t.TempDir()
	path, err := metrics.WriteTextfile(dir, f)
	must(t, err)
	fi, err := os.Stat(path)
	must(t, err)
	if fi.Mode().Perm() != 0o644 || filepath.Base(path) != "clawwarden.prom" {
		t.Errorf("%s: mode %v", path, fi.Mode())
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
}

// TestPromtoolCheckMetrics lints the output with Prometheus's own promtool.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := lookPath(t, "promtool", "prometheus")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(render(t, newHost(t).gather()))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestNodeExporter runs the real node_exporter with its textfile collector
// on the file WriteTextfile wrote, scrapes /metrics over HTTP and finds the
// figures with their values.
func TestNodeExporter(t *testing.T) {
	exe := lookPath(t, "prometheus-node-exporter", "prometheus-node-exporter")
	h := newHost(t)
	dir := t.TempDir()
	_, err := metrics.WriteTextfile(dir, h.gather())
	must(t, err)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(exe, "--web.listen-address="+addr, "--collector.disable-defaults",
		"--collector.textfile", "--collector.textfile.directory="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	must(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	var body string
	deadline := time.Now().Add(30 * time.Second)
	client := &http.Client{Timeout: 5 * time.Second}
	for {
		resp, err := client.Get("http://" + addr + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				body = string(b)
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("node_exporter did not serve /metrics on %s: %v\n%s", addr, err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(body, "node_textfile_scrape_error 0") {
		t.Errorf("node_exporter could not read the file:\n%s\n%s", grep(body, "node_textfile"), stderr.String())
	}
	if !strings.Contains(body, `node_textfile_mtime_seconds{file="`) {
		t.Errorf("node_exporter did not pick up %s", metrics.TextfileName)
	}
	got := samples(t, body)
	for _, w := range h.wantLines() {
		if strings.HasPrefix(w, "#") {
			if !strings.Contains(body, w) {
				t.Errorf("scrape lacks %q", w)
			}
			continue
		}
		want := samples(t, w)
		if len(want) != 1 {
			t.Fatalf("want line %q parsed as %v", w, want)
		}
		for k, v := range want {
			if g, ok := got[k]; !ok || g != v {
				t.Errorf("scrape: %s = %v (present %v), want %v", k, g, ok, v)
			}
		}
	}
	if !strings.Contains(body, `clawwarden_control_status{control_id="A.8.2",framework="iso27001",status="`) {
		t.Errorf("scrape lacks the status of ISO 27001 A.8.2")
	}
	if t.Failed() {
		t.Log(grep(body, "clawwarden_"))
	}
}

// samples parses text-format sample lines into canonical keys (the name
// and its labels sorted, as node_exporter writes them) and values.
func samples(t *testing.T, text string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample %q: %v", line, err)
		}
		name, labels, _ := strings.Cut(line[:i], "{")
		var pairs []string
		for rest := strings.TrimSuffix(labels, "}"); rest != ""; {
			k, after, _ := strings.Cut(rest, `="`)
			j := 0
			for ; j < len(after); j++ {
				if after[j] == '\\' {
					j++
				} else if after[j] == '"' {
					break
				}
			}
			pairs = append(pairs, k+`="`+after[:j]+`"`)
			rest = strings.TrimPrefix(after[j+1:], ",")
		}
		sort.Strings(pairs)
		out[name+"{"+strings.Join(pairs, ",")+"}"] = v
	}
	return out
}

func grep(s, sub string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, sub) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// lookPath finds a tool that scripts/test installs from the named Debian
// package; a missing one skips (a failure under CLAWWARDEN_TEST_STRICT=1).
func lookPath(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		testenv.Skip(t, "%s not installed (apt-get install %s)", name, pkg)
	}
	return p
}

// TestAlertRules checks deploy/prometheus's alert rules with promtool and
// runs their unit tests, which feed the rules these metrics' names and
// labels and expect each alert to fire, and not before.
func TestAlertRules(t *testing.T) {
	promtool := lookPath(t, "promtool", "prometheus")
	dir := filepath.Join("..", "..", "deploy", "prometheus")
	for _, args := range [][]string{{"check", "rules", "clawwarden.rules.yml"}, {"test", "rules", "clawwarden.rules.test.yml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	// The rules name only metrics this package writes.
	rules, err := os.ReadFile(filepath.Join(dir, "clawwarden.rules.yml"))
	must(t, err)
	out := render(t, newHost(t).gather())
	for _, name := range regexp.MustCompile(`clawwarden_[a-z_]+`).FindAllString(string(rules), -1) {
		if !strings.Contains(out, "# TYPE "+name+" ") {
			t.Errorf("the rules use %s, which the export does not write", name)
		}
	}
}

// TestEnforced reads enforced mode's figures from a layout with root's
// settings: installed, whether it holds, the root-side queue and audit log.
func TestEnforced(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Skip(t, "enforced mode's settings must be root's: run as root")
	}
	h := newHost(t)
	l := rootside.Layout{Root: t.TempDir()}
	must(t, os.MkdirAll(l.ConfigDir(), 0o755))
	must(t, os.WriteFile(l.SettingsFile(), []byte(`{"version":1,"install_id":"0123456789abcdef01","agent_user":"openclaw","agent_uid":1001}`), 0o644))
	for _, holds := range []bool{true, false} {
		f := metrics.Gather(context.Background(), metrics.Options{Paths: h.paths, Layout: l, Now: now,
			Enforcement: func(context.Context) enforce.Status { return enforce.Status{Installed: true, Enforced: holds} }})
		out := render(t, f)
		want := []string{"clawwarden_enforced_installed 1\n", fmt.Sprintf("clawwarden_enforced %d\n", map[bool]int{true: 1}[holds]),
			// The root-side queue and audit log, both empty, not the same-user ones.
			"clawwarden_approvals_pending 0\n", "clawwarden_audit_records 0\n", `clawwarden_input_ok{input="pending"} 1`}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("holds=%v: output lacks %q", holds, w)
			}
		}
	}
}
