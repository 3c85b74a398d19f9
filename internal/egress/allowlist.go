// Package egress compares the host's outbound connections with the egress
// allowlist (egress_allowlist.json) and flags destinations it does not allow.
//
// Outbound means established TCP connections that this host opened (not
// connections accepted by one of its listeners) and connected UDP sockets.
// Traffic to loopback or to the host's own addresses is not egress.
//
// # egress_allowlist.json
//
// The original skill's format, plus cidr: a JSON array of entries, each with
// exactly one destination key:
//
//	[{"protocol": "tcp", "host": "api.openai.com", "port": 443, "command": "node", "comment": "…"},
//	 {"host_regex": "(.+\\.)?anthropic\\.com", "port": 443},
//	 {"cidr": "10.0.0.0/8", "comment": "internal network"}]
//
// host matches every address the name resolves to (A and AAAA, looked up
// once per run with a timeout); an IP literal matches itself. host_regex is
// an RE2 expression that must match a whole name, case-insensitively; the
// names of a destination are the host entries that resolved to its address,
// the names its reverse (PTR) lookup returns that resolve back to the same
// address (forward-confirmed, so a PTR record alone cannot claim
// api.openai.com), and the address itself as text. cidr is a prefix such as
// "10.0.0.0/8" or a single address. protocol ("tcp" or "udp", absent for
// either), port (absent or 0 for any) and command (the process name, its
// executable's base name, or its absolute path) narrow an entry. comment is
// for people; other keys are ignored.
package egress

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

// Rule is one entry of egress_allowlist.json.
type Rule struct {
	Protocol  string `json:"protocol,omitempty"`
	Host      string `json:"host,omitempty"`
	HostRegex string `json:"host_regex,omitempty"`
	CIDR      string `json:"cidr,omitempty"`
	Port      int    `json:"port,omitempty"`
	Command   string `json:"command,omitempty"`
	Comment   string `json:"comment,omitempty"`

	re     *regexp.Regexp
	prefix netip.Prefix
}

// Describe names the rule's destination for people, e.g. "host api.openai.com".
func (r Rule) Describe() string {
	var s string
	switch {
	case r.Host != "":
		s = "host " + r.Host
	case r.HostRegex != "":
		s = "host_regex " + r.HostRegex
	default:
		s = "cidr " + r.CIDR
	}
	if r.Port != 0 {
		s += fmt.Sprintf(" port %d", r.Port)
	}
	if r.Protocol != "" {
		s += " " + r.Protocol
	}
	if r.Command != "" {
		s += " command " + r.Command
	}
	return s
}

// LoadAllowlist reads and parses the allowlist at path through safefile's
// trust rules. A missing file yields an error satisfying errors.Is(err,
// fs.ErrNotExist).
func LoadAllowlist(path string) ([]Rule, error) {
	data, err := safefile.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseAllowlist(data, path)
}

// ParseAllowlist parses the content of an egress allowlist; name is used in
// error messages. Errors wrap [safefile.ErrInvalid] and name the entry index
// and field.
func ParseAllowlist(data []byte, name string) ([]Rule, error) {
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w: want a JSON array of {\"host\"|\"host_regex\"|\"cidr\":...,\"port\":N} entries: %v", name, safefile.ErrInvalid, err)
	}
	rules := make([]Rule, 0, len(raw))
	for i, m := range raw {
		bad := func(field, format string, args ...any) error {
			return fmt.Errorf("%s: %w: entry %d: %s: %s", name, safefile.ErrInvalid, i, field, fmt.Sprintf(format, args...))
		}
		if m == nil {
			return nil, bad("entry", "want an object, got null")
		}
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
		var r Rule
		var err error
		for _, f := range []struct {
			key string
			dst *string
		}{
			{"protocol", &r.Protocol}, {"host", &r.Host}, {"host_regex", &r.HostRegex},
			{"cidr", &r.CIDR}, {"command", &r.Command}, {"comment", &r.Comment},
		} {
			if *f.dst, err = str(f.key); err != nil {
				return nil, err
			}
		}
		switch strings.ToLower(r.Protocol) {
		case "", "any", "*":
			r.Protocol = ""
		case "tcp", "tcp4", "tcp6":
			r.Protocol = "tcp"
		case "udp", "udp4", "udp6":
			r.Protocol = "udp"
		default:
			return nil, bad("protocol", "want \"tcp\" or \"udp\", got %q", r.Protocol)
		}
		if v, ok := m["port"]; ok && string(v) != "null" {
			var p json.Number
			dec := json.NewDecoder(bytes.NewReader(v))
			dec.UseNumber()
			if v[0] == '"' || dec.Decode(&p) != nil {
				return nil, bad("port", "want a number, got %s", v)
			}
			n, err := p.Int64()
			if err != nil || n < 0 || n > 65535 {
				return nil, bad("port", "want an integer from 1 to 65535 (or 0 for any), got %s", v)
			}
			r.Port = int(n)
		}
		set := 0
		for _, v := range []string{r.Host, r.HostRegex, r.CIDR} {
			if v != "" {
				set++
			}
		}
		if set != 1 {
			return nil, bad("destination", "want exactly one of host, host_regex or cidr, got %d", set)
		}
		switch {
		case r.Host != "":
			r.Host = strings.TrimSuffix(strings.ToLower(r.Host), ".")
			if strings.ContainsAny(r.Host, " /\t*") || r.Host == "" {
				return nil, bad("host", "want a host name or IP address, got %q (use host_regex for patterns)", r.Host)
			}
		case r.HostRegex != "":
			re, err := regexp.Compile("(?i)^(?:" + r.HostRegex + ")$")
			if err != nil {
				return nil, bad("host_regex", "not a valid RE2 expression: %v", err)
			}
			r.re = re
		default:
			p, err := netip.ParsePrefix(r.CIDR)
			if err != nil {
				a, aerr := netip.ParseAddr(r.CIDR)
				if aerr != nil {
					return nil, bad("cidr", "want a prefix such as 10.0.0.0/8 or an address, got %q", r.CIDR)
				}
				a = a.Unmap()
				p = netip.PrefixFrom(a, a.BitLen())
			}
			if p.Addr().Is4In6() && p.Bits() >= 96 {
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			r.prefix = p.Masked()
		}
		rules = append(rules, r)
	}
	return rules, nil
}
