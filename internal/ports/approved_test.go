package ports

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

func TestParseApprovedExamples(t *testing.T) {
	tests := []struct {
		file string
		want []Rule
	}{
		{"approved_ports.template.json", []Rule{
			{Port: 18789, Protocol: "tcp", Command: "node", Comment: "OpenClaw gateway; keep it on loopback"},
			{Port: 22, Protocol: "tcp", Command: "sshd", Comment: "remote administration over SSH"},
			{Port: 53, Protocol: "udp", Command: "systemd-resolved", Comment: "local DNS stub resolver"},
			{Port: 5353, Comment: "mDNS; any protocol, any process"},
		}},
		{"approved_ports.bind.json", []Rule{
			{Port: 631, Protocol: "tcp", Command: "cupsd", Bind: "127.0.0.1", Comment: "printing, loopback only"},
			{Port: 6379, Protocol: "tcp", Command: "redis-server", Bind: "::1", Comment: "the original's address key is accepted too"},
			{Port: 8443, Protocol: "tcp", Command: "/usr/local/bin/gateway-proxy", Comment: "unknown keys such as pid are ignored"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseApproved(data, tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d rules, want %d", len(got), len(tt.want))
			}
			for i := range got {
				g := got[i]
				g.bind = tt.want[i].bind
				if g != tt.want[i] {
					t.Errorf("rule %d: got %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestParseApprovedMalformed(t *testing.T) {
	tests := []struct {
		name string
		data string
		want []string // substrings of the error
	}{
		{"not json", `[{"port": 22,}]`, []string{"approved.json", "JSON array"}},
		{"object", `{"port": 22}`, []string{"JSON array"}},
		{"null entry", `[null]`, []string{"entry 0", "object"}},
		{"missing port", `[{"port": 22}, {"protocol": "tcp"}]`, []string{"entry 1", "port", "missing"}},
		{"string port", `[{"port": "22"}]`, []string{"entry 0", "port", "number"}},
		{"zero port", `[{"port": 0}]`, []string{"entry 0", "port", "1 to 65535"}},
		{"big port", `[{"port": 22}, {"port": 22}, {"port": 70000}]`, []string{"entry 2", "port", "70000"}},
		{"fraction port", `[{"port": 22.5}]`, []string{"port", "22.5"}},
		{"bad protocol", `[{"port": 22, "protocol": "icmp"}]`, []string{"entry 0", "protocol", "icmp"}},
		{"number command", `[{"port": 22, "command": 5}]`, []string{"entry 0", "command", "string"}},
		{"bad bind", `[{"port": 22, "bind": "localhost"}]`, []string{"entry 0", "bind", "localhost"}},
		{"bad address", `[{"port": 22, "address": "10.0.0.300"}]`, []string{"entry 0", "address"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseApproved([]byte(tt.data), "approved.json")
			if !errors.Is(err, safefile.ErrInvalid) {
				t.Fatalf("got error %v, want one wrapping safefile.ErrInvalid", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestLoadApproved(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "approved_ports.json")
	if _, err := LoadApproved(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: got %v, want fs.ErrNotExist", err)
	}
	if err := os.WriteFile(path, []byte(`[{"port": 18789, "protocol": "tcp", "command": "node"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	rules, err := LoadApproved(path)
	if err != nil || len(rules) != 1 || rules[0].Port != 18789 {
		t.Errorf("got %+v, %v; want one rule for 18789", rules, err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadApproved(path); !errors.Is(err, safefile.ErrUnsafe) {
		t.Errorf("world-writable file: got %v, want safefile.ErrUnsafe", err)
	}
}

func TestMarshalRulesRoundTrip(t *testing.T) {
	rules := []Rule{
		{Port: 18789, Protocol: "tcp", Command: "node", Comment: "REVIEW: public bind on 0.0.0.0 <&>"},
		{Port: 5353},
	}
	data, err := MarshalRules(rules)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "<&>") {
		t.Errorf("comment was HTML-escaped:\n%s", data)
	}
	got, err := ParseApproved(data, "x")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != rules[0] || got[1] != rules[1] {
		t.Errorf("round trip: got %+v, want %+v", got, rules)
	}
	empty, _ := MarshalRules(nil)
	if string(empty) != "[]\n" {
		t.Errorf("no rules: got %q, want %q", empty, "[]\n")
	}
}

// FuzzParseApproved checks that the fast path reads every document it takes
// as encoding/json does.
func FuzzParseApproved(f *testing.F) {
	for _, name := range []string{"approved_ports.template.json", "approved_ports.bind.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		`[]`, ` [ ] `, `[{}]`, `[null]`, `null`, `{}`, `[{"port": 22,}]`, `[{"port": 22}] x`,
		`[{"port": 22, "port": 23}]`, `[{"Port": 22}]`, `[{"port": "22"}]`, `[{"port": null}]`,
		`[{"port": 22.0}]`, `[{"port": -0}]`, `[{"port": 1e2}]`, `[{"port": 01}]`, `[{"port": true}]`,
		`[{"port": 22, "command": "a\"b\\c\u00e9\ud83d\ude00 ", "comment": "\ud800"}]`,
		"[{\"port\": 22, \"command\": \"bad\xffutf8\"}]", "[{\"port\": 22, \"command\": \"tab\there\"}]",
		`[{"port": 22, "extra": {"nested": [1, 2]}, "protocol": "TCP6"}]`, `[{"p\u006frt": 22}]`,
		`[{"port": 22, "bind": "[::1]"}, {"port": 23, "address": "10.0.0.1", "bind": null}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, ok := scanAll(data)
		slow, err := decodeApproved(data)
		if !ok {
			return
		}
		if err != nil {
			t.Fatalf("fast path took %q, which encoding/json rejects: %v", data, err)
		}
		if !reflect.DeepEqual(normalEntries(fast), normalEntries(slow)) {
			t.Fatalf("%q:\nfast %+v\nslow %+v", data, fast, slow)
		}
	})
}

// scanAll returns the entries scanApproved takes.
func scanAll(data []byte) ([]entry, bool) {
	var es []entry
	ok := scanApproved(data, func(en *entry) { es = append(es, *en) })
	return es, ok
}

// normalEntries makes empty and nil values comparable.
func normalEntries(es []entry) []entry {
	if len(es) == 0 {
		return nil
	}
	return es
}

// TestScanApprovedTakesBaselines checks that the fast path takes the files
// people and `ports baseline` write.
func TestScanApprovedTakesBaselines(t *testing.T) {
	generated, err := MarshalRules(Baseline(benchInventory(50).Sockets))
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string][]byte{"generated": generated}
	for _, name := range []string{"approved_ports.template.json", "approved_ports.bind.json"} {
		if docs[name], err = os.ReadFile(filepath.Join("testdata", name)); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range docs {
		fast, ok := scanAll(data)
		slow, err := decodeApproved(data)
		if !ok || err != nil || !reflect.DeepEqual(fast, slow) {
			t.Errorf("%s: fast path took it: %v; decodes: %v; same entries: %v", name, ok, err, reflect.DeepEqual(fast, slow))
		}
	}
}
