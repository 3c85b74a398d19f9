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
	"strconv"
	"strings"
	"unicode/utf8"

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
	var rules []Rule
	var first error // the first invalid entry
	add := func(en *entry) {
		if first != nil {
			return
		}
		r, err := en.rule()
		if err != nil {
			first = fmt.Errorf("%s: %w: entry %d: %v", name, safefile.ErrInvalid, len(rules), err)
			return
		}
		rules = append(rules, r)
	}
	// Sized by the objects the file can hold: a brace counts only where an
	// entry could start (braces inside strings would otherwise reserve
	// memory for entries that are not there; an entry takes at least 10 bytes).
	rules = make([]Rule, 0, min(bytes.Count(data, []byte("{")), len(data)/10+1))
	if !scanApproved(data, add) {
		rules, first = rules[:0], nil
		entries, err := decodeApproved(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: want a JSON array of {\"port\":N,\"protocol\":\"tcp\",\"command\":\"...\"} entries: %v", name, safefile.ErrInvalid, err)
		}
		for i := range entries {
			add(&entries[i])
		}
	}
	if first != nil {
		return nil, first
	}
	return rules, nil
}

// entry holds the raw JSON values of the keys of one approved_ports.json
// entry that [Rule] reads; a value is nil when its key is absent.
type entry struct {
	null                                            bool // the entry is null, not an object
	port, protocol, command, comment, bind, address []byte
}

// set records the value v of key; other keys are ignored. A repeated key
// keeps its last value, as encoding/json does.
func (en *entry) set(key string, v []byte) {
	switch key {
	case "port":
		en.port = v
	case "protocol":
		en.protocol = v
	case "command":
		en.command = v
	case "comment":
		en.comment = v
	case "bind":
		en.bind = v
	case "address":
		en.address = v
	}
}

// decodeApproved splits data into entries with encoding/json: the general
// path for what [scanApproved] does not take.
func decodeApproved(data []byte) ([]entry, error) {
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	entries := make([]entry, len(raw))
	for i, m := range raw {
		entries[i].null = m == nil
		for k, v := range m {
			entries[i].set(k, v)
		}
	}
	return entries, nil
}

// fieldError is an invalid field of an entry.
type fieldError struct{ field, msg string }

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

func bad(field, format string, args ...any) error {
	return &fieldError{field, fmt.Sprintf(format, args...)}
}

// rule validates the entry and returns its rule.
func (en *entry) rule() (Rule, error) {
	var r Rule
	if en.null {
		return r, bad("entry", "want an object, got null")
	}
	port := en.port
	switch {
	case port == nil:
		return r, bad("port", "missing")
	case string(port) == "null":
		return r, bad("port", "want an integer from 1 to 65535, got %s", port)
	case port[0] != '-' && (port[0] < '0' || port[0] > '9'):
		return r, bad("port", "want a number, got %s", port)
	}
	n, err := strconv.ParseInt(string(port), 10, 64)
	if err != nil || n < 1 || n > 65535 {
		return r, bad("port", "want an integer from 1 to 65535, got %s", port)
	}
	r.Port = int(n)
	proto, err := str("protocol", en.protocol)
	if err != nil {
		return r, err
	}
	var ok bool
	if r.Protocol, ok = normalProtocol(proto); !ok {
		return r, bad("protocol", "want \"tcp\" or \"udp\", got %q", proto)
	}
	if r.Command, err = str("command", en.command); err != nil {
		return r, err
	}
	if r.Comment, err = str("comment", en.comment); err != nil {
		return r, err
	}
	field := "bind"
	if r.Bind, err = str("bind", en.bind); err != nil {
		return r, err
	}
	if r.Bind == "" {
		field = "address"
		if r.Bind, err = str("address", en.address); err != nil {
			return r, err
		}
	}
	if r.Bind != "" {
		a, err := netip.ParseAddr(strings.Trim(r.Bind, "[]"))
		if err != nil {
			return r, bad(field, "want an IP address such as 127.0.0.1 or ::, got %q", r.Bind)
		}
		r.bind = a.Unmap()
	}
	return r, nil
}

// str returns the JSON string v (absent or null: ""), trimmed of spaces.
func str(key string, v []byte) (string, error) {
	if v == nil || string(v) == "null" {
		return "", nil
	}
	// A string without escapes in valid UTF-8 is its content.
	if len(v) >= 2 && v[0] == '"' && bytes.IndexByte(v, '\\') < 0 && utf8.Valid(v) {
		return strings.TrimSpace(string(v[1 : len(v)-1])), nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", bad(key, "want a string, got %s", v)
	}
	return strings.TrimSpace(s), nil
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
