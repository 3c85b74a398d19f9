// Package openclaw is clawwarden's one way to OpenClaw: it reads the
// configuration file (openclaw.json, JSON5), recognises gateway processes,
// and runs the openclaw command line ([CLI]) to read and write the config,
// link the plugin, and collect `openclaw security audit` and `openclaw
// approvals get`.
//
// # Configuration
//
// OpenClaw reads $OPENCLAW_CONFIG_PATH when set, else openclaw.json in its
// state directory ($OPENCLAW_STATE_DIR, else ~/.openclaw). The file is JSON5:
// comments, unquoted keys and trailing commas are allowed, and a leading
// byte-order mark is ignored. OpenClaw's own ${VAR} substitution, $include
// and secret references are not resolved here: values are read as written,
// which is what a posture check needs (a secret reference is an object, not
// a plaintext secret).
package openclaw

import (
	"bytes"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/titanous/json5"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

// ConfigFile is the name of OpenClaw's configuration file in its state
// directory.
const ConfigFile = "openclaw.json"

// ConfigPath returns where OpenClaw reads its configuration: configPath
// ($OPENCLAW_CONFIG_PATH) when set, a leading "~/" expanded against home;
// else openclaw.json in stateDir.
func ConfigPath(configPath, stateDir, home string) string {
	p := strings.TrimSpace(configPath)
	if p == "" {
		return filepath.Join(stateDir, ConfigFile)
	}
	if strings.HasPrefix(p, "~/") {
		p = filepath.Join(home, p[2:])
	}
	return filepath.Clean(p)
}

// Config is a parsed openclaw.json.
type Config struct {
	Path string         // where it was read from
	Root map[string]any // the top-level object
}

// LoadConfig reads and parses the configuration at path through safefile.
// A missing file yields an error satisfying errors.Is(err, fs.ErrNotExist);
// content that is not a JSON5 object an error wrapping [safefile.ErrInvalid].
func LoadConfig(path string) (*Config, error) {
	data, err := safefile.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseConfig(data, path)
}

// ParseConfig parses JSON5 configuration data; source names it in errors.
func ParseConfig(data []byte, source string) (*Config, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var v any
	if err := json5.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("%s: %w: not valid JSON5: %v", source, safefile.ErrInvalid, err)
	}
	root, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: %w: the top level is not an object", source, safefile.ErrInvalid)
	}
	return &Config{Path: source, Root: root}, nil
}

// Get returns the value at a dotted path such as "gateway.bind", and whether
// it is set.
func (c *Config) Get(path string) (any, bool) {
	if c == nil {
		return nil, false
	}
	var cur any = c.Root
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = m[k]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

// String returns the string at path; ok is false when it is unset or not a
// string.
func (c *Config) String(path string) (string, bool) {
	v, ok := c.Get(path)
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	return s, ok
}

// Object returns the object at path, or nil.
func (c *Config) Object(path string) map[string]any {
	v, _ := c.Get(path)
	m, _ := v.(map[string]any)
	return m
}

// DefaultBind is gateway.bind when unset (OpenClaw's docs/gateway/config-gateway.md).
const DefaultBind = "loopback"

// Bind returns gateway.bind, or [DefaultBind] when unset; set reports
// whether the file sets it.
func (c *Config) Bind() (bind string, set bool) {
	if s, ok := c.String("gateway.bind"); ok && s != "" {
		return s, true
	}
	return DefaultBind, false
}

// BindIsLoopback reports whether a gateway.bind value keeps the gateway on
// loopback. "tailnet" falls back to loopback only without Tailscale, so it
// counts as exposed; legacy host aliases are judged by address.
func BindIsLoopback(bind string) bool {
	switch strings.ToLower(strings.TrimSpace(bind)) {
	case "loopback", "127.0.0.1", "localhost", "::1":
		return true
	}
	return false
}

// Channel is the access posture of one configured channel (channels.<id>).
type Channel struct {
	ID           string
	DMPolicy     string   // dmPolicy; "pairing" when unset
	GroupPolicy  string   // groupPolicy; channels.defaults.groupPolicy, else "allowlist", when unset
	AllowFrom    []string // allowFrom entries
	Wildcard     bool     // allowFrom (or groupAllowFrom) contains "*"
	NoMention    []string // group ids whose requireMention is false
	Enabled      bool     // not explicitly disabled
	AccountCount int      // entries under accounts
}

// Channels returns the channels configured under channels.*, sorted by id.
// channels.defaults and channels.modelByChannel are settings, not channels.
func (c *Config) Channels() []Channel {
	chans := c.Object("channels")
	defGroup, _ := c.String("channels.defaults.groupPolicy")
	if defGroup == "" {
		defGroup = "allowlist"
	}
	var out []Channel
	for _, id := range sortedKeys(chans) {
		if id == "defaults" || id == "modelByChannel" {
			continue
		}
		m, ok := chans[id].(map[string]any)
		if !ok {
			continue
		}
		ch := Channel{ID: id, DMPolicy: "pairing", GroupPolicy: defGroup, Enabled: true}
		if s, ok := m["dmPolicy"].(string); ok && s != "" {
			ch.DMPolicy = s
		}
		if s, ok := m["groupPolicy"].(string); ok && s != "" {
			ch.GroupPolicy = s
		}
		if b, ok := m["enabled"].(bool); ok && !b {
			ch.Enabled = false
		}
		for _, key := range []string{"allowFrom", "groupAllowFrom"} {
			list, _ := m[key].([]any)
			for _, e := range list {
				s := fmt.Sprint(e)
				if key == "allowFrom" {
					ch.AllowFrom = append(ch.AllowFrom, s)
				}
				if s == "*" {
					ch.Wildcard = true
				}
			}
		}
		ch.NoMention = noMention(m)
		if accts, ok := m["accounts"].(map[string]any); ok {
			ch.AccountCount = len(accts)
			for _, aid := range sortedKeys(accts) {
				am, ok := accts[aid].(map[string]any)
				if !ok {
					continue
				}
				for _, g := range noMention(am) {
					ch.NoMention = append(ch.NoMention, "accounts."+aid+"."+g)
				}
				if s, ok := am["groupPolicy"].(string); ok && s == "open" {
					ch.GroupPolicy = "open"
				}
				if s, ok := am["dmPolicy"].(string); ok && s == "open" {
					ch.DMPolicy = "open"
				}
			}
		}
		out = append(out, ch)
	}
	return out
}

// noMention lists the places in m (a channel or account object) whose
// requireMention is false: m itself, its groups/channels/rooms entries, and
// the channels of its guilds.
func noMention(m map[string]any) []string {
	var out []string
	if b, ok := m["requireMention"].(bool); ok && !b {
		out = append(out, "requireMention")
	}
	for _, gk := range []string{"groups", "channels", "rooms", "guilds"} {
		groups, _ := m[gk].(map[string]any)
		for _, g := range sortedKeys(groups) {
			gm, _ := groups[g].(map[string]any)
			if b, ok := gm["requireMention"].(bool); ok && !b {
				out = append(out, gk+"."+g)
			}
			if gk != "guilds" {
				continue
			}
			chans, _ := gm["channels"].(map[string]any)
			for _, c := range sortedKeys(chans) {
				cm, _ := chans[c].(map[string]any)
				if b, ok := cm["requireMention"].(bool); ok && !b {
					out = append(out, "guilds."+g+".channels."+c)
				}
			}
		}
	}
	return out
}

// GatewayAuth describes gateway.auth.
type GatewayAuth struct {
	Mode        string // gateway.auth.mode as written; "" when unset
	HasToken    bool   // gateway.auth.token is set
	HasPassword bool   // gateway.auth.password is set
	Plaintext   bool   // a token or password is a literal string rather than a ${VAR} or secret reference
}

// Auth returns the gateway authentication settings.
func (c *Config) Auth() GatewayAuth {
	var a GatewayAuth
	a.Mode, _ = c.String("gateway.auth.mode")
	for _, k := range []string{"token", "password"} {
		v, ok := c.Get("gateway.auth." + k)
		if !ok || v == nil {
			continue
		}
		if s, isStr := v.(string); isStr {
			if s == "" {
				continue
			}
			if !strings.HasPrefix(s, "${") {
				a.Plaintext = true
			}
		}
		if k == "token" {
			a.HasToken = true
		} else {
			a.HasPassword = true
		}
	}
	return a
}

func sortedKeys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}
