package openclaw

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

func TestConfigPath(t *testing.T) {
	tests := []struct {
		env, state, home, want string
	}{
		{"", "/home/u/.openclaw", "/home/u", "/home/u/.openclaw/openclaw.json"},
		{"/etc/openclaw/gw.json", "/home/u/.openclaw", "/home/u", "/etc/openclaw/gw.json"},
		{"~/cfg/openclaw.json5", "/s", "/home/u", "/home/u/cfg/openclaw.json5"},
		{"  ", "/s", "/home/u", "/s/openclaw.json"},
	}
	for _, tt := range tests {
		if got := ConfigPath(tt.env, tt.state, tt.home); got != tt.want {
			t.Errorf("ConfigPath(%q, %q, %q) = %q, want %q", tt.env, tt.state, tt.home, got, tt.want)
		}
	}
}

func TestParseConfigJSON5(t *testing.T) {
	data := []byte("\xef\xbb\xbf// comment\n{\n  gateway: { bind: 'lan', port: 18789, auth: { mode: \"token\", token: \"${OPENCLAW_GATEWAY_TOKEN}\", }, },\n}\n")
	c, err := ParseConfig(data, "openclaw.json")
	if err != nil {
		t.Fatal(err)
	}
	bind, set := c.Bind()
	if bind != "lan" || !set {
		t.Errorf("Bind() = %q, %v; want lan, true", bind, set)
	}
	if a := c.Auth(); a.Mode != "token" || !a.HasToken || a.Plaintext {
		t.Errorf("Auth() = %+v, want token mode from an env reference", a)
	}
	for _, bad := range []string{"{gateway: ", "[1, 2]", "nope"} {
		if _, err := ParseConfig([]byte(bad), "x"); !errors.Is(err, safefile.ErrInvalid) {
			t.Errorf("ParseConfig(%q) error = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestBindDefaultAndLoopback(t *testing.T) {
	c, err := ParseConfig([]byte("{}"), "x")
	if err != nil {
		t.Fatal(err)
	}
	if bind, set := c.Bind(); bind != "loopback" || set {
		t.Errorf("unset Bind() = %q, %v; want loopback (OpenClaw's default), false", bind, set)
	}
	tests := map[string]bool{"loopback": true, "127.0.0.1": true, "lan": false, "auto": false, "tailnet": false, "custom": false, "0.0.0.0": false}
	for bind, want := range tests {
		if got := BindIsLoopback(bind); got != want {
			t.Errorf("BindIsLoopback(%q) = %v, want %v", bind, got, want)
		}
	}
}

func TestChannels(t *testing.T) {
	c, err := ParseConfig([]byte(`{
  channels: {
    defaults: { groupPolicy: "open" },
    modelByChannel: { discord: {} },
    telegram: { dmPolicy: "allowlist", allowFrom: [12345], groups: { "*": { requireMention: true } } },
    whatsapp: { allowFrom: ["*"], groups: { "g1": { requireMention: false } } },
    discord: { groupPolicy: "allowlist", guilds: { "9": { requireMention: false, channels: { gen: { requireMention: false } } } } },
    slack: { enabled: false, accounts: { work: { dmPolicy: "open" } } },
  },
}`), "x")
	if err != nil {
		t.Fatal(err)
	}
	got := c.Channels()
	var ids []string
	for _, ch := range got {
		ids = append(ids, ch.ID)
	}
	if want := []string{"discord", "slack", "telegram", "whatsapp"}; !slices.Equal(ids, want) {
		t.Fatalf("channel ids = %v, want %v", ids, want)
	}
	byID := map[string]Channel{}
	for _, ch := range got {
		byID[ch.ID] = ch
	}
	tests := []struct {
		id                string
		dm, group         string
		wildcard, enabled bool
		noMention         []string
	}{
		{"discord", "pairing", "allowlist", false, true, []string{"guilds.9", "guilds.9.channels.gen"}},
		{"slack", "open", "open", false, false, nil},
		{"telegram", "allowlist", "open", false, true, nil},
		{"whatsapp", "pairing", "open", true, true, []string{"groups.g1"}},
	}
	for _, tt := range tests {
		ch := byID[tt.id]
		if ch.DMPolicy != tt.dm || ch.GroupPolicy != tt.group || ch.Wildcard != tt.wildcard || ch.Enabled != tt.enabled || !slices.Equal(ch.NoMention, tt.noMention) {
			t.Errorf("%s = %+v; want dm %s group %s wildcard %v enabled %v noMention %v", tt.id, ch, tt.dm, tt.group, tt.wildcard, tt.enabled, tt.noMention)
		}
	}
}

func TestLoadConfigRefusesUnsafeFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "openclaw.json")
	if err := os.WriteFile(p, []byte("{}"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(p); !errors.Is(err, safefile.ErrUnsafe) {
		t.Errorf("LoadConfig of a world-writable file: %v, want ErrUnsafe", err)
	}
	if _, err := LoadConfig(filepath.Join(dir, "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadConfig of a missing file: %v, want ErrNotExist", err)
	}
}

// TestParseAudit reads output recorded from `openclaw security audit --json`
// (OpenClaw 2026.9.6, a fresh state directory with mode 0755).
func TestParseAudit(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "security-audit.json"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseAudit(append([]byte("banner line\n"), data...))
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.Critical != 1 || len(r.Findings) != 5 {
		t.Errorf("summary %+v with %d findings, want 1 critical and 5 findings", r.Summary, len(r.Findings))
	}
	f := r.Findings[2]
	if f.CheckID != "gateway.loopback_no_auth" || f.Severity != "critical" || f.Remediation == "" {
		t.Errorf("finding 2 = %+v, want gateway.loopback_no_auth, critical, with a remediation", f)
	}
	if _, err := ParseAudit([]byte("error: no config")); err == nil {
		t.Error("ParseAudit accepted output without JSON")
	}
}

// TestRunAudit runs a stand-in for the openclaw command that prints the
// recorded output and exits non-zero, as openclaw does when it finds
// something.
func TestRunAudit(t *testing.T) {
	dir := t.TempDir()
	rec, err := filepath.Abs(filepath.Join("testdata", "security-audit.json"))
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "openclaw")
	script := "#!/bin/sh\n[ \"$1 $2 $3\" = 'security audit --json' ] || exit 64\ncat '" + rec + "'\nexit 1\n"
	if err := os.WriteFile(exe, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	r, err := RunAudit(t.Context(), exe, 30e9)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 5 {
		t.Errorf("got %d findings, want 5", len(r.Findings))
	}
}

// TestParseApprovals reads output recorded from `openclaw approvals get
// --json` (OpenClaw 2026.9.6, defaults).
func TestParseApprovals(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "approvals-get.json"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseApprovals(data)
	if err != nil {
		t.Fatal(err)
	}
	want := []ExecScope{{AgentID: "main", Security: "full", Ask: "off"}}
	if !slices.Equal(got, want) {
		t.Errorf("ParseApprovals = %+v, want %+v", got, want)
	}
	if _, err := ParseApprovals([]byte("no json")); err == nil {
		t.Error("ParseApprovals accepted output without JSON")
	}
}
