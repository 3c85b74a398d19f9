package ports

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clawwarden/clawwarden/internal/sockets"
)

// ReportFile is the name of the report in the reports directory.
const ReportFile = "port-monitor-latest.json"

// GatewayPort is the OpenClaw gateway's default port.
const GatewayPort = 18789

// Check ids of port findings.
const (
	CheckApproved = "open_ports_approved"
	CheckInsecure = "insecure_ports_remediated"
)

// Finding statuses.
const (
	StatusCompliant   = "compliant"
	StatusPartial     = "partial"
	StatusViolation   = "violation"
	StatusNotAssessed = "not_assessed"
)

// Why a listener is flagged.
const (
	FlagUnapproved = "unapproved"
	FlagInsecure   = "insecure"
	FlagPublic     = "public"
)

// Owners named in findings.
const (
	OwnerHost     = "host administrator"
	OwnerOpenClaw = "OpenClaw operator"
)

// Input is what [Evaluate] compares.
type Input struct {
	// Inventory holds the listening sockets (sockets.Options.Listening).
	Inventory sockets.Inventory
	// Rules is the approved baseline; ignored when BaselineMissing.
	Rules []Rule
	// BaselineMissing is true when approved_ports.json does not exist; every
	// listener is then unapproved.
	BaselineMissing bool
	// ApprovedFile is the baseline's path, named in evidence and mitigations.
	ApprovedFile string
	// Host is the host name for the report.
	Host string
	// Now dates the report and the findings' due dates.
	Now time.Time
}

// Report is the port monitor's report (port-monitor-latest.json).
type Report struct {
	GeneratedAt         string     `json:"generated_at"`
	Host                string     `json:"host"`
	Scanner             string     `json:"scanner"`
	CompleteAttribution bool       `json:"complete_attribution"`
	AttributionNote     string     `json:"attribution_note,omitempty"`
	ApprovedFile        string     `json:"approved_file"`
	BaselineMissing     bool       `json:"baseline_missing"`
	Hint                string     `json:"hint,omitempty"`
	Listeners           []Listener `json:"listeners"`
	Findings            []Finding  `json:"findings"`
	Summary             Summary    `json:"summary"`
}

// Listener is one listening socket in the report.
type Listener struct {
	Protocol    string   `json:"protocol"`
	Family      int      `json:"family"`
	BindAddress string   `json:"bind_address"`
	Port        uint16   `json:"port"`
	PID         *int     `json:"pid"`
	Process     string   `json:"process"`
	Exe         string   `json:"exe,omitempty"`
	UID         *int     `json:"uid,omitempty"`
	Approved    bool     `json:"approved"`
	ApprovedBy  *int     `json:"approved_by,omitempty"` // index of the matching entry
	Flags       []string `json:"flags"`
}

// Finding is one flagged listener, in the output contract shared by every
// clawwarden check.
type Finding struct {
	CheckID           string   `json:"check_id"`
	Status            string   `json:"status"`
	Risk              string   `json:"risk"`
	Title             string   `json:"title"`
	Evidence          string   `json:"evidence"`
	Mitigation        string   `json:"mitigation"`
	Owner             string   `json:"owner"`
	DueDate           string   `json:"due_date"`
	Port              uint16   `json:"port"`
	Protocol          string   `json:"protocol"`
	BindAddress       string   `json:"bind_address"`
	PID               *int     `json:"pid"`
	Process           string   `json:"process"`
	Exe               string   `json:"exe,omitempty"`
	Flags             []string `json:"flags"`
	Service           string   `json:"service,omitempty"`
	SecureAlternative string   `json:"secure_alternative,omitempty"`
}

// Summary counts listeners and findings.
type Summary struct {
	Status       string            `json:"status"`
	Listeners    int               `json:"listeners"`
	Approved     int               `json:"approved"`
	Flagged      int               `json:"flagged"`
	Unapproved   int               `json:"unapproved"`
	Insecure     int               `json:"insecure"`
	Public       int               `json:"public"`
	Unattributed int               `json:"unattributed"`
	ByRisk       map[string]int    `json:"by_risk"`
	Checks       map[string]string `json:"checks"`
}

// Flagged reports whether the report flags anything.
func (r *Report) Flagged() bool { return len(r.Findings) > 0 }

// Public reports whether addr is reachable from other hosts: anything but a
// loopback address (0.0.0.0 and :: included).
func Public(addr netip.Addr) bool { return !addr.Unmap().IsLoopback() }

// Evaluate compares the listeners of in.Inventory with the baseline and
// returns the report. Listeners and findings keep the inventory's sorted
// order, so the report is deterministic.
func Evaluate(in Input) Report {
	r := Report{
		GeneratedAt:         in.Now.UTC().Format(time.RFC3339),
		Host:                in.Host,
		Scanner:             in.Inventory.Source,
		CompleteAttribution: in.Inventory.Unattributed == 0,
		AttributionNote:     in.Inventory.Note,
		ApprovedFile:        in.ApprovedFile,
		BaselineMissing:     in.BaselineMissing,
		Listeners:           []Listener{},
		Findings:            []Finding{},
		Summary: Summary{
			ByRisk: map[string]int{},
			Checks: map[string]string{CheckApproved: StatusCompliant, CheckInsecure: StatusCompliant},
		},
	}
	if in.BaselineMissing {
		r.Hint = "no approved baseline: run `clawwarden ports baseline`, then review and prune " + in.ApprovedFile
	}
	ss := in.Inventory.Sockets
	if !slices.IsSortedFunc(ss, sockets.Compare) {
		ss = slices.Clone(ss)
		sockets.Sort(ss)
	}
	e := newEvaluator(in)
	e.ints = make([]int, 0, 3*len(ss))
	r.Listeners = make([]Listener, 0, len(ss))
	r.Findings = make([]Finding, 0, len(ss))
	for i := range ss {
		s := &ss[i]
		if !s.Listening() {
			continue
		}
		r.Listeners = append(r.Listeners, Listener{})
		r.Findings = append(r.Findings, Finding{})
		l, f := &r.Listeners[len(r.Listeners)-1], &r.Findings[len(r.Findings)-1]
		flagged := e.evaluate(s, l, f)
		if !flagged {
			r.Findings = r.Findings[:len(r.Findings)-1]
		}
		r.Summary.Listeners++
		if l.Approved {
			r.Summary.Approved++
		}
		if !s.Attributed() {
			r.Summary.Unattributed++
		}
		if !flagged {
			continue
		}
		r.Summary.Flagged++
		r.Summary.ByRisk[f.Risk]++
		for _, fl := range f.Flags {
			switch fl {
			case FlagUnapproved:
				r.Summary.Unapproved++
			case FlagInsecure:
				r.Summary.Insecure++
			case FlagPublic:
				r.Summary.Public++
			}
		}
		if worse(f.Status, r.Summary.Checks[f.CheckID]) {
			r.Summary.Checks[f.CheckID] = f.Status
		}
	}
	r.Summary.Status = StatusCompliant
	for _, st := range r.Summary.Checks {
		if worse(st, r.Summary.Status) {
			r.Summary.Status = st
		}
	}
	return r
}

// worse reports whether status a is worse than b.
func worse(a, b string) bool {
	rank := func(s string) int {
		return slices.Index([]string{StatusCompliant, StatusNotAssessed, StatusPartial, StatusViolation}, s)
	}
	return rank(a) > rank(b)
}

// match returns the index of the first rule that approves s, or -1, plus a
// reason when a rule for the same port did not match.
func match(rules []Rule, s sockets.Socket) (int, string) {
	near := ""
	for i, rule := range rules {
		if rule.Port != int(s.Local.Port()) || (rule.Protocol != "" && rule.Protocol != s.Proto) {
			continue
		}
		if rule.bind.IsValid() && rule.bind != s.Local.Addr() {
			if near == "" {
				near = fmt.Sprintf("entry %d approves port %d/%s only on %s", i, rule.Port, s.Proto, rule.Bind)
			}
			continue
		}
		if !CommandMatches(rule.Command, s) {
			if near == "" {
				near = fmt.Sprintf("entry %d approves port %d/%s for command %q, but the process is %s", i, rule.Port, s.Proto, rule.Command, processName(s))
			}
			continue
		}
		return i, ""
	}
	return -1, near
}

// CommandMatches reports whether a rule's command approves the owner of s.
// An empty command approves any owner. A command matches the process name
// (comm; a name longer than Linux's 15-character comm matches its
// truncation), the executable's base name, or, when it is an absolute path,
// the executable path. An unknown owner matches no command.
func CommandMatches(command string, s sockets.Socket) bool {
	if command == "" {
		return true
	}
	if !s.Attributed() {
		return false
	}
	exe := strings.TrimSuffix(s.Exe, " (deleted)")
	switch {
	case command == s.Process:
		return true
	case strings.HasPrefix(command, "/"):
		return command == exe
	case exe != "" && command == filepath.Base(exe):
		return true
	case len(s.Process) == 15 && strings.HasPrefix(command, s.Process):
		return true
	}
	return false
}

// processName names the owner of s for people.
func processName(s sockets.Socket) string {
	if !s.Attributed() {
		if s.UID >= 0 {
			return fmt.Sprintf("unknown (uid %d)", s.UID)
		}
		return "unknown"
	}
	return fmt.Sprintf("%s (pid %d)", s.Process, s.PID)
}

// isGateway reports whether s looks like the OpenClaw gateway.
func isGateway(s sockets.Socket) bool {
	return s.Proto == sockets.TCP && (s.Local.Port() == GatewayPort || strings.Contains(s.Process, "openclaw") || strings.Contains(s.Process, "OpenClaw"))
}

// bindDescription says where s listens, for evidence.
func bindDescription(a netip.Addr) string {
	switch {
	case a == netip.IPv4Unspecified():
		return "bound to every IPv4 address (0.0.0.0)"
	case a == netip.IPv6Unspecified():
		return "bound to every address (::, IPv6 and usually IPv4 too)"
	case a.IsLoopback():
		return "bound to loopback only (" + a.String() + ")"
	default:
		return "bound to the non-loopback address " + a.String()
	}
}

// evaluator holds what is shared by every listener of one evaluation, so
// that texts repeated in thousands of findings are built once.
type evaluator struct {
	in         Input
	due        map[string]string
	missingEv  string
	missingFix string
	ints       []int // backing store for the pid, uid and index pointers
}

func newEvaluator(in Input) *evaluator {
	e := &evaluator{in: in, due: map[string]string{}}
	for _, r := range []string{RiskLow, RiskMedium, RiskHigh, RiskCritical} {
		e.due[r] = DueDate(in.Now, r)
	}
	e.missingEv = "no approved baseline: " + in.ApprovedFile + " does not exist"
	e.missingFix = "Create the approved baseline with `clawwarden ports baseline`, then review and prune " + in.ApprovedFile + "."
	return e
}

// intPtr returns a pointer to a copy of v, carved from one allocation.
func (e *evaluator) intPtr(v int) *int {
	if len(e.ints) == cap(e.ints) {
		e.ints = make([]int, 0, 256)
	}
	e.ints = append(e.ints, v)
	return &e.ints[len(e.ints)-1]
}

// gatewayFix is the mitigation for a public OpenClaw gateway.
const gatewayFix = "Bind the OpenClaw gateway to loopback: run `openclaw config set gateway.bind loopback` and restart the gateway; reach it from other machines through an SSH tunnel or a tailnet rather than a public bind."

// texts accumulates the parts of a finding's evidence, mitigation and title.
type texts struct {
	b   strings.Builder
	sep string
	n   int
}

func (t *texts) add(parts ...string) {
	if t.n > 0 {
		t.b.WriteString(t.sep)
	}
	t.n++
	for _, p := range parts {
		t.b.WriteString(p)
	}
}

// evaluate fills in the listener entry l and, when s is flagged, the finding
// f, and reports whether it is flagged.
func (e *evaluator) evaluate(s *sockets.Socket, l *Listener, f *Finding) bool {
	in := e.in
	addr := s.Local.Addr()
	port := s.Local.Port()
	public := Public(addr)
	*l = Listener{
		Protocol:    s.Proto,
		Family:      s.Family,
		BindAddress: addr.String(),
		Port:        port,
		Process:     "unknown",
		Exe:         s.Exe,
	}
	if s.Attributed() {
		l.PID, l.Process = e.intPtr(s.PID), s.Process
	}
	if s.UID >= 0 {
		l.UID = e.intPtr(s.UID)
	}
	idx, near := -1, ""
	if !in.BaselineMissing {
		idx, near = match(in.Rules, *s)
	}
	if idx >= 0 {
		l.Approved, l.ApprovedBy = true, e.intPtr(idx)
	}
	svc, insecure := Insecure(s.Proto, port, public)
	switch {
	case !l.Approved && insecure && public:
		l.Flags = flagsAll
	case !l.Approved && public:
		l.Flags = flagsUnapprovedPublic
	case !l.Approved && insecure:
		l.Flags = flagsUnapprovedInsecure
	case !l.Approved:
		l.Flags = flagsUnapproved
	case insecure && public:
		l.Flags = flagsInsecurePublic
	case insecure:
		l.Flags = flagsInsecure
	case public:
		l.Flags = flagsPublic
	default:
		l.Flags = flagsNone
		return false
	}

	gateway := isGateway(*s)
	*f = Finding{
		CheckID:     CheckApproved,
		Risk:        RiskLow,
		Owner:       OwnerHost,
		Port:        port,
		Protocol:    s.Proto,
		BindAddress: l.BindAddress,
		PID:         l.PID,
		Process:     l.Process,
		Exe:         s.Exe,
		Flags:       l.Flags,
	}
	if gateway {
		f.Owner = OwnerOpenClaw
	}
	var ptext [8]byte
	portText := string(strconv.AppendUint(ptext[:0], uint64(port), 10))
	local := l.BindAddress + ":" + portText
	if addr.Is6() {
		local = "[" + l.BindAddress + "]:" + portText
	}
	portProto := portText + "/" + s.Proto
	evidence := texts{sep: "; "}
	mitigation := texts{sep: " "}
	title := texts{sep: ", "}
	evidence.b.Grow(256)
	mitigation.b.Grow(256)
	evidence.add(s.Proto, " ", local, " is listening, owned by ", ownerText(*s), ", ", bindDescription(addr))

	if insecure {
		f.CheckID = CheckInsecure
		f.Service, f.SecureAlternative = svc.Name, svc.Alternative
		risk := svc.Risk
		if !public {
			risk = lowerRisk(risk)
		}
		f.Risk = maxRisk(f.Risk, risk)
		title.add("insecure service ", svc.Name)
		evidence.add("insecure: ", svc.Name, " (", svc.Problem, ")")
		mitigation.add("Replace ", svc.Name, " with ", svc.Alternative, ".")
	}
	if public {
		risk := RiskMedium
		if gateway || !l.Approved {
			risk = RiskHigh
		}
		f.Risk = maxRisk(f.Risk, risk)
		title.add("public bind")
		if gateway {
			mitigation.add(gatewayFix)
		} else {
			mitigation.add("Bind ", nameOr(*s, "the service"), " to 127.0.0.1 or ::1 in its configuration; if it must serve other hosts, allow port ", portProto, " only from known networks in the host firewall (nftables/ufw).")
		}
	}
	switch {
	case !l.Approved:
		title.add("unapproved")
		if in.BaselineMissing {
			evidence.add(e.missingEv)
			mitigation.add(e.missingFix)
			break
		}
		evidence.add("no entry in ", in.ApprovedFile, " approves port ", portProto)
		if near != "" {
			evidence.b.WriteString(" (" + near + ")")
		}
		mitigation.add("If ", nameOr(*s, "the listener"), " on port ", portProto, " is expected, add ", approveSnippet(*s), " to ", in.ApprovedFile, "; otherwise stop it", pidNote(*s), " and disable what starts it.")
	case gateway && public:
		evidence.add("approved by entry ", strconv.Itoa(idx), " of ", in.ApprovedFile, ", but the gateway should not listen on a public address")
	default:
		evidence.add("approved by entry ", strconv.Itoa(idx), " of ", in.ApprovedFile)
	}
	if !l.Approved || insecure {
		f.Status = StatusViolation
	} else {
		f.Status = StatusPartial // approved, but exposed
	}
	if !s.Attributed() && in.Inventory.Partial {
		evidence.add("the owning process belongs to another user and is unknown without root")
	}
	f.Title = s.Proto + " " + local + " (" + l.Process + "): " + title.b.String()
	f.Evidence = evidence.b.String()
	f.Mitigation = mitigation.b.String()
	f.DueDate = e.due[f.Risk]
	return true
}

// Flag sets, shared by listeners and findings (never modified).
var (
	flagsAll                = []string{FlagUnapproved, FlagInsecure, FlagPublic}
	flagsUnapprovedPublic   = []string{FlagUnapproved, FlagPublic}
	flagsUnapprovedInsecure = []string{FlagUnapproved, FlagInsecure}
	flagsUnapproved         = []string{FlagUnapproved}
	flagsInsecurePublic     = []string{FlagInsecure, FlagPublic}
	flagsInsecure           = []string{FlagInsecure}
	flagsPublic             = []string{FlagPublic}
	flagsNone               = []string{}
)

// ownerText names the owner of s with pid and executable for evidence.
func ownerText(s sockets.Socket) string {
	if !s.Attributed() {
		return processName(s)
	}
	if s.Exe != "" {
		return s.Process + " (pid " + strconv.Itoa(s.PID) + ", " + s.Exe + ")"
	}
	return s.Process + " (pid " + strconv.Itoa(s.PID) + ")"
}

func nameOr(s sockets.Socket, unknown string) string {
	if s.Attributed() {
		return s.Process
	}
	return unknown
}

func pidNote(s sockets.Socket) string {
	if s.Attributed() {
		return " (pid " + strconv.Itoa(s.PID) + ")"
	}
	return ""
}

// approveSnippet is the approved_ports.json entry that would approve s.
func approveSnippet(s sockets.Socket) string {
	b := make([]byte, 0, 64)
	b = append(b, `{"port":`...)
	b = strconv.AppendUint(b, uint64(s.Local.Port()), 10)
	b = append(b, `,"protocol":`...)
	b = appendString(b, s.Proto)
	if s.Attributed() {
		b = append(b, `,"command":`...)
		b = appendString(b, s.Process)
	}
	return string(append(b, '}'))
}

// DueDate returns the remediation due date for a finding of the given risk
// found at now: 1 day for critical, 7 for high, 30 for medium, 90 for low.
func DueDate(now time.Time, risk string) string {
	days := map[string]int{RiskCritical: 1, RiskHigh: 7, RiskMedium: 30, RiskLow: 90}[risk]
	if days == 0 {
		days = 90
	}
	return now.UTC().AddDate(0, 0, days).Format(time.DateOnly)
}
