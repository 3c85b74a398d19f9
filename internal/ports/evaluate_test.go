package ports

import (
	"bytes"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawwarden/clawwarden/internal/finding"
	"github.com/clawwarden/clawwarden/internal/sockets"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

var testNow = time.Date(2026, 11, 25, 10, 30, 0, 0, time.UTC)

// sock builds a socket; pid 0 means an unknown owner.
func sock(proto, addr string, pid int, comm, exe string) sockets.Socket {
	ap := netip.MustParseAddrPort(addr)
	s := sockets.Socket{Proto: proto, Family: 4, Local: ap, UID: 1000, PID: pid, Process: comm, Exe: exe, State: sockets.StateListen}
	if ap.Addr().Is6() {
		s.Family = 6
	}
	if proto == sockets.UDP {
		s.State = sockets.StateUnconnected
	}
	return s
}

func loadRules(t *testing.T, files ...string) []Rule {
	t.Helper()
	var all []Rule
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		rules, err := ParseApproved(data, f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, rules...)
	}
	return all
}

func TestEvaluate(t *testing.T) {
	rules := loadRules(t, "approved_ports.template.json", "approved_ports.bind.json")
	rules = append(rules, Rule{Port: 8080, Protocol: "tcp"})
	type want struct {
		flags    []string // nil: not flagged
		risk     finding.Risk
		check    string
		status   finding.Status
		owner    string
		contains []string // substrings of evidence + mitigation
	}
	tests := []struct {
		name    string
		s       sockets.Socket
		missing bool
		want    want
	}{
		{"gateway on 0.0.0.0 is public even when approved",
			sock("tcp", "0.0.0.0:18789", 100, "node", "/usr/bin/node"), false,
			want{[]string{"public"}, finding.High, CheckApproved, finding.Partial, OwnerOpenClaw,
				[]string{"openclaw config set gateway.bind loopback", "every IPv4 address", "approved by entry 0"}}},
		{"gateway on ::",
			sock("tcp", "[::]:18789", 100, "node", "/usr/bin/node"), false,
			want{[]string{"public"}, finding.High, CheckApproved, finding.Partial, OwnerOpenClaw, []string{"openclaw config set gateway.bind loopback"}}},
		{"gateway on loopback is fine",
			sock("tcp", "127.0.0.1:18789", 100, "node", "/usr/bin/node"), false, want{}},
		{"telnet on a public address",
			sock("tcp", "10.200.9.1:23", 7, "inetd", "/usr/sbin/inetd"), false,
			want{[]string{"unapproved", "insecure", "public"}, finding.Critical, CheckInsecure, finding.Violation, OwnerHost,
				[]string{"Replace telnet with SSH (port 22)", "cleartext", `{"port":23,"protocol":"tcp","command":"inetd"}`, "stop it (pid 7)"}}},
		{"telnet on loopback is one level lower",
			sock("tcp", "127.0.0.1:23", 7, "inetd", ""), false,
			want{[]string{"unapproved", "insecure"}, finding.High, CheckInsecure, finding.Violation, OwnerHost, nil}},
		{"redis on loopback is only unapproved",
			sock("tcp", "127.0.0.1:6379", 9, "redis-server", ""), false,
			want{[]string{"unapproved"}, finding.Low, CheckApproved, finding.Violation, OwnerHost, []string{"only on ::1"}}},
		{"redis on a public bind is insecure",
			sock("tcp", "0.0.0.0:6379", 9, "redis-server", ""), false,
			want{[]string{"unapproved", "insecure", "public"}, finding.Critical, CheckInsecure, finding.Violation, OwnerHost, []string{"requirepass"}}},
		{"memcached udp on a public bind",
			sock("udp", "0.0.0.0:11211", 9, "memcached", ""), false,
			want{[]string{"unapproved", "insecure", "public"}, finding.Critical, CheckInsecure, finding.Violation, OwnerHost, []string{"-U 0"}}},
		{"approved sshd on :: is public",
			sock("tcp", "[::]:22", 1, "sshd", "/usr/sbin/sshd"), false,
			want{[]string{"public"}, finding.Medium, CheckApproved, finding.Partial, OwnerHost, []string{"127.0.0.1 or ::1", "firewall"}}},
		{"another daemon on the ssh port",
			sock("tcp", "0.0.0.0:22", 3, "dropbear", "/usr/sbin/dropbear"), false,
			want{[]string{"unapproved", "public"}, finding.High, CheckApproved, finding.Violation, OwnerHost, []string{`command "sshd", but the process is dropbear (pid 3)`}}},
		{"unknown owner does not match a command",
			sock("tcp", "127.0.0.1:22", 0, "", ""), false,
			want{[]string{"unapproved"}, finding.Low, CheckApproved, finding.Violation, OwnerHost, []string{"unknown (uid 1000)", `{"port":22,"protocol":"tcp"}`}}},
		{"unknown owner matches a rule without command",
			sock("udp", "0.0.0.0:5353", 0, "", ""), false,
			want{[]string{"public"}, finding.Medium, CheckApproved, finding.Partial, OwnerHost, []string{"the service"}}},
		{"comm truncated to 15 characters",
			sock("udp", "127.0.0.53:53", 5, "systemd-resolve", "/usr/lib/systemd/systemd-resolved"), false, want{}},
		{"bind narrowing approves only that address",
			sock("tcp", "127.0.0.1:631", 5, "cupsd", ""), false, want{}},
		{"bind narrowing refuses another address",
			sock("tcp", "[::1]:631", 5, "cupsd", ""), false,
			want{[]string{"unapproved"}, finding.Low, CheckApproved, finding.Violation, OwnerHost, []string{"only on 127.0.0.1"}}},
		{"command as an executable path",
			sock("tcp", "127.0.0.1:8443", 5, "gateway-proxy", "/usr/local/bin/gateway-proxy"), false, want{}},
		{"executable path must match exactly",
			sock("tcp", "127.0.0.1:8443", 5, "gateway-proxy", "/tmp/gateway-proxy"), false,
			want{[]string{"unapproved"}, finding.Low, CheckApproved, finding.Violation, OwnerHost, nil}},
		{"snmp on udp",
			sock("udp", "0.0.0.0:161", 5, "snmpd", ""), false,
			want{[]string{"unapproved", "insecure", "public"}, finding.High, CheckInsecure, finding.Violation, OwnerHost, []string{"SNMPv3"}}},
		{"approved http on loopback is still insecure",
			sock("tcp", "127.0.0.1:8080", 5, "python3", ""), false,
			want{[]string{"insecure"}, finding.Low, CheckInsecure, finding.Violation, OwnerHost, []string{"HTTPS"}}},
		{"no baseline: everything is unapproved",
			sock("tcp", "127.0.0.1:18789", 100, "node", ""), true,
			want{[]string{"unapproved"}, finding.Low, CheckApproved, finding.Violation, OwnerOpenClaw, []string{"`clawwarden ports baseline`", "does not exist"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Evaluate(Input{
				Inventory:       sockets.Inventory{Sockets: []sockets.Socket{tt.s}, Source: "netlink"},
				Rules:           rules,
				BaselineMissing: tt.missing,
				ApprovedFile:    "/home/u/.openclaw/security/approved_ports.json",
				Host:            "h",
				Now:             testNow,
			})
			if len(r.Listeners) != 1 {
				t.Fatalf("got %d listeners, want 1", len(r.Listeners))
			}
			if tt.want.flags == nil {
				if len(r.Findings) != 0 {
					t.Errorf("got finding %+v, want none", r.Findings[0])
				}
				if !r.Listeners[0].Approved || r.Summary.Status != string(finding.Compliant) {
					t.Errorf("got approved %v status %s, want approved and compliant", r.Listeners[0].Approved, r.Summary.Status)
				}
				return
			}
			if len(r.Findings) != 1 {
				t.Fatalf("got %d findings, want 1", len(r.Findings))
			}
			f := r.Findings[0]
			if !slices.Equal(f.Flags, tt.want.flags) {
				t.Errorf("flags: got %v, want %v", f.Flags, tt.want.flags)
			}
			if finding.Risk(f.Risk) != tt.want.risk || f.CheckID != tt.want.check || finding.Status(f.Status) != tt.want.status || f.Owner != tt.want.owner {
				t.Errorf("got risk %s check %s status %s owner %q; want %s %s %s %q", f.Risk, f.CheckID, f.Status, f.Owner, tt.want.risk, tt.want.check, tt.want.status, tt.want.owner)
			}
			text := f.Evidence + " | " + f.Mitigation
			for _, c := range tt.want.contains {
				if !strings.Contains(text, c) {
					t.Errorf("evidence/mitigation does not contain %q:\n%s", c, text)
				}
			}
			if f.DueDate == "" || f.Evidence == "" || f.Mitigation == "" || f.Title == "" {
				t.Errorf("incomplete finding: %+v", f)
			}
			if r.Summary.Status != f.Status || r.Summary.Flagged != 1 {
				t.Errorf("summary: got status %s flagged %d, want %s 1", r.Summary.Status, r.Summary.Flagged, f.Status)
			}
		})
	}
}

// goldenInventory is a host with an exposed gateway, a telnet daemon, an
// approved SSH server, a loopback service and an unknown owner.
func goldenInventory() sockets.Inventory {
	return sockets.Inventory{
		Source:       "netlink",
		Unattributed: 1,
		Partial:      true,
		Note:         "1 socket(s) belong to processes of other users that cannot be inspected without root; their process shows as unknown (run as root for complete attribution)",
		Sockets: []sockets.Socket{
			sock("tcp", "0.0.0.0:18789", 4242, "node", "/usr/bin/node"),
			sock("tcp", "127.0.0.1:18792", 4242, "node", "/usr/bin/node"),
			sock("tcp", "[::]:22", 812, "sshd", "/usr/sbin/sshd"),
			sock("tcp", "10.0.0.5:23", 901, "inetd", "/usr/sbin/inetd"),
			sock("udp", "127.0.0.53:53", 640, "systemd-resolve", "/usr/lib/systemd/systemd-resolved"),
			sock("tcp", "127.0.0.1:5432", 0, "", ""),
		},
	}
}

func TestReportGolden(t *testing.T) {
	in := Input{
		Inventory:    goldenInventory(),
		Rules:        loadRules(t, "approved_ports.template.json"),
		ApprovedFile: "/home/u/.openclaw/security/approved_ports.json",
		Host:         "agent-host",
		Now:          testNow,
	}
	rep := Evaluate(in)
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	golden := filepath.Join("testdata", "report.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("report differs from %s (run go test -update and review the diff):\n%s", golden, got)
	}

	// The same inventory in any order gives the same report.
	for i := 0; i < 5; i++ {
		rand.Shuffle(len(in.Inventory.Sockets), func(a, b int) {
			in.Inventory.Sockets[a], in.Inventory.Sockets[b] = in.Inventory.Sockets[b], in.Inventory.Sockets[a]
		})
		again := Evaluate(in)
		var buf bytes.Buffer
		again.WriteJSON(&buf)
		if !bytes.Equal(buf.Bytes(), got) {
			t.Fatalf("report depends on inventory order")
		}
	}
}

// TestWriteJSON checks that the streamed report decodes to the same value as
// encoding/json's encoding of it, including names that need escaping.
func TestWriteJSON(t *testing.T) {
	inv := goldenInventory()
	inv.Sockets = append(inv.Sockets,
		sock("tcp", "127.0.0.1:7001", 50, "we\"ird\\na\tme\n\x01", "/opt/a b/\u2028x"),
		sock("tcp", "127.0.0.1:7002", 51, "bad\xffutf8", ""),
		sock("udp", "[fe80::1%eth0]:7003", 52, "<html>&", ""),
	)
	for _, missing := range []bool{false, true} {
		rep := Evaluate(Input{Inventory: inv, Rules: loadRules(t, "approved_ports.template.json"), BaselineMissing: missing, ApprovedFile: "f", Host: "h", Now: testNow})
		var buf bytes.Buffer
		if err := rep.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		var fromStream, fromStd Report
		if err := json.Unmarshal(buf.Bytes(), &fromStream); err != nil {
			t.Fatalf("WriteJSON output does not decode: %v\n%s", err, buf.Bytes())
		}
		std, err := json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(std, &fromStd); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fromStream, fromStd) {
			t.Errorf("decoded WriteJSON output differs from encoding/json's:\n%s\n%s", buf.Bytes(), std)
		}
		if !json.Valid(buf.Bytes()) || bytes.Count(buf.Bytes(), []byte("\n")) < len(rep.Listeners)+len(rep.Findings) {
			t.Errorf("want valid JSON with one line per element:\n%s", buf.Bytes())
		}
	}
	empty := Evaluate(Input{Now: testNow})
	var buf bytes.Buffer
	if err := empty.WriteJSON(&buf); err != nil || !json.Valid(buf.Bytes()) {
		t.Errorf("empty report: %v\n%s", err, buf.Bytes())
	}
}

// TestEvaluateParallel checks that findings built by several goroutines are
// the ones built by one.
func TestEvaluateParallel(t *testing.T) {
	inv := benchInventory(3000)
	for i := range inv.Sockets {
		s := &inv.Sockets[i]
		switch i % 5 {
		case 1:
			s.Local = netip.AddrPortFrom(netip.IPv4Unspecified(), s.Local.Port())
		case 2:
			s.PID, s.Process, s.Exe = 0, "", ""
		case 3:
			s.PID = 5000 + i%7
		}
	}
	inv.Sockets = append(inv.Sockets, goldenInventory().Sockets...)
	sockets.Sort(inv.Sockets)
	rules := Baseline(inv.Sockets[:1000])
	defer func(old int) { parallelMin = old }(parallelMin)
	var outs [2]bytes.Buffer
	for k, threshold := range []int{1 << 30, 1} {
		parallelMin = threshold
		rep := Evaluate(Input{Inventory: inv, Rules: rules, ApprovedFile: "a.json", Host: "h", Now: testNow})
		if len(rep.Findings) < 2000 {
			t.Fatalf("want at least 2000 findings, got %d", len(rep.Findings))
		}
		if err := rep.WriteJSON(&outs[k]); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(outs[0].Bytes(), outs[1].Bytes()) {
		t.Error("findings built in parallel differ from those built in order")
	}
}

// goldenInventoryOdd adds to goldenInventory names that need escaping and
// two processes that share a pid.
func goldenInventoryOdd() sockets.Inventory {
	inv := goldenInventory()
	inv.Sockets = append(inv.Sockets,
		sock("tcp", "127.0.0.1:7001", 50, "we\"ird\\na\tme\n\x01", "/opt/a b/\u2028x"),
		sock("tcp", "127.0.0.1:7002", 51, "bad\xffutf8", ""),
		sock("udp", "[fe80::1%eth0]:7003", 52, "<html>&", ""),
		sock("tcp", "0.0.0.0:6379", 0, "", ""),
		sock("tcp", "127.0.0.1:7004", 4242, "worker", "/usr/bin/worker"),
	)
	return inv
}

// TestReportGoldenNoBaseline is TestReportGolden without a baseline, with
// names that need escaping (testdata/report-nobaseline.golden.json).
func TestReportGoldenNoBaseline(t *testing.T) {
	rep := Evaluate(Input{
		Inventory:       goldenInventoryOdd(),
		BaselineMissing: true,
		ApprovedFile:    "/home/u/.openclaw/security/approved_ports.json",
		Host:            "agent-host",
		Now:             testNow,
	})
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "report-nobaseline.golden.json")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("report differs from %s (run go test -update and review the diff):\n%s", golden, buf.Bytes())
	}
}
