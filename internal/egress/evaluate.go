package egress

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clawwarden/clawwarden/internal/finding"
	"github.com/clawwarden/clawwarden/internal/sockets"
)

// ReportFile is the name of the report in the reports directory.
const ReportFile = "egress-monitor-latest.json"

// CheckID is the check id of egress findings.
const CheckID = "egress_connections_approved"

// FlagUnapproved marks a destination the allowlist does not allow.
const FlagUnapproved = "unapproved"

// Owner is the owner named in egress findings.
const Owner = "host administrator"

// Input is what [Evaluate] compares.
type Input struct {
	// Inventory holds listening and established sockets
	// (sockets.Options{Listening: true, Established: true}); listeners tell
	// inbound connections from outbound ones.
	Inventory sockets.Inventory
	// Rules is the allowlist; ignored when AllowlistMissing.
	Rules []Rule
	// AllowlistMissing is true when egress_allowlist.json does not exist;
	// every destination is then flagged.
	AllowlistMissing bool
	// AllowlistFile is the allowlist's path, named in evidence and
	// mitigations.
	AllowlistFile string
	// Host is the host name for the report.
	Host string
	// Now dates the report and the findings' due dates.
	Now time.Time
	// Resolver answers host and host_regex lookups for this run.
	Resolver *Cache
	// LocalAddrs are the host's own addresses; connections to them are not
	// egress.
	LocalAddrs []netip.Addr
}

// Report is the egress monitor's report (egress-monitor-latest.json).
type Report struct {
	GeneratedAt         string       `json:"generated_at"`
	Host                string       `json:"host"`
	Scanner             string       `json:"scanner"`
	CompleteAttribution bool         `json:"complete_attribution"`
	AttributionNote     string       `json:"attribution_note,omitempty"`
	AllowlistFile       string       `json:"allowlist_file"`
	AllowlistMissing    bool         `json:"allowlist_missing"`
	Hint                string       `json:"hint,omitempty"`
	ResolutionErrors    []string     `json:"resolution_errors,omitempty"`
	Connections         []Connection `json:"connections"`
	Findings            []Finding    `json:"findings"`
	Summary             Summary      `json:"summary"`
}

// Connection is one outbound connection in the report.
type Connection struct {
	Protocol      string   `json:"protocol"`
	LocalAddress  string   `json:"local_address"`
	RemoteAddress string   `json:"remote_address"`
	RemotePort    uint16   `json:"remote_port"`
	PID           *int     `json:"pid"`
	Process       string   `json:"process"`
	Exe           string   `json:"exe,omitempty"`
	UID           *int     `json:"uid,omitempty"`
	Names         []string `json:"names,omitempty"`
	Allowed       bool     `json:"allowed"`
	AllowedBy     *int     `json:"allowed_by,omitempty"` // index of the matching entry
	Rule          string   `json:"rule,omitempty"`
}

// Finding is one flagged destination of one process (all its connections
// there), in the output contract shared by every clawwarden check.
type Finding struct {
	finding.Fields
	Protocol      string   `json:"protocol"`
	Port          uint16   `json:"port"`
	RemoteAddress string   `json:"remote_address"`
	BindAddress   string   `json:"bind_address"`
	Names         []string `json:"names,omitempty"`
	PID           *int     `json:"pid"`
	Process       string   `json:"process"`
	Exe           string   `json:"exe,omitempty"`
	Connections   int      `json:"connections"`
	Flags         []string `json:"flags"`
}

// Summary counts connections and findings.
type Summary struct {
	Status       string            `json:"status"`
	Connections  int               `json:"connections"`
	Allowed      int               `json:"allowed"`
	Flagged      int               `json:"flagged"`
	Destinations int               `json:"destinations"`
	Unattributed int               `json:"unattributed"`
	ByRisk       map[string]int    `json:"by_risk"`
	Checks       map[string]string `json:"checks"`
}

// Flagged reports whether the report flags anything.
func (r *Report) Flagged() bool { return len(r.Findings) > 0 }

// Outbound returns the egress connections of inv: established TCP
// connections that no local listener accepted and connected UDP sockets,
// whose remote address is neither loopback, unspecified, nor one of local.
func Outbound(inv sockets.Inventory, local []netip.Addr) []sockets.Socket {
	type lkey struct {
		port uint16
		addr netip.Addr
	}
	listening := map[lkey]bool{}
	for _, s := range inv.Sockets {
		if s.Proto == sockets.TCP && s.State == sockets.StateListen {
			a := s.Local.Addr()
			if a.IsUnspecified() {
				a = netip.Addr{}
			}
			listening[lkey{s.Local.Port(), a}] = true
		}
	}
	var out []sockets.Socket
	for _, s := range inv.Sockets {
		if s.State != sockets.StateEstablished || !s.Remote.IsValid() {
			continue
		}
		ra := s.Remote.Addr()
		if ra.IsLoopback() || ra.IsUnspecified() || slices.Contains(local, ra) {
			continue
		}
		if s.Proto == sockets.TCP && (listening[lkey{s.Local.Port(), netip.Addr{}}] || listening[lkey{s.Local.Port(), s.Local.Addr()}]) {
			continue // accepted by a local listener: inbound
		}
		out = append(out, s)
	}
	sockets.Sort(out)
	return out
}

// Evaluate compares the outbound connections of in.Inventory with the
// allowlist and returns the report, in a deterministic order.
func Evaluate(ctx context.Context, in Input) Report {
	if in.Resolver == nil {
		in.Resolver = NewCache(nil, 0)
	}
	r := newReport(in)
	if in.AllowlistMissing {
		in.Rules = nil
	}
	e := &evaluation{ctx: ctx, in: in, r: &r, groups: map[groupKey]*Finding{}}
	conns := Outbound(in.Inventory, in.LocalAddrs)
	e.resolveHosts()
	matches := e.firstMatches(conns)
	destinations := map[netip.AddrPort]bool{}
	for i := range conns {
		e.connection(&conns[i], matches[i])
		destinations[conns[i].Remote] = true
	}
	e.findings()
	r.Summary.Destinations = len(destinations)
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
		AllowlistFile:       in.AllowlistFile,
		AllowlistMissing:    in.AllowlistMissing,
		Connections:         []Connection{},
		Findings:            []Finding{},
		Summary: Summary{
			ByRisk: map[string]int{},
			Checks: map[string]string{CheckID: string(finding.Compliant)},
		},
	}
	if in.AllowlistMissing {
		r.Hint = "no egress allowlist: every destination is flagged; create " + in.AllowlistFile + " listing the destinations agents may reach"
	}
	return r
}

// evaluation is the state of one [Evaluate].
type evaluation struct {
	ctx       context.Context
	in        Input
	r         *Report
	hosts     []string                // the allowlist's host entries, once each
	hostAddrs map[string][]netip.Addr // their addresses
	confirmed map[netip.Addr][]string // forward-confirmed names of unmatched addresses
	groups    map[groupKey]*Finding   // one finding per process and destination
	order     []groupKey              // the groups in the order they were found
	mu        sync.Mutex              // guards the maps and r during lookups
}

// groupKey is what the connections of one finding share.
type groupKey struct {
	proto  string
	remote netip.AddrPort
	pid    int
	inode  uint64 // distinguishes unknown owners
}

// resolveHosts resolves every host entry of the allowlist once,
// concurrently, and records the failures in the report.
func (e *evaluation) resolveHosts() {
	e.hostAddrs = map[string][]netip.Addr{}
	for _, rule := range e.in.Rules {
		if rule.Host != "" && !slices.Contains(e.hosts, rule.Host) {
			e.hosts = append(e.hosts, rule.Host)
		}
	}
	parallel(e.hosts, func(h string) {
		addrs, err := e.in.Resolver.Forward(e.ctx, h)
		e.mu.Lock()
		defer e.mu.Unlock()
		e.hostAddrs[h] = addrs
		if err != nil {
			e.r.ResolutionErrors = append(e.r.ResolutionErrors, fmt.Sprintf("host %s: %v", h, err))
		}
	})
	slices.Sort(e.r.ResolutionErrors)
}

// resolvedNames returns the host entries that resolved to a.
func (e *evaluation) resolvedNames(a netip.Addr) []string {
	var names []string
	for _, h := range e.hosts {
		if slices.Contains(e.hostAddrs[h], a) {
			names = append(names, h)
		}
	}
	return names
}

// firstMatches matches every connection without reverse lookups, then
// reverse-resolves the addresses left unmatched (for host_regex and for the
// evidence), concurrently, once per address. It returns the index of the
// matching rule of each connection, or -1.
func (e *evaluation) firstMatches(conns []sockets.Socket) []int {
	matches := make([]int, len(conns))
	var pending []netip.Addr
	for i, s := range conns {
		matches[i] = matchRule(e.in.Rules, s, e.resolvedNames(s.Remote.Addr()), e.hostAddrs)
		if matches[i] < 0 && !slices.Contains(pending, s.Remote.Addr()) {
			pending = append(pending, s.Remote.Addr())
		}
	}
	e.confirmed = map[netip.Addr][]string{}
	parallel(pending, func(a netip.Addr) {
		names := e.in.Resolver.Confirmed(e.ctx, a)
		e.mu.Lock()
		e.confirmed[a] = names
		e.mu.Unlock()
	})
	return matches
}

// connection adds s, whose first match is idx, to the report's connections
// and, when no rule allows it, to its process's finding for the destination.
func (e *evaluation) connection(s *sockets.Socket, idx int) {
	r := e.r
	a := s.Remote.Addr()
	names := e.resolvedNames(a)
	for _, n := range e.confirmed[a] {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	if idx < 0 && len(e.confirmed[a]) > 0 {
		idx = matchRule(e.in.Rules, *s, names, e.hostAddrs)
	}
	c := Connection{
		Protocol:      s.Proto,
		LocalAddress:  s.Local.String(),
		RemoteAddress: a.String(),
		RemotePort:    s.Remote.Port(),
		Process:       "unknown",
		Exe:           s.Exe,
		Names:         names,
	}
	if s.Attributed() {
		pid := s.PID
		c.PID, c.Process = &pid, s.Process
	}
	if s.UID >= 0 {
		uid := s.UID
		c.UID = &uid
	}
	if idx >= 0 {
		c.Allowed, c.AllowedBy, c.Rule = true, &idx, e.in.Rules[idx].Describe()
		r.Summary.Allowed++
	}
	r.Connections = append(r.Connections, c)
	r.Summary.Connections++
	if !s.Attributed() {
		r.Summary.Unattributed++
	}
	if c.Allowed {
		return
	}
	k := groupKey{s.Proto, s.Remote, s.PID, 0}
	if !s.Attributed() {
		k.inode = s.Inode
	}
	if f := e.groups[k]; f != nil {
		f.Connections++
		return
	}
	e.groups[k] = newFinding(e.in, *s, c)
	e.order = append(e.order, k)
}

// findings adds the findings to the report, sorted, and sets the summary's
// status.
func (e *evaluation) findings() {
	r := e.r
	slices.SortFunc(e.order, func(a, b groupKey) int {
		return cmp.Or(cmp.Compare(a.proto, b.proto), a.remote.Compare(b.remote), cmp.Compare(a.pid, b.pid), cmp.Compare(a.inode, b.inode))
	})
	for _, k := range e.order {
		f := e.groups[k]
		if f.Connections > 1 {
			f.Evidence = fmt.Sprintf("%d connections; %s", f.Connections, f.Evidence)
		}
		r.Findings = append(r.Findings, *f)
		r.Summary.ByRisk[f.Risk]++
	}
	r.Summary.Flagged = len(r.Findings)
	r.Summary.Status = string(finding.Compliant)
	if len(r.Findings) > 0 {
		r.Summary.Status = string(finding.Violation)
		r.Summary.Checks[CheckID] = string(finding.Violation)
	}
}

// parallel runs fn for every item with up to eight goroutines.
func parallel[T any](items []T, fn func(T)) {
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, it := range items {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fn(it)
		}()
	}
	wg.Wait()
}

// matchRule returns the index of the first rule that allows s, whose remote
// address has the given names, or -1.
func matchRule(rules []Rule, s sockets.Socket, names []string, hostAddrs map[string][]netip.Addr) int {
	a := s.Remote.Addr()
	for i, rule := range rules {
		if rule.Protocol != "" && rule.Protocol != s.Proto {
			continue
		}
		if rule.Port != 0 && rule.Port != int(s.Remote.Port()) {
			continue
		}
		if !s.OwnedBy(rule.Command) {
			continue
		}
		switch {
		case rule.Host != "":
			if slices.Contains(hostAddrs[rule.Host], a) {
				return i
			}
		case rule.re != nil:
			if rule.re.MatchString(a.String()) {
				return i
			}
			for _, n := range names {
				if rule.re.MatchString(n) {
					return i
				}
			}
		case rule.prefix.IsValid():
			if rule.prefix.Contains(a) {
				return i
			}
		}
	}
	return -1
}

// newFinding builds the finding for a flagged connection.
func newFinding(in Input, s sockets.Socket, c Connection) *Finding {
	const risk = finding.Medium
	f := &Finding{
		Fields: finding.Fields{
			CheckID: CheckID,
			Status:  string(finding.Violation),
			Risk:    string(risk),
			Owner:   Owner,
			DueDate: finding.DueDate(in.Now, risk),
		},
		Protocol:      s.Proto,
		Port:          s.Remote.Port(),
		RemoteAddress: c.RemoteAddress,
		BindAddress:   s.Local.Addr().String(),
		Names:         c.Names,
		PID:           c.PID,
		Process:       c.Process,
		Exe:           s.Exe,
		Connections:   1,
		Flags:         []string{FlagUnapproved},
	}
	dest := s.Remote.String()
	owner := "an unknown process"
	if s.Attributed() {
		owner = fmt.Sprintf("%s (pid %d", s.Process, s.PID)
		if s.Exe != "" {
			owner += ", " + s.Exe
		}
		owner += ")"
	} else if s.UID >= 0 {
		owner = fmt.Sprintf("an unknown process of uid %d", s.UID)
	}
	names := "no forward-confirmed name"
	if len(c.Names) > 0 {
		names = "names: " + strings.Join(c.Names, ", ")
	}
	f.Title = fmt.Sprintf("%s connection from %s to %s not in the egress allowlist", s.Proto, c.Process, dest)
	ev := fmt.Sprintf("%s %s -> %s by %s; %s", s.Proto, s.Local, dest, owner, names)
	if in.AllowlistMissing {
		ev += fmt.Sprintf("; no egress allowlist: %s does not exist", in.AllowlistFile)
	} else {
		ev += fmt.Sprintf("; no entry in %s allows it", in.AllowlistFile)
	}
	if !s.Attributed() && in.Inventory.Partial {
		ev += "; the process belongs to another user and is unknown without root"
	}
	f.Evidence = ev

	entry := map[string]any{"protocol": s.Proto, "port": s.Remote.Port()}
	if len(c.Names) > 0 {
		entry["host"] = c.Names[0]
	} else {
		entry["cidr"] = netip.PrefixFrom(s.Remote.Addr(), s.Remote.Addr().BitLen()).String()
	}
	if s.Attributed() {
		entry["command"] = s.Process
	}
	snippet, _ := json.Marshal(entry)
	stop := "stop it"
	if s.Attributed() {
		stop = fmt.Sprintf("stop %s (pid %d)", s.Process, s.PID)
	}
	if in.AllowlistMissing {
		f.Mitigation = fmt.Sprintf("Create %s listing the destinations agents may reach; if this one is expected, include %s. Otherwise %s and find out why it connects to %s (an agent following injected instructions may be sending data out).", in.AllowlistFile, snippet, stop, dest)
	} else {
		f.Mitigation = fmt.Sprintf("If %s should reach %s, add %s to %s. Otherwise %s and find out why it connects there (an agent following injected instructions may be sending data out); block the destination in the host firewall.", c.Process, dest, snippet, in.AllowlistFile, stop)
	}
	return f
}
