// Package ports compares the host's listening sockets with the approved
// baseline (approved_ports.json), flags listeners that are unapproved,
// insecure (cleartext or legacy services, see [Catalog]) or public (bound to a
// non-loopback address), and generates a baseline for a person to review.
//
// # approved_ports.json
//
// The file is the original skill's format, a JSON array of entries:
//
//	[{"port": 18789, "protocol": "tcp", "command": "node", "comment": "OpenClaw gateway"}]
//
// port (1–65535) is required. protocol is "tcp" or "udp"; absent or empty
// means either. command, when present, must equal the owning process's name
// (comm, which Linux truncates to 15 characters, so a longer command matches
// its 15-character prefix) or the base name of its executable; a listener
// whose process is unknown does not match an entry that names a command.
// bind (or its alias address) narrows an entry to one local address, for
// example "127.0.0.1" or "::"; absent means any address. comment is free
// text for people. Other keys are ignored, so files written by the original
// generator load unchanged.
package ports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

// Rule is one entry of approved_ports.json.
type Rule struct {
	Port     int    `json:"port"`
	Protocol string `json:"protocol,omitempty"`
	Command  string `json:"command,omitempty"`
	Bind     string `json:"bind,omitempty"`
	Comment  string `json:"comment,omitempty"`

	bind netip.Addr // parsed Bind; invalid when Bind is empty
}

// LoadApproved reads and parses the approved ports file at path through
// safefile's trust rules. A missing file yields an error satisfying
// errors.Is(err, fs.ErrNotExist).
func LoadApproved(path string) ([]Rule, error) {
	data, err := safefile.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseApproved(data, path)
}

// ParseApproved parses the content of an approved ports file; name is used in
// error messages. Errors wrap [safefile.ErrInvalid] and name the entry index
// and field.
func ParseApproved(data []byte, name string) ([]Rule, error) {
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w: want a JSON array of {\"port\":N,\"protocol\":\"tcp\",\"command\":\"...\"} entries: %v", name, safefile.ErrInvalid, err)
	}
	rules := make([]Rule, 0, len(raw))
	for i, m := range raw {
		bad := func(field, format string, args ...any) error {
			return fmt.Errorf("%s: %w: entry %d: %s: %s", name, safefile.ErrInvalid, i, field, fmt.Sprintf(format, args...))
		}
		if m == nil {
			return nil, bad("entry", "want an object, got null")
		}
		var r Rule
		port, ok := m["port"]
		if !ok {
			return nil, bad("port", "missing")
		}
		var p json.Number
		dec := json.NewDecoder(bytes.NewReader(port))
		dec.UseNumber()
		if len(port) == 0 || port[0] == '"' || dec.Decode(&p) != nil {
			return nil, bad("port", "want a number, got %s", port)
		}
		n, err := p.Int64()
		if err != nil || n < 1 || n > 65535 {
			return nil, bad("port", "want an integer from 1 to 65535, got %s", port)
		}
		r.Port = int(n)
		str := func(key string) (string, error) {
			v, ok := m[key]
			if !ok || string(v) == "null" {
				return "", nil
			}
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return "", bad(key, "want a string, got %s", v)
			}
			return strings.TrimSpace(s), nil
		}
		proto, err := str("protocol")
		if err != nil {
			return nil, err
		}
		if r.Protocol, ok = normalProtocol(proto); !ok {
			return nil, bad("protocol", "want \"tcp\" or \"udp\", got %q", proto)
		}
		if r.Command, err = str("command"); err != nil {
			return nil, err
		}
		if r.Comment, err = str("comment"); err != nil {
			return nil, err
		}
		field := "bind"
		if r.Bind, err = str("bind"); err != nil {
			return nil, err
		}
		if r.Bind == "" {
			field = "address"
			if r.Bind, err = str("address"); err != nil {
				return nil, err
			}
		}
		if r.Bind != "" {
			a, err := netip.ParseAddr(strings.Trim(r.Bind, "[]"))
			if err != nil {
				return nil, bad(field, "want an IP address such as 127.0.0.1 or ::, got %q", r.Bind)
			}
			r.bind = a.Unmap()
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// normalProtocol maps the accepted spellings of a protocol to "tcp", "udp" or
// "" (any).
func normalProtocol(p string) (string, bool) {
	switch strings.ToLower(p) {
	case "", "any", "*":
		return "", true
	case "tcp", "tcp4", "tcp6":
		return "tcp", true
	case "udp", "udp4", "udp6":
		return "udp", true
	}
	return "", false
}

// MarshalRules renders rules as an approved_ports.json document: an indented
// JSON array with a final newline.
func MarshalRules(rules []Rule) ([]byte, error) {
	if rules == nil {
		rules = []Rule{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rules); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
