// Package metrics gathers clawwarden's figures from the latest reports and
// state (the assessment, the port and egress reports, the approval queue,
// the audit log, the cycle log and enforced mode's status) and renders them
// in the Prometheus text exposition format, for node_exporter's textfile
// collector: clawwarden writes a file, it serves nothing.
//
// # Absent, not zero
//
// A figure whose source is missing or unreadable is left out rather than
// written as 0, so an alert on it cannot pass by accident:
// clawwarden_input_ok says which sources were read. Timestamps are Unix
// seconds.
package metrics

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clawwarden/clawwarden/internal/approval"
	"github.com/clawwarden/clawwarden/internal/assess"
	"github.com/clawwarden/clawwarden/internal/audit"
	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/egress"
	"github.com/clawwarden/clawwarden/internal/enforce"
	"github.com/clawwarden/clawwarden/internal/finding"
	"github.com/clawwarden/clawwarden/internal/ports"
	"github.com/clawwarden/clawwarden/internal/report"
	"github.com/clawwarden/clawwarden/internal/rootside"
	"github.com/clawwarden/clawwarden/internal/safefile"
)

// TextfileDirEnv names the environment variable that makes `clawwarden
// cycle` write [TextfileName] into that directory after its steps.
const TextfileDirEnv = "CLAWWARDEN_PROMETHEUS_TEXTFILE_DIR"

// TextfileName is the file written into node_exporter's textfile directory;
// the collector reads only names ending in .prom.
const TextfileName = "clawwarden.prom"

// Inputs named by clawwarden_input_ok.
const (
	InputAssessment = "assessment"
	InputPorts      = "ports"
	InputEgress     = "egress"
	InputAuditLog   = "audit_log"
	InputPending    = "pending"
	InputCycleLog   = "cycle_log"
)

// Options say where the figures are read.
type Options struct {
	Paths  config.Paths
	Layout rootside.Layout // enforced mode's files; the zero value is the real ones
	Now    time.Time
	// Cycle is the cycle that has just run, when the cycle itself writes the
	// metrics; nil reads the last one from the cycle log.
	Cycle *Cycle
	// Enforcement returns enforced mode's status when it is installed; nil
	// uses enforce.Check.
	Enforcement func(context.Context) enforce.Status
}

// Cycle is one finished monitoring cycle.
type Cycle struct {
	Ended    time.Time
	Duration time.Duration
	ExitCode int
}

// Figures are what one export reports. Pointers and slices are nil when
// their source could not be read.
type Figures struct {
	Now    time.Time
	Inputs map[string]bool // source → read

	Assessment *assess.Assessment
	Controls   []report.ControlStatus

	Ports  *ports.Report
	Egress *egress.Report

	// Pending are the creation times of the requests waiting for a
	// decision.
	Pending []time.Time

	AuditPath         string
	AuditOK           *bool
	AuditRecords      int
	Approvals         map[string]int // granted, refused
	LastPrivileged    time.Time      // the last command that ran; zero when none
	LastCycle         *Cycle
	EnforcedInstalled bool
	// Enforced is whether enforced mode holds; nil when it is installed
	// but could not be checked in full (that needs root).
	Enforced *bool
}

// Gather reads every source. It does not fail: a source that cannot be read
// is marked so in Inputs and its figures are left out.
func Gather(ctx context.Context, o Options) *Figures {
	f := &Figures{Now: o.Now, Inputs: map[string]bool{}}
	dir := o.Paths.ReportsDir

	var a assess.Assessment
	if readJSON(filepath.Join(dir, assess.AssessmentFile), &a) == nil {
		f.Assessment = &a
		f.Controls = report.Summarize(&a).Controls
	}
	f.Inputs[InputAssessment] = f.Assessment != nil

	var pr ports.Report
	if readJSON(filepath.Join(dir, ports.ReportFile), &pr) == nil {
		f.Ports = &pr
	}
	f.Inputs[InputPorts] = f.Ports != nil

	var er egress.Report
	if readJSON(filepath.Join(dir, egress.ReportFile), &er) == nil {
		f.Egress = &er
	}
	f.Inputs[InputEgress] = f.Egress != nil

	_, installed := o.Layout.Enforced()
	f.EnforcedInstalled = installed
	if installed {
		check := o.Enforcement
		if check == nil {
			check = func(ctx context.Context) enforce.Status { return enforce.Check(ctx, enforce.Options{Layout: o.Layout}) }
		}
		st := check(ctx)
		if st.Enforced || os.Geteuid() == 0 || o.Enforcement != nil {
			f.Enforced = &st.Enforced
		}
	} else {
		no := false
		f.Enforced = &no
	}

	f.Pending, f.Inputs[InputPending] = pending(o, installed)

	f.AuditPath = o.Paths.Security(config.AuditLogFile)
	if installed {
		f.AuditPath = o.Layout.AuditLog()
	}
	f.Inputs[InputAuditLog] = f.readAudit()

	f.LastCycle = o.Cycle
	if f.LastCycle == nil {
		f.LastCycle = lastCycle(o.Paths.CycleLog())
	}
	f.Inputs[InputCycleLog] = f.LastCycle != nil
	return f
}

func readJSON(path string, v any) error {
	data, err := safefile.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// pending lists the creation times of the requests that wait for a
// decision and have not expired.
func pending(o Options, enforced bool) ([]time.Time, bool) {
	var out []time.Time
	if enforced {
		reqs, err := enforce.Pending(o.Layout)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, false
		}
		for _, r := range reqs {
			if r.Parsed.Expires.After(o.Now) {
				out = append(out, r.Facts.Filed)
			}
		}
		return out, true
	}
	reqs, err := (&approval.Queue{Dir: o.Paths.PendingDir(), Now: func() time.Time { return o.Now }}).List()
	if err != nil {
		return nil, false
	}
	for _, r := range reqs {
		if r.Expires.After(o.Now) {
			out = append(out, r.Created)
		}
	}
	return out, true
}

// readAudit verifies the audit log and counts its approval decisions. A
// missing log verifies (nothing was recorded yet).
func (f *Figures) readAudit() bool {
	v, err := audit.Judge(f.AuditPath, "")
	if err != nil {
		return false
	}
	ok := v.OK()
	f.AuditOK = &ok
	f.AuditRecords = v.Result.Records
	f.Approvals = map[string]int{"granted": 0, "refused": 0}
	if !v.Exists {
		return true
	}
	file, err := safefile.Open(f.AuditPath)
	if err != nil {
		return false
	}
	defer file.Close()
	return f.countDecisions(file) == nil
}

// countDecisions counts the approval records of the log: a request decided
// once but recorded twice (by the approver and by the waiting guard) counts
// once.
func (f *Figures) countDecisions(r io.Reader) error {
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !strings.Contains(string(line), `"event":"approval"`) && !strings.Contains(string(line), `"event":"result"`) {
			continue
		}
		var rec struct {
			Time      time.Time `json:"time"`
			Event     string    `json:"event"`
			Decision  string    `json:"decision"`
			RequestID string    `json:"request_id"`
		}
		if json.Unmarshal(line, &rec) != nil {
			continue
		}
		switch {
		case rec.Event == "result" && rec.Decision == "ran":
			if rec.Time.After(f.LastPrivileged) {
				f.LastPrivileged = rec.Time
			}
		case rec.Event == "approval":
			kind := ""
			switch rec.Decision {
			case "approved", "granted":
				kind = "granted"
			case "refused":
				kind = "refused"
			default:
				continue
			}
			if rec.RequestID != "" {
				if seen[kind+" "+rec.RequestID] {
					continue
				}
				seen[kind+" "+rec.RequestID] = true
			}
			f.Approvals[kind]++
		}
	}
	return sc.Err()
}

// cycleTail is how much of the end of the cycle log is read for the last
// cycle: one cycle's lines are far fewer.
const cycleTail = 256 << 10

// lastCycle reads the last "cycle end" line of the cycle log (see package
// cycle): "TIME cycle end: exit N in D ms".
func lastCycle(path string) *Cycle {
	file, err := safefile.Open(path)
	if err != nil {
		return nil
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return nil
	}
	off := max(fi.Size()-cycleTail, 0)
	buf := make([]byte, fi.Size()-off)
	if _, err := file.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return nil
	}
	lines := strings.Split(string(buf), "\n")
	for _, line := range slices.Backward(lines) {
		ts, rest, ok := strings.Cut(line, " cycle end: exit ")
		if !ok {
			continue
		}
		end, err := time.Parse(time.RFC3339, ts)
		code, ms, ok2 := strings.Cut(strings.TrimSuffix(rest, " ms"), " in ")
		if err != nil || !ok2 {
			return nil
		}
		c, err1 := strconv.Atoi(code)
		d, err2 := strconv.ParseFloat(ms, 64)
		if err1 != nil || err2 != nil {
			return nil
		}
		return &Cycle{Ended: end, Duration: time.Duration(d * float64(time.Millisecond)), ExitCode: c}
	}
	return nil
}

// Write renders f in the Prometheus text exposition format.
func Write(w io.Writer, f *Figures) error { return writeFamilies(w, f.families()) }

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// families builds every metric family from f, in a fixed order.
func (f *Figures) families() []*family {
	inputs := &family{name: "clawwarden_input_ok", typ: gauge,
		help: "Whether a source of these figures was read (1) or is missing or unreadable (0); the figures of an unread source are absent."}
	for _, k := range sortedKeys(f.Inputs) {
		inputs.add(b2f(f.Inputs[k]), "input", k)
	}
	fams := []*family{inputs}

	assessed := &family{name: "clawwarden_assessment_timestamp_seconds", typ: gauge,
		help: "When the latest assessment ran ('clawwarden assess'), Unix time."}
	checks := &family{name: "clawwarden_check_status", typ: gauge,
		help: "One series per check of the latest assessment, value 1, labelled with its current status (compliant, not_assessed, partial, violation) and risk."}
	byStatus := &family{name: "clawwarden_checks", typ: gauge,
		help: "Checks of the latest assessment by status."}
	violations := &family{name: "clawwarden_violations", typ: gauge,
		help: "Checks of the latest assessment in violation, by risk."}
	controls := &family{name: "clawwarden_control_status", typ: gauge,
		help: "One series per framework control (iso27001: ISO/IEC 27001:2022 Annex A, nist_csf: NIST CSF 2.0), value 1, labelled with the worst status among its checks."}
	if a := f.Assessment; a != nil {
		if t, err := time.Parse(time.RFC3339, a.GeneratedAt); err == nil {
			assessed.add(unix(t))
		}
		counts := map[string]int{}
		viol := map[string]int{}
		for _, c := range a.AllChecks() {
			checks.add(1, "check_id", c.CheckID, "status", c.Status, "risk", c.Risk)
			counts[c.Status]++
			if c.Status == assess.StatusViolation {
				viol[c.Risk]++
			}
		}
		for _, s := range finding.Statuses {
			byStatus.add(float64(counts[string(s)]), "status", string(s))
		}
		for _, r := range finding.Risks {
			violations.add(float64(viol[string(r)]), "risk", string(r))
		}
		for _, c := range f.Controls {
			controls.add(1, "framework", c.Framework, "control_id", c.ID, "status", c.Status)
		}
	}
	fams = append(fams, assessed, checks, byStatus, violations, controls)

	pend := &family{name: "clawwarden_approvals_pending", typ: gauge,
		help: "Privileged commands waiting for a person's decision (unexpired requests in the approval queue)."}
	oldest := &family{name: "clawwarden_approval_oldest_pending_age_seconds", typ: gauge,
		help: "How long the oldest pending request has waited; 0 when none waits."}
	if f.Inputs[InputPending] {
		pend.add(float64(len(f.Pending)))
		age := 0.0
		for _, t := range f.Pending {
			age = max(age, f.Now.Sub(t).Seconds())
		}
		oldest.add(age)
	}
	fams = append(fams, pend, oldest)

	decisions := &family{name: "clawwarden_approvals_total", typ: counter,
		help: "Approval decisions recorded in the audit log, by decision (granted, refused); a request recorded by both the approver and the waiting command counts once."}
	last := &family{name: "clawwarden_last_privileged_command_timestamp_seconds", typ: gauge,
		help: "When the last privileged command ran through clawwarden (audit log), Unix time; absent when none ran."}
	chain := &family{name: "clawwarden_audit_chain_ok", typ: gauge,
		help: "Whether the audit log's hash chain verifies (1) or is broken (0), as 'clawwarden audit verify' judges it."}
	records := &family{name: "clawwarden_audit_records", typ: gauge,
		help: "Chained records of the audit log that verified."}
	if f.AuditOK != nil {
		chain.add(b2f(*f.AuditOK))
		records.add(float64(f.AuditRecords))
	}
	if f.Inputs[InputAuditLog] {
		for _, k := range []string{"granted", "refused"} {
			decisions.add(float64(f.Approvals[k]), "decision", k)
		}
		if !f.LastPrivileged.IsZero() {
			last.add(unix(f.LastPrivileged))
		}
	}
	fams = append(fams, decisions, last, chain, records)

	pAt := &family{name: "clawwarden_ports_report_timestamp_seconds", typ: gauge,
		help: "When the latest port report was written ('clawwarden ports'), Unix time."}
	listeners := &family{name: "clawwarden_listeners", typ: gauge,
		help: "Listening sockets in the latest port report."}
	unapproved := &family{name: "clawwarden_listeners_unapproved", typ: gauge,
		help: "Listening sockets not in the approved-ports baseline."}
	public := &family{name: "clawwarden_listeners_public", typ: gauge,
		help: "Listening sockets reachable from other hosts (bound to anything but loopback)."}
	portFindings := &family{name: "clawwarden_port_findings", typ: gauge,
		help: "Flagged listeners in the latest port report, by risk."}
	if r := f.Ports; r != nil {
		if t, err := time.Parse(time.RFC3339, r.GeneratedAt); err == nil {
			pAt.add(unix(t))
		}
		listeners.add(float64(r.Summary.Listeners))
		unapproved.add(float64(r.Summary.Unapproved))
		public.add(float64(r.Summary.Public))
		byRisk := map[string]int{}
		for _, x := range r.Findings {
			byRisk[x.Risk]++
		}
		for _, k := range finding.Risks {
			portFindings.add(float64(byRisk[string(k)]), "risk", string(k))
		}
	}
	fams = append(fams, pAt, listeners, unapproved, public, portFindings)

	eAt := &family{name: "clawwarden_egress_report_timestamp_seconds", typ: gauge,
		help: "When the latest egress report was written ('clawwarden egress'), Unix time."}
	conns := &family{name: "clawwarden_egress_connections", typ: gauge,
		help: "Outbound connections in the latest egress report."}
	eViol := &family{name: "clawwarden_egress_violations", typ: gauge,
		help: "Destinations outside the egress allowlist in the latest egress report, by risk."}
	if r := f.Egress; r != nil {
		if t, err := time.Parse(time.RFC3339, r.GeneratedAt); err == nil {
			eAt.add(unix(t))
		}
		conns.add(float64(r.Summary.Connections))
		byRisk := map[string]int{}
		for _, x := range r.Findings {
			byRisk[x.Risk]++
		}
		for _, k := range finding.Risks {
			eViol.add(float64(byRisk[string(k)]), "risk", string(k))
		}
	}
	fams = append(fams, eAt, conns, eViol)

	cAt := &family{name: "clawwarden_last_cycle_timestamp_seconds", typ: gauge,
		help: "When the last monitoring cycle ('clawwarden cycle') ended, Unix time."}
	cDur := &family{name: "clawwarden_last_cycle_duration_seconds", typ: gauge,
		help: "How long the last monitoring cycle's steps took."}
	cCode := &family{name: "clawwarden_last_cycle_exit_code", typ: gauge,
		help: "The last monitoring cycle's exit status: 0 passed, 10 a step found problems, else a step failed."}
	if c := f.LastCycle; c != nil {
		cAt.add(unix(c.Ended))
		cDur.add(c.Duration.Seconds())
		cCode.add(float64(c.ExitCode))
	}
	fams = append(fams, cAt, cDur, cCode)

	inst := &family{name: "clawwarden_enforced_installed", typ: gauge,
		help: "Whether enforced mode is installed on this host (1) or clawwarden runs in same-user mode (0)."}
	inst.add(b2f(f.EnforcedInstalled))
	enf := &family{name: "clawwarden_enforced", typ: gauge,
		help: "Whether enforced mode holds (1): installed, unchanged, and no other route to root for the agent; absent when installed but not checked in full (that needs root)."}
	if f.Enforced != nil {
		enf.add(b2f(*f.Enforced))
	}
	return append(fams, inst, enf)
}

// ErrNoDir: the textfile directory does not exist or is not a directory.
// clawwarden does not create it: node_exporter's --collector.textfile.directory
// names it.
var ErrNoDir = errors.New("textfile directory missing")

// WriteTextfile renders f and atomically replaces dir/clawwarden.prom: a
// temporary file in dir, fsynced, renamed over the old one, then dir
// fsynced, so node_exporter never reads half a file. It returns the path.
//
// The file is mode 0644, unlike clawwarden's own state (0600):
// node_exporter runs as its own account (prometheus on Debian) and must be
// able to read it, and the figures are counts, statuses and times, not
// secrets (no command lines, paths or reasons).
func WriteTextfile(dir string, f *Figures) (string, error) {
	path := filepath.Join(dir, TextfileName)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		if err == nil {
			err = errors.New("not a directory")
		}
		return path, fmt.Errorf("%w: %s: %v", ErrNoDir, dir, err)
	}
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		return path, fmt.Errorf("%s: %w: not a regular file; remove it", path, safefile.ErrUnsafe)
	}
	var buf strings.Builder
	if err := Write(&buf, f); err != nil {
		return path, err
	}
	tmp, err := os.CreateTemp(dir, "."+TextfileName+".tmp-*")
	if err != nil {
		return path, err
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o644); err != nil {
		return path, err
	}
	if _, err := io.WriteString(tmp, buf.String()); err != nil {
		return path, err
	}
	if err := tmp.Sync(); err != nil {
		return path, err
	}
	if err := tmp.Close(); err != nil {
		return path, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return path, err
	}
	committed = true
	return path, safefile.SyncDir(dir)
}
