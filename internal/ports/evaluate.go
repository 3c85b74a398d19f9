package ports

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clawwarden/clawwarden/internal/finding"
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
	finding.Fields
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
	r := newReport(in)
	ss := in.Inventory.Sockets
	if !slices.IsSortedFunc(ss, sockets.Compare) {
		ss = slices.Clone(ss)
		sockets.Sort(ss)
	}
	e := newEvaluator(in, len(ss))
	// First every listener's entry and verdict, then the findings of the
	// flagged ones, allocated once.
	r.Listeners = make([]Listener, 0, len(ss))
	verdicts := make([]verdict, 0, len(ss))
	var flagged []int32 // indexes of the flagged listeners
	for i := range ss {
		if !ss[i].Listening() {
			continue
		}
		r.Listeners = append(r.Listeners, Listener{})
		v := e.listener(&ss[i], &r.Listeners[len(r.Listeners)-1])
		if v.flagged {
			flagged = append(flagged, int32(len(verdicts)))
		}
		verdicts = append(verdicts, v)
	}
	// The findings do not depend on each other: on a host with thousands,
	// several goroutines build them.
	r.Findings = make([]Finding, len(flagged))
	inParallel(len(flagged), func(lo, hi int) {
		for j := lo; j < hi; j++ {
			i := flagged[j]
			e.finding(verdicts[i].s, &r.Listeners[i], verdicts[i], &r.Findings[j])
		}
	})
	for i, j := 0, 0; i < len(verdicts); i++ {
		var f *Finding
		if verdicts[i].flagged {
			f = &r.Findings[j]
			j++
		}
		r.Summary.add(verdicts[i].s, &r.Listeners[i], f)
	}
	r.Summary.Status = string(finding.Compliant)
	for _, st := range r.Summary.Checks {
		if finding.Status(st).Worse(finding.Status(r.Summary.Status)) {
			r.Summary.Status = st
		}
	}
	return r
}

// newReport returns the report's header and an empty summary.
func newReport(in Input) Report {
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
			Checks: map[string]string{CheckApproved: string(finding.Compliant), CheckInsecure: string(finding.Compliant)},
		},
	}
	if in.BaselineMissing {
		r.Hint = "no approved baseline: run `clawwarden ports baseline`, then review and prune " + in.ApprovedFile
	}
	return r
}

// add counts the listener l of socket s and its finding f (nil when s is
// not flagged).
func (sum *Summary) add(s *sockets.Socket, l *Listener, f *Finding) {
	sum.Listeners++
	if l.Approved {
		sum.Approved++
	}
	if !s.Attributed() {
		sum.Unattributed++
	}
	if f == nil {
		return
	}
	sum.Flagged++
	sum.ByRisk[f.Risk]++
	for _, fl := range f.Flags {
		switch fl {
		case FlagUnapproved:
			sum.Unapproved++
		case FlagInsecure:
			sum.Insecure++
		case FlagPublic:
			sum.Public++
		}
	}
	if finding.Status(f.Status).Worse(finding.Status(sum.Checks[f.CheckID])) {
		sum.Checks[f.CheckID] = f.Status
	}
}

// match returns the index of the first rule that approves s, or -1, plus a
// reason when a rule for the same port did not match. candidates are the
// indexes, in order, of the rules for s's port.
func match(rules []Rule, candidates []int32, s *sockets.Socket) (int, string) {
	near := ""
	for _, i := range candidates {
		rule := &rules[i]
		if rule.Port != int(s.Local.Port()) || (rule.Protocol != "" && rule.Protocol != s.Proto) {
			continue
		}
		if rule.bind.IsValid() && rule.bind != s.Local.Addr() {
			if near == "" {
				near = fmt.Sprintf("entry %d approves port %d/%s only on %s", i, rule.Port, s.Proto, rule.Bind)
			}
			continue
		}
		if !s.OwnedBy(rule.Command) {
			if near == "" {
				near = fmt.Sprintf("entry %d approves port %d/%s for command %q, but the process is %s", i, rule.Port, s.Proto, rule.Command, processName(*s))
			}
			continue
		}
		return int(i), ""
	}
	return -1, near
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
	byPort     []int32 // indexes of the rules, sorted by port (stable)
	due        map[finding.Risk]string
	missingEv  string
	missingFix string
	ints       []int                    // backing store for the pid, uid and index pointers
	addrs      map[netip.Addr]addrTexts // texts of each bind address
	owners     map[int]ownerTexts       // evidence text of each owning pid
}

// ownerTexts is the evidence text of the owner of a socket, with the
// process name and executable it was built from.
type ownerTexts struct{ process, exe, text string }

// addrTexts are the texts of one bind address.
type addrTexts struct{ addr, bind string }

func newEvaluator(in Input, sockets int) *evaluator {
	e := &evaluator{
		in:     in,
		due:    map[finding.Risk]string{},
		ints:   make([]int, 0, 3*sockets),
		addrs:  map[netip.Addr]addrTexts{},
		owners: map[int]ownerTexts{},
	}
	for _, r := range finding.Risks {
		e.due[r] = finding.DueDate(in.Now, r)
	}
	if !in.BaselineMissing {
		e.byPort = make([]int32, len(in.Rules))
		for i := range e.byPort {
			e.byPort[i] = int32(i)
		}
		slices.SortStableFunc(e.byPort, func(a, b int32) int { return cmp.Compare(in.Rules[a].Port, in.Rules[b].Port) })
	}
	e.missingEv = "no approved baseline: " + in.ApprovedFile + " does not exist"
	e.missingFix = "Create the approved baseline with `clawwarden ports baseline`, then review and prune " + in.ApprovedFile + "."
	return e
}

// rulesFor returns the indexes, in order, of the rules for port.
func (e *evaluator) rulesFor(port int) []int32 {
	rules := e.in.Rules
	lo, _ := slices.BinarySearchFunc(e.byPort, port, func(i int32, p int) int { return cmp.Compare(rules[i].Port, p) })
	hi := lo
	for hi < len(e.byPort) && rules[e.byPort[hi]].Port == port {
		hi++
	}
	return e.byPort[lo:hi]
}

// addrTexts returns the texts of bind address a.
func (e *evaluator) addrTexts(a netip.Addr) addrTexts {
	t, ok := e.addrs[a]
	if !ok {
		t = addrTexts{a.String(), bindDescription(a)}
		e.addrs[a] = t
	}
	return t
}

// ownerText is [ownerText] from the texts [evaluator.listener] built once
// per owning process of a flagged listener. It only reads the evaluator, so
// findings can be built concurrently.
func (e *evaluator) ownerText(s *sockets.Socket) string {
	if t, ok := e.owners[s.PID]; ok && s.Attributed() && t.process == s.Process && t.exe == s.Exe {
		return t.text
	}
	return ownerText(*s)
}

// parallelMin is the number of findings from which [inParallel] uses
// several goroutines.
var parallelMin = 1024

// inParallel calls fn for consecutive parts [lo, hi) of [0, n), in up to
// four goroutines when n reaches parallelMin.
func inParallel(n int, fn func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), 4)
	if n < parallelMin || workers < 2 {
		fn(0, n)
		return
	}
	per := (n + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += per {
		wg.Go(func() { fn(lo, min(lo+per, n)) })
	}
	wg.Wait()
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

// texts joins the parts of a finding's evidence, mitigation or title with
// sep. A text that is one whole part, such as a mitigation shared by
// thousands of findings, is that string itself rather than a copy.
type texts struct {
	b    strings.Builder
	sep  string
	n    int    // parts added
	only string // the one part, while it is not copied into b
	grow int    // capacity to reserve when b is first written
}

// add appends a part made of the given strings, after sep unless it is the
// first.
func (t *texts) add(parts ...string) {
	if t.n == 0 && len(parts) == 1 && t.b.Len() == 0 {
		t.n, t.only = 1, parts[0]
		return
	}
	t.materialize()
	if t.n > 0 {
		t.b.WriteString(t.sep)
	}
	t.n++
	for _, p := range parts {
		t.b.WriteString(p)
	}
}

// write appends strings to the current part.
func (t *texts) write(parts ...string) {
	t.materialize()
	for _, p := range parts {
		t.b.WriteString(p)
	}
}

// materialize moves the uncopied part into b.
func (t *texts) materialize() {
	if t.b.Cap() == 0 && t.grow > 0 {
		t.b.Grow(t.grow)
	}
	if t.only != "" {
		t.b.WriteString(t.only)
		t.only = ""
	}
}

func (t *texts) String() string {
	if t.b.Len() == 0 {
		return t.only
	}
	return t.b.String()
}

// verdict is what [evaluator.listener] found out about one listener.
type verdict struct {
	s        *sockets.Socket
	svc      *Service // the catalog entry when insecure
	near     string   // why an entry for the same port did not approve it
	idx      int32    // the approving baseline entry, or -1
	flagged  bool
	public   bool // bound to a non-loopback address
	insecure bool // a service of the insecure catalog at this exposure
	gateway  bool // looks like the OpenClaw gateway
}

// listener fills in the listener entry l of s: owner, approval and flags.
func (e *evaluator) listener(s *sockets.Socket, l *Listener) verdict {
	addr := s.Local.Addr()
	port := s.Local.Port()
	v := verdict{s: s, public: Public(addr), idx: -1}
	*l = Listener{
		Protocol:    s.Proto,
		Family:      s.Family,
		BindAddress: e.addrTexts(addr).addr,
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
	if !e.in.BaselineMissing {
		var idx int
		idx, v.near = match(e.in.Rules, e.rulesFor(int(port)), s)
		v.idx = int32(idx)
	}
	if v.idx >= 0 {
		l.Approved, l.ApprovedBy = true, e.intPtr(int(v.idx))
	}
	v.svc = insecure(s.Proto, port, v.public)
	v.insecure = v.svc != nil
	switch {
	case !l.Approved && v.insecure && v.public:
		l.Flags = flagsAll
	case !l.Approved && v.public:
		l.Flags = flagsUnapprovedPublic
	case !l.Approved && v.insecure:
		l.Flags = flagsUnapprovedInsecure
	case !l.Approved:
		l.Flags = flagsUnapproved
	case v.insecure && v.public:
		l.Flags = flagsInsecurePublic
	case v.insecure:
		l.Flags = flagsInsecure
	case v.public:
		l.Flags = flagsPublic
	default:
		l.Flags = flagsNone
	}
	v.flagged = len(l.Flags) > 0
	if v.flagged {
		v.gateway = isGateway(*s)
		if _, ok := e.owners[s.PID]; !ok && s.Attributed() {
			e.owners[s.PID] = ownerTexts{s.Process, s.Exe, ownerText(*s)}
		}
	}
	return v
}

// finding fills in the finding f of the flagged listener l of s: check,
// status, risk, due date and texts. An insecure service or an unapproved
// listener is a violation; an approved public bind is partial.
func (e *evaluator) finding(s *sockets.Socket, l *Listener, v verdict, f *Finding) {
	*f = Finding{
		Fields:      finding.Fields{CheckID: CheckApproved, Owner: OwnerHost},
		Port:        l.Port,
		Protocol:    s.Proto,
		BindAddress: l.BindAddress,
		PID:         l.PID,
		Process:     l.Process,
		Exe:         s.Exe,
		Flags:       l.Flags,
	}
	if v.gateway {
		f.Owner = OwnerOpenClaw
	}
	risk := finding.Low
	if v.insecure {
		f.CheckID = CheckInsecure
		f.Service, f.SecureAlternative = v.svc.Name, v.svc.Alternative
		r := v.svc.Risk
		if !v.public {
			r = r.Lower()
		}
		risk = risk.Max(r)
	}
	if v.public {
		r := finding.Medium
		if v.gateway || !l.Approved {
			r = finding.High
		}
		risk = risk.Max(r)
	}
	status := finding.Violation
	if l.Approved && !v.insecure {
		status = finding.Partial // approved, but exposed
	}
	f.Status, f.Risk, f.DueDate = string(status), string(risk), e.due[risk]
	f.Title, f.Evidence, f.Mitigation = e.explain(s, l, v)
}

// explain returns the title, evidence and mitigation of the finding for the
// flagged listener l of s.
func (e *evaluator) explain(s *sockets.Socket, l *Listener, v verdict) (title, evidence, mitigation string) {
	in := e.in
	addr := s.Local.Addr()
	var ptext [8]byte
	portText := string(strconv.AppendUint(ptext[:0], uint64(l.Port), 10))
	local := l.BindAddress + ":" + portText
	if addr.Is6() {
		local = "[" + l.BindAddress + "]:" + portText
	}
	portProto := portText + "/" + s.Proto
	ev := texts{sep: "; ", grow: 256}
	fix := texts{sep: " ", grow: 256}
	tt := texts{sep: ", ", grow: 96}
	tt.write(s.Proto, " ", local, " (", l.Process, "): ")
	ev.add(s.Proto, " ", local, " is listening, owned by ", e.ownerText(s), ", ", e.addrs[addr].bind)
	if v.insecure {
		tt.add("insecure service ", v.svc.Name)
		ev.add("insecure: ", v.svc.Name, " (", v.svc.Problem, ")")
		fix.add("Replace ", v.svc.Name, " with ", v.svc.Alternative, ".")
	}
	if v.public {
		tt.add("public bind")
		if v.gateway {
			fix.add(gatewayFix)
		} else {
			fix.add("Bind ", nameOr(*s, "the service"), " to 127.0.0.1 or ::1 in its configuration; if it must serve other hosts, allow port ", portProto, " only from known networks in the host firewall (nftables/ufw).")
		}
	}
	switch {
	case !l.Approved:
		tt.add("unapproved")
		if in.BaselineMissing {
			ev.add(e.missingEv)
			fix.add(e.missingFix)
			break
		}
		ev.add("no entry in ", in.ApprovedFile, " approves port ", portProto)
		if v.near != "" {
			ev.write(" (", v.near, ")")
		}
		fix.add("If ", nameOr(*s, "the listener"), " on port ", portProto, " is expected, add ", approveSnippet(*s), " to ", in.ApprovedFile, "; otherwise stop it", pidNote(*s), " and disable what starts it.")
	case v.gateway && v.public:
		ev.add("approved by entry ", strconv.Itoa(int(v.idx)), " of ", in.ApprovedFile, ", but the gateway should not listen on a public address")
	default:
		ev.add("approved by entry ", strconv.Itoa(int(v.idx)), " of ", in.ApprovedFile)
	}
	if !s.Attributed() && in.Inventory.Partial {
		ev.add("the owning process belongs to another user and is unknown without root")
	}
	return tt.String(), ev.String(), fix.String()
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
	entry := struct {
		Port     uint16  `json:"port"`
		Protocol string  `json:"protocol"`
		Command  *string `json:"command,omitempty"`
	}{Port: s.Local.Port(), Protocol: s.Proto}
	if s.Attributed() {
		entry.Command = &s.Process
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(entry); err != nil {
		return "{}"
	}
	return strings.TrimSuffix(b.String(), "\n")
}
