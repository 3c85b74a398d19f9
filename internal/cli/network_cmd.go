package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/egress"
	"github.com/clawwarden/clawwarden/internal/ports"
	"github.com/clawwarden/clawwarden/internal/safefile"
	"github.com/clawwarden/clawwarden/internal/sockets"
)

func init() {
	subcommands = append(subcommands, subcommand{"ports", newPortsCmd}, subcommand{"egress", newEgressCmd})
}

// scannerFlag validates --scanner and maps "auto" to the default source.
func scannerFlag(v string) (string, error) {
	switch v {
	case "", "auto":
		return "", nil
	case sockets.SourceNetlink, sockets.SourceProcfs, sockets.SourceLsof, sockets.SourceNetstat:
		return v, nil
	}
	return "", usageErr("--scanner must be auto, netlink, procfs, lsof or netstat, got %q", v)
}

const scannerHelp = "socket source: auto, netlink or procfs (Linux), lsof or netstat (macOS)"

type portsOptions struct {
	asJSON   bool
	approved string
	noWrite  bool
	scanner  string
}

func newPortsCmd(a *app) *cobra.Command {
	var o portsOptions
	cmd := &cobra.Command{
		Use:   "ports [--json] [--approved FILE] [--no-write]",
		Short: "Flag listening ports that are unapproved, insecure or public",
		Long: `Compare every listening TCP and UDP socket (IPv4 and IPv6) with the approved
baseline ~/.openclaw/security/approved_ports.json and flag listeners that are
  unapproved  no entry of the baseline matches (port, protocol, command, bind)
  insecure    a cleartext or legacy service (ftp, telnet, http, snmp, ...) or a
              database commonly run without auth on a public bind
  public      bound to a non-loopback address, 0.0.0.0 and :: included
Each finding names the process and says what to change. The report is written
to port-monitor-latest.json in the reports directory.

Without a baseline every listener is unapproved: create one with
'clawwarden ports baseline', then review and prune it.

Exit status: 0 nothing flagged, 10 something flagged, 12 malformed or unsafe
baseline, 64 usage.`,
		Example: "  clawwarden ports\n  clawwarden ports --json --no-write\n  clawwarden ports baseline",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPorts(cmd.Context(), a, o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.asJSON, "json", false, "print the report as JSON")
	f.StringVar(&o.approved, "approved", "", "approved ports file (default ~/.openclaw/security/approved_ports.json)")
	f.BoolVar(&o.noWrite, "no-write", false, "do not write port-monitor-latest.json")
	f.StringVar(&o.scanner, "scanner", "auto", scannerHelp)
	cmd.AddCommand(newPortsBaselineCmd(a))
	return cmd
}

// scanGC makes the garbage collector run less often during a scan: a scan is
// short-lived, and most of what it allocates (sockets, findings) stays live
// until the report is written, so collecting at the default pace costs time
// without saving much memory. Call the returned function to restore it.
func scanGC() func() {
	old := debug.SetGCPercent(400)
	return func() { debug.SetGCPercent(old) }
}

func runPorts(ctx context.Context, a *app, o portsOptions) error {
	defer scanGC()()
	source, err := scannerFlag(o.scanner)
	if err != nil {
		return err
	}
	paths, err := a.Paths()
	if err != nil {
		return err
	}
	file := o.approved
	if file == "" {
		file = paths.Security(config.ApprovedPortsFile)
	}
	rules, err := ports.LoadApproved(file)
	missing := errors.Is(err, fs.ErrNotExist)
	if err != nil && !missing {
		return err
	}
	inv, err := sockets.List(ctx, sockets.Options{Listening: true, Source: source})
	if err != nil {
		return fmt.Errorf("list listening sockets: %w", err)
	}
	host, _ := os.Hostname()
	rep := ports.Evaluate(ports.Input{
		Inventory:       inv,
		Rules:           rules,
		BaselineMissing: missing,
		ApprovedFile:    file,
		Host:            host,
		Now:             a.now(),
	})
	written, err := emitReport(a, paths, ports.ReportFile, &rep, o.asJSON, o.noWrite)
	if err != nil {
		return err
	}
	if !o.asJSON {
		printPorts(a.stdio.Out, rep, written)
	}
	if missing {
		a.printf("hint: no approved baseline at %s: every listener is unapproved; create one with 'clawwarden ports baseline', then review and prune it", file)
	}
	if !rep.CompleteAttribution {
		a.printf("note: %s", rep.AttributionNote)
	}
	if rep.Flagged() {
		return silent(ExitFindings)
	}
	return nil
}

// jsonReport is a report that can write itself as JSON.
type jsonReport interface{ WriteJSON(io.Writer) error }

// emitReport writes the report to name in the reports directory (unless
// noWrite) and to standard output (when asJSON), and returns the path
// written. With --json --no-write it streams straight to standard output.
func emitReport(a *app, paths config.Paths, name string, rep jsonReport, asJSON, noWrite bool) (string, error) {
	if noWrite {
		if asJSON {
			return "", rep.WriteJSON(a.stdio.Out)
		}
		return "", nil
	}
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		return "", err
	}
	if err := safefile.EnsureDir(paths.ReportsDir); err != nil {
		return "", err
	}
	path := filepath.Join(paths.ReportsDir, name)
	if err := safefile.WriteFile(path, buf.Bytes()); err != nil {
		return "", err
	}
	if asJSON {
		if _, err := a.stdio.Out.Write(buf.Bytes()); err != nil {
			return "", err
		}
	}
	return path, nil
}

// pidProcess renders "node (pid 42)" or "unknown".
func pidProcess(pid *int, process string) string {
	if pid == nil {
		return process
	}
	return fmt.Sprintf("%s (pid %d)", process, *pid)
}

// endpoint renders addr:port with brackets for IPv6.
func endpoint(addr string, port uint16) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return fmt.Sprintf("%s:%d", addr, port)
	}
	return netip.AddrPortFrom(a, port).String()
}

func printPorts(out io.Writer, rep ports.Report, written string) {
	w := bufio.NewWriter(out)
	defer w.Flush()
	s := rep.Summary
	if len(rep.Findings) == 0 {
		fmt.Fprintf(w, "ports: %d listeners, nothing flagged (scanner %s)\n", s.Listeners, rep.Scanner)
	} else {
		fmt.Fprintf(w, "ports: %d of %d listeners flagged (unapproved %d, insecure %d, public %d; scanner %s)\n",
			s.Flagged, s.Listeners, s.Unapproved, s.Insecure, s.Public, rep.Scanner)
		rows := [][]string{{"RISK", "PROTO", "ADDRESS", "PROCESS", "FLAGS"}}
		fixes := []string{""}
		for _, f := range rep.Findings {
			rows = append(rows, []string{f.Risk, f.Protocol, endpoint(f.BindAddress, f.Port), pidProcess(f.PID, f.Process), strings.Join(f.Flags, ",")})
			fixes = append(fixes, f.Mitigation)
		}
		printTable(w, rows, fixes)
	}
	if written != "" {
		fmt.Fprintf(w, "report: %s\n", written)
	}
}

type baselineOptions struct {
	force   bool
	out     string
	scanner string
}

func newPortsBaselineCmd(a *app) *cobra.Command {
	var o baselineOptions
	cmd := &cobra.Command{
		Use:   "baseline [--force] [--out FILE]",
		Short: "Write the current listeners as an approved baseline to review",
		Long: `Write every current listener as an entry of approved_ports.json, one per port,
protocol and command, for a person to review and prune. Entries that are
public, insecure or of an unknown process carry a comment starting with
"REVIEW:" that says why. An existing baseline is never replaced without
--force; with --force the old file is kept as approved_ports.json.bak-<time>.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBaseline(cmd.Context(), a, o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.force, "force", false, "replace an existing baseline (keeping a backup)")
	f.StringVar(&o.out, "out", "", "write here instead of ~/.openclaw/security/approved_ports.json")
	f.StringVar(&o.scanner, "scanner", "auto", scannerHelp)
	return cmd
}

func runBaseline(ctx context.Context, a *app, o baselineOptions) error {
	defer scanGC()()
	source, err := scannerFlag(o.scanner)
	if err != nil {
		return err
	}
	paths, err := a.Paths()
	if err != nil {
		return err
	}
	out := o.out
	if out == "" {
		out = paths.Security(config.ApprovedPortsFile)
		if err := safefile.EnsureDir(paths.SecurityDir); err != nil {
			return err
		}
	}
	inv, err := sockets.List(ctx, sockets.Options{Listening: true, Source: source})
	if err != nil {
		return fmt.Errorf("list listening sockets: %w", err)
	}
	rules := ports.Baseline(inv.Sockets)
	backup, err := ports.WriteBaseline(out, rules, o.force, a.now())
	if errors.Is(err, ports.ErrBaselineExists) {
		return withHint(err, "review and edit it by hand, or rerun with --force to replace it (the old file is kept as a backup)")
	}
	if err != nil {
		return err
	}
	w := a.stdio.Out
	fmt.Fprintf(w, "wrote %d entries to %s\n", len(rules), out)
	if backup != "" {
		fmt.Fprintf(w, "previous baseline kept as %s\n", backup)
	}
	rows := [][]string{{"PORT", "PROTO", "COMMAND", "COMMENT"}}
	review := 0
	for _, r := range rules {
		cmdName := r.Command
		if cmdName == "" {
			cmdName = "(any)"
		}
		if strings.HasPrefix(r.Comment, ports.ReviewPrefix) {
			review++
		}
		rows = append(rows, []string{fmt.Sprint(r.Port), r.Protocol, cmdName, r.Comment})
	}
	printTable(w, rows, nil)
	fmt.Fprintf(w, "next: review %s: delete entries for services that should not listen (%d marked REVIEW are public, insecure or of unknown processes); 'clawwarden ports' then checks against it\n", out, review)
	if inv.Note != "" {
		a.printf("note: %s", inv.Note)
	}
	return nil
}

type egressOptions struct {
	asJSON    bool
	allowlist string
	noWrite   bool
	scanner   string
	timeout   time.Duration
}

func newEgressCmd(a *app) *cobra.Command {
	var o egressOptions
	cmd := &cobra.Command{
		Use:   "egress [--json] [--allowlist FILE] [--no-write]",
		Short: "Flag outbound connections to destinations not in the egress allowlist",
		Long: `Compare established outbound TCP connections and connected UDP sockets with
~/.openclaw/security/egress_allowlist.json. Entries allow a destination by
host (every address the name resolves to), host_regex (RE2, matched against
the names of host entries that resolved to the address and forward-confirmed
reverse names), or cidr, optionally narrowed by protocol, port and command.
Loopback traffic and connections accepted by local listeners are not egress.
Each unknown destination is flagged with its process and remote address. The
report is written to egress-monitor-latest.json in the reports directory.

Without an allowlist every destination is flagged.

Exit status: 0 nothing flagged, 10 something flagged, 12 malformed or unsafe
allowlist, 64 usage.`,
		Example: "  clawwarden egress\n  clawwarden egress --json --no-write",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runEgress(cmd.Context(), a, o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.asJSON, "json", false, "print the report as JSON")
	f.StringVar(&o.allowlist, "allowlist", "", "egress allowlist file (default ~/.openclaw/security/egress_allowlist.json)")
	f.BoolVar(&o.noWrite, "no-write", false, "do not write egress-monitor-latest.json")
	f.StringVar(&o.scanner, "scanner", "auto", scannerHelp)
	f.DurationVar(&o.timeout, "dns-timeout", egress.DefaultTimeout, "limit for each DNS lookup (answers are cached for the run)")
	return cmd
}

func runEgress(ctx context.Context, a *app, o egressOptions) error {
	defer scanGC()()
	source, err := scannerFlag(o.scanner)
	if err != nil {
		return err
	}
	if o.timeout <= 0 {
		return usageErr("--dns-timeout must be positive, got %s", o.timeout)
	}
	paths, err := a.Paths()
	if err != nil {
		return err
	}
	file := o.allowlist
	if file == "" {
		file = paths.Security(config.EgressAllowlistFile)
	}
	rules, err := egress.LoadAllowlist(file)
	missing := errors.Is(err, fs.ErrNotExist)
	if err != nil && !missing {
		return err
	}
	inv, err := sockets.List(ctx, sockets.Options{Listening: true, Established: true, Source: source})
	if err != nil {
		return fmt.Errorf("list connections: %w", err)
	}
	host, _ := os.Hostname()
	rep := egress.Evaluate(ctx, egress.Input{
		Inventory:        inv,
		Rules:            rules,
		AllowlistMissing: missing,
		AllowlistFile:    file,
		Host:             host,
		Now:              a.now(),
		Resolver:         egress.NewCache(nil, o.timeout),
		LocalAddrs:       localAddrs(),
	})
	written, err := emitReport(a, paths, egress.ReportFile, &rep, o.asJSON, o.noWrite)
	if err != nil {
		return err
	}
	if !o.asJSON {
		printEgress(a.stdio.Out, rep, written)
	}
	if missing {
		a.printf("hint: no egress allowlist at %s: every destination is flagged; create it with the destinations agents may reach, e.g. [{\"protocol\":\"tcp\",\"host\":\"api.openai.com\",\"port\":443}]", file)
	}
	for _, e := range rep.ResolutionErrors {
		a.printf("warning: DNS lookup failed, entry cannot match: %s", e)
	}
	if !rep.CompleteAttribution {
		a.printf("note: %s", rep.AttributionNote)
	}
	if rep.Flagged() {
		return silent(ExitFindings)
	}
	return nil
}

// localAddrs returns the addresses of this host's interfaces (in the
// current network namespace).
func localAddrs() []netip.Addr {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out = append(out, p.Addr().Unmap())
		}
	}
	return out
}

func printEgress(out io.Writer, rep egress.Report, written string) {
	w := bufio.NewWriter(out)
	defer w.Flush()
	s := rep.Summary
	if len(rep.Findings) == 0 {
		fmt.Fprintf(w, "egress: %d outbound connections, all allowed (scanner %s)\n", s.Connections, rep.Scanner)
	} else {
		fmt.Fprintf(w, "egress: %d of %d outbound connections not allowed, in %d findings (scanner %s)\n",
			s.Connections-s.Allowed, s.Connections, s.Flagged, rep.Scanner)
		rows := [][]string{{"RISK", "PROTO", "DESTINATION", "NAMES", "PROCESS", "CONNS"}}
		fixes := []string{""}
		for _, f := range rep.Findings {
			names := strings.Join(f.Names, ",")
			if names == "" {
				names = "-"
			}
			rows = append(rows, []string{f.Risk, f.Protocol, endpoint(f.RemoteAddress, f.Port), names, pidProcess(f.PID, f.Process), fmt.Sprint(f.Connections)})
			fixes = append(fixes, f.Mitigation)
		}
		printTable(w, rows, fixes)
	}
	if written != "" {
		fmt.Fprintf(w, "report: %s\n", written)
	}
}

// printTable prints rows as aligned columns; after[i], when not empty, is
// printed as a "  fix:" line below row i.
func printTable(w io.Writer, rows [][]string, after []string) {
	var width []int
	for _, r := range rows {
		for i, c := range r {
			if i == len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], len(c))
		}
	}
	for ri, r := range rows {
		var b strings.Builder
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", width[i]-len(c)+2))
			}
		}
		fmt.Fprintln(w, b.String())
		if ri < len(after) && after[ri] != "" {
			fmt.Fprintf(w, "  fix: %s\n", after[ri])
		}
	}
}
