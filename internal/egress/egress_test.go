package egress

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/clawwarden/clawwarden/internal/finding"
	"github.com/clawwarden/clawwarden/internal/safefile"
	"github.com/clawwarden/clawwarden/internal/sockets"
)

var testNow = time.Date(2026, 11, 25, 10, 30, 0, 0, time.UTC)

func TestParseAllowlistExample(t *testing.T) {
	rules, err := LoadAllowlist(filepath.Join("testdata", "egress_allowlist.template.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := make([]string, len(rules))
	for i, r := range rules {
		got[i] = r.Describe() + " | " + r.Comment
	}
	want := []string{
		"host api.openai.com port 443 tcp | OpenAI API",
		"host api.anthropic.com port 443 tcp command node | Anthropic API, from the gateway only",
		`host_regex ([a-z0-9-]+\.)*github\.com port 443 tcp | GitHub and its subdomains`,
		"cidr 10.0.0.0/8 port 53 udp | internal DNS resolvers",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestParseAllowlistForms(t *testing.T) {
	rules, err := ParseAllowlist([]byte(`[
		{"host": "API.OpenAI.com."},
		{"cidr": "192.0.2.7"},
		{"cidr": "10.1.2.3/8"},
		{"cidr": "::ffff:192.0.2.0/120"},
		{"host_regex": "github\\.com"}
	]`), "x")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rule  Rule
		check func(Rule) bool
		what  string
	}{
		{rules[0], func(r Rule) bool { return r.Host == "api.openai.com" }, "host lower-cased without final dot"},
		{rules[1], func(r Rule) bool { return r.prefix == netip.MustParsePrefix("192.0.2.7/32") }, "bare address is a /32"},
		{rules[2], func(r Rule) bool { return r.prefix == netip.MustParsePrefix("10.0.0.0/8") }, "prefix masked"},
		{rules[3], func(r Rule) bool { return r.prefix == netip.MustParsePrefix("192.0.2.0/24") }, "mapped prefix unmapped"},
		{rules[4], func(r Rule) bool {
			return r.re.MatchString("GitHub.com") && !r.re.MatchString("github.com.evil.test") && !r.re.MatchString("notgithub.com")
		}, "regex anchored and case-insensitive"},
	}
	for _, tt := range tests {
		if !tt.check(tt.rule) {
			t.Errorf("%s: got %+v", tt.what, tt.rule)
		}
	}
}

func TestParseAllowlistMalformed(t *testing.T) {
	tests := []struct {
		name string
		data string
		want []string
	}{
		{"not json", `[{"host": "a"`, []string{"allow.json", "JSON array"}},
		{"object", `{"host": "a"}`, []string{"JSON array"}},
		{"no destination", `[{"host": "a"}, {"port": 443}]`, []string{"entry 1", "destination", "exactly one"}},
		{"two destinations", `[{"host": "a", "cidr": "10.0.0.0/8"}]`, []string{"entry 0", "got 2"}},
		{"bad regex", `[{"host_regex": "(a"}]`, []string{"entry 0", "host_regex", "RE2"}},
		{"backreference is not RE2", `[{"host_regex": "(a)\\1"}]`, []string{"host_regex", "RE2"}},
		{"bad cidr", `[{"cidr": "10.0.0.0/33"}]`, []string{"entry 0", "cidr", "10.0.0.0/33"}},
		{"bad host", `[{"host": "*.openai.com"}]`, []string{"entry 0", "host", "host_regex"}},
		{"bad port", `[{"host": "a", "port": 65536}]`, []string{"entry 0", "port", "65536"}},
		{"string port", `[{"host": "a", "port": "443"}]`, []string{"port", "number"}},
		{"bad protocol", `[{"host": "a", "protocol": "icmp"}]`, []string{"protocol", "icmp"}},
		{"number host", `[{"host": 5}]`, []string{"entry 0", "host", "string"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseAllowlist([]byte(tt.data), "allow.json")
			if !errors.Is(err, safefile.ErrInvalid) {
				t.Fatalf("got %v, want an error wrapping safefile.ErrInvalid", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if _, err := LoadAllowlist(filepath.Join(t.TempDir(), "missing.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: got %v, want fs.ErrNotExist", err)
	}
}

// testDNS serves the names the egress tests use.
func testDNS(t *testing.T) *dnsServer {
	return startDNS(t,
		map[string]string{
			"api.test":          "10.200.0.10,fd00::10",
			"www.github.com":    "10.200.0.20",
			"api.openai.com":    "10.200.0.40",
			"pool.ntp.test":     "192.0.2.123",
			"gateway-peer.test": "198.51.100.1",
		},
		map[string]string{
			"10.200.0.10":  "api.test",
			"10.200.0.20":  "www.github.com",
			"10.200.0.30":  "api.openai.com", // a PTR claiming a name that does not resolve back
			"198.51.100.1": "gateway-peer.test",
		},
		"slow.test",
	)
}

func TestCache(t *testing.T) {
	dns := testDNS(t)
	c := NewCache(dns.resolver(), 300*time.Millisecond)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		got, err := c.Forward(ctx, "API.test.")
		if err != nil || !slices.Equal(got, []netip.Addr{netip.MustParseAddr("10.200.0.10"), netip.MustParseAddr("fd00::10")}) &&
			!slices.Equal(got, []netip.Addr{netip.MustParseAddr("fd00::10"), netip.MustParseAddr("10.200.0.10")}) {
			t.Fatalf("Forward(api.test) = %v, %v", got, err)
		}
	}
	if n := dns.count(dnsmessage.TypeA, "api.test"); n != 1 {
		t.Errorf("A queries for api.test: got %d, want 1 (cached)", n)
	}
	if got, err := c.Forward(ctx, "10.9.8.7"); err != nil || len(got) != 1 || got[0] != netip.MustParseAddr("10.9.8.7") {
		t.Errorf("Forward(literal) = %v, %v", got, err)
	}
	if _, err := c.Forward(ctx, "missing.test"); err == nil {
		t.Error("Forward(missing.test): got no error")
	}
	if _, err := c.Forward(ctx, "slow.test"); err == nil {
		t.Error("Forward(slow.test): got no error from a server that never answers")
	}
	if got := c.Confirmed(ctx, netip.MustParseAddr("10.200.0.20")); !slices.Equal(got, []string{"www.github.com"}) {
		t.Errorf("Confirmed(10.200.0.20) = %v, want [www.github.com]", got)
	}
	if got := c.Confirmed(ctx, netip.MustParseAddr("10.200.0.30")); len(got) != 0 {
		t.Errorf("Confirmed(10.200.0.30) = %v, want none (PTR not forward-confirmed)", got)
	}
	if names, _ := c.Reverse(ctx, netip.MustParseAddr("10.200.0.30")); !slices.Equal(names, []string{"api.openai.com"}) {
		t.Errorf("Reverse(10.200.0.30) = %v", names)
	}
	c.Confirmed(ctx, netip.MustParseAddr("10.200.0.20"))
	if n := dns.count(dnsmessage.TypePTR, "20.0.200.10.in-addr.arpa"); n != 1 {
		t.Errorf("PTR queries for 10.200.0.20: got %d, want 1 (cached)", n)
	}
}

// conn builds an established socket; pid 0 means an unknown owner.
func conn(proto, local, remote string, pid int, comm string) sockets.Socket {
	return sockets.Socket{
		Proto: proto, Family: 4, State: sockets.StateEstablished,
		Local: netip.MustParseAddrPort(local), Remote: netip.MustParseAddrPort(remote),
		UID: 1000, PID: pid, Process: comm, Inode: uint64(pid + 1),
	}
}

func TestEvaluate(t *testing.T) {
	dns := testDNS(t)
	rules, err := ParseAllowlist([]byte(`[
		{"protocol": "tcp", "host": "api.test", "port": 443, "comment": "by name"},
		{"protocol": "tcp", "host_regex": "([a-z0-9-]+\\.)*github\\.com", "port": 443},
		{"protocol": "tcp", "host_regex": "api\\.openai\\.com", "port": 443},
		{"cidr": "192.0.2.0/24"},
		{"protocol": "tcp", "cidr": "198.51.100.0/24", "port": 443, "command": "curl"},
		{"host": "slow.test"}
	]`), "allow.json")
	if err != nil {
		t.Fatal(err)
	}
	listener := sockets.Socket{Proto: "tcp", Family: 4, State: sockets.StateListen, Local: netip.MustParseAddrPort("0.0.0.0:22"), UID: 0, PID: 1, Process: "sshd"}
	tests := []struct {
		name    string
		s       sockets.Socket
		egress  bool   // counted as outbound
		allowed int    // index of the allowing rule, -1 flagged
		names   string // comma-separated names in the report
	}{
		{"host entry by resolution", conn("tcp", "10.200.0.1:40000", "10.200.0.10:443", 10, "node"), true, 0, "api.test"},
		{"host entry by resolution over IPv6", conn("tcp", "[fd00::1]:40001", "[fd00::10]:443", 10, "node"), true, 0, "api.test"},
		{"host entry, other port", conn("tcp", "10.200.0.1:40002", "10.200.0.10:80", 10, "node"), true, -1, "api.test"},
		{"host_regex by confirmed reverse name", conn("tcp", "10.200.0.1:40003", "10.200.0.20:443", 11, "git"), true, 1, "www.github.com"},
		{"host_regex refuses an unconfirmed PTR", conn("tcp", "10.200.0.1:40004", "10.200.0.30:443", 12, "python3"), true, -1, ""},
		{"host_regex needs a name: no host entry or PTR for the address", conn("tcp", "10.200.0.1:40010", "10.200.0.40:443", 12, "python3"), true, -1, ""},
		{"cidr, any protocol", conn("udp", "10.200.0.1:40005", "192.0.2.53:53", 13, "dig"), true, 3, ""},
		{"cidr with command", conn("tcp", "10.200.0.1:40006", "198.51.100.1:443", 14, "curl"), true, 4, "gateway-peer.test"},
		{"cidr with another command", conn("tcp", "10.200.0.1:40007", "198.51.100.1:443", 15, "wget"), true, -1, "gateway-peer.test"},
		{"unknown owner never matches a command", conn("tcp", "10.200.0.1:40008", "198.51.100.1:443", 0, ""), true, -1, "gateway-peer.test"},
		{"loopback is not egress", conn("tcp", "127.0.0.1:40009", "127.0.0.1:18789", 10, "node"), false, 0, ""},
		{"own address is not egress", conn("tcp", "10.200.0.1:40011", "10.200.0.1:8080", 10, "node"), false, 0, ""},
		{"inbound to a listener is not egress", conn("tcp", "10.200.0.1:22", "203.0.113.9:51000", 1, "sshd"), false, 0, ""},
	}
	inv := sockets.Inventory{Source: "netlink", Sockets: []sockets.Socket{listener}}
	for _, tt := range tests {
		inv.Sockets = append(inv.Sockets, tt.s)
	}
	in := Input{
		Inventory:     inv,
		Rules:         rules,
		AllowlistFile: "/home/u/.openclaw/security/egress_allowlist.json",
		Host:          "h",
		Now:           testNow,
		Resolver:      NewCache(dns.resolver(), 300*time.Millisecond),
		LocalAddrs:    []netip.Addr{netip.MustParseAddr("10.200.0.1"), netip.MustParseAddr("fd00::1")},
	}
	r := Evaluate(context.Background(), in)
	byLocal := map[string]Connection{}
	for _, c := range r.Connections {
		byLocal[c.LocalAddress] = c
	}
	flagged := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := byLocal[tt.s.Local.String()]
			if ok != tt.egress {
				t.Fatalf("reported as egress: %v, want %v", ok, tt.egress)
			}
			if !ok {
				return
			}
			if tt.allowed < 0 {
				if c.Allowed {
					t.Errorf("allowed by %s, want flagged", c.Rule)
				}
			} else if !c.Allowed || *c.AllowedBy != tt.allowed {
				t.Errorf("got allowed %v by %v, want allowed by entry %d", c.Allowed, c.AllowedBy, tt.allowed)
			}
			if got := strings.Join(c.Names, ","); got != tt.names {
				t.Errorf("names: got %q, want %q", got, tt.names)
			}
		})
		if tt.egress && tt.allowed < 0 {
			flagged++
		}
	}
	if len(r.Findings) != flagged || r.Summary.Flagged != flagged || r.Summary.Status != string(finding.Violation) {
		t.Errorf("got %d findings (summary %d, %s), want %d violations", len(r.Findings), r.Summary.Flagged, r.Summary.Status, flagged)
	}
	if len(r.ResolutionErrors) != 1 || !strings.Contains(r.ResolutionErrors[0], "slow.test") {
		t.Errorf("resolution errors: got %v, want one for slow.test", r.ResolutionErrors)
	}
	for _, f := range r.Findings {
		if f.CheckID != CheckID || f.Risk != string(finding.Medium) || f.Owner == "" || f.DueDate != "2026-12-25" || !slices.Equal(f.Flags, []string{FlagUnapproved}) {
			t.Errorf("incomplete finding: %+v", f)
		}
		if !strings.Contains(f.Evidence, f.RemoteAddress) || !strings.Contains(f.Mitigation, "allow.json") && !strings.Contains(f.Mitigation, "egress_allowlist.json") {
			t.Errorf("evidence/mitigation without destination or file: %+v", f)
		}
		if f.Process == "wget" && !strings.Contains(f.Mitigation, `"host":"gateway-peer.test"`) {
			t.Errorf("mitigation does not suggest the confirmed name: %s", f.Mitigation)
		}
		if f.Process == "python3" && f.RemoteAddress == "10.200.0.30" && !strings.Contains(f.Mitigation, `"cidr":"10.200.0.30/32"`) {
			t.Errorf("mitigation does not suggest a cidr entry: %s", f.Mitigation)
		}
	}

	// Without an allowlist every outbound connection is flagged.
	in.AllowlistMissing = true
	r = Evaluate(context.Background(), in)
	if r.Summary.Flagged != 10 || r.Summary.Allowed != 0 || !strings.Contains(r.Hint, "every destination is flagged") {
		t.Errorf("missing allowlist: got %d flagged, %d allowed, hint %q; want 10, 0 and a hint", r.Summary.Flagged, r.Summary.Allowed, r.Hint)
	}
	for _, f := range r.Findings {
		if !strings.Contains(f.Evidence, "does not exist") || !strings.Contains(f.Mitigation, "Create") {
			t.Errorf("missing allowlist finding: %+v", f)
		}
	}
}

// TestEvaluateGroupsConnections checks that several connections of one
// process to one destination make one finding, and that order is stable.
func TestEvaluateGroupsConnections(t *testing.T) {
	inv := sockets.Inventory{Source: "procfs", Sockets: []sockets.Socket{
		conn("tcp", "10.0.0.1:40002", "192.0.2.9:443", 5, "curl"),
		conn("tcp", "10.0.0.1:40001", "192.0.2.9:443", 5, "curl"),
		conn("tcp", "10.0.0.1:40003", "192.0.2.10:443", 5, "curl"),
		conn("tcp", "10.0.0.1:40004", "192.0.2.9:443", 6, "wget"),
	}}
	in := Input{Inventory: inv, AllowlistFile: "a.json", Now: testNow, Resolver: NewCache(testDNS(t).resolver(), time.Second)}
	r := Evaluate(context.Background(), in)
	var got []string
	for _, f := range r.Findings {
		got = append(got, f.RemoteAddress+" "+f.Process+" "+strings.Repeat("x", f.Connections))
	}
	want := []string{"192.0.2.9 curl xx", "192.0.2.9 wget x", "192.0.2.10 curl x"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if !strings.HasPrefix(r.Findings[0].Evidence, "2 connections; ") {
		t.Errorf("grouped evidence: %q", r.Findings[0].Evidence)
	}
	if r.Summary.Destinations != 2 || r.Summary.Connections != 4 {
		t.Errorf("summary: %+v", r.Summary)
	}
}

func TestLoadAllowlistUnsafe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "egress_allowlist.json")
	if err := os.WriteFile(path, []byte(`[{"cidr": "10.0.0.0/8"}]`), 0o622); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o622)
	if _, err := LoadAllowlist(path); !errors.Is(err, safefile.ErrUnsafe) {
		t.Errorf("group-writable allowlist: got %v, want safefile.ErrUnsafe", err)
	}
}

// TestWriteJSON checks that the streamed report decodes to the same value as
// encoding/json's encoding of it.
func TestWriteJSON(t *testing.T) {
	inv := sockets.Inventory{Source: "netlink", Unattributed: 1, Partial: true, Note: "note <&>", Sockets: []sockets.Socket{
		conn("tcp", "10.0.0.1:40002", "192.0.2.9:443", 5, "cu\"rl\n"),
		conn("udp", "10.0.0.1:40003", "192.0.2.10:53", 0, ""),
	}}
	for _, missing := range []bool{false, true} {
		rules, _ := ParseAllowlist([]byte(`[{"cidr": "192.0.2.10/32", "port": 53}, {"host": "nowhere.test"}]`), "a")
		rep := Evaluate(context.Background(), Input{Inventory: inv, Rules: rules, AllowlistMissing: missing, AllowlistFile: "a.json", Now: testNow,
			Resolver: NewCache(testDNS(t).resolver(), time.Second)})
		var buf bytes.Buffer
		if err := rep.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		var fromStream, fromStd Report
		if err := json.Unmarshal(buf.Bytes(), &fromStream); err != nil {
			t.Fatalf("WriteJSON output does not decode: %v\n%s", err, buf.Bytes())
		}
		std, _ := json.Marshal(rep)
		json.Unmarshal(std, &fromStd)
		if !reflect.DeepEqual(fromStream, fromStd) {
			t.Errorf("decoded WriteJSON output differs:\n%s\n%s", buf.Bytes(), std)
		}
		if !missing && len(rep.ResolutionErrors) != 1 {
			t.Errorf("resolution errors: %v", rep.ResolutionErrors)
		}
	}
}
