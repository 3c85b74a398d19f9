package assess

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReadSudoers(t *testing.T) {
	dir := t.TempDir()
	main := filepath.Join(dir, "sudoers")
	inc := filepath.Join(dir, "sudoers.d")
	if err := os.Mkdir(inc, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o440); err != nil {
			t.Fatal(err)
		}
	}
	write(main, `# comment
Defaults	env_reset
Defaults:agent	timestamp_timeout=45, timestamp_type=global
Defaults:other	timestamp_timeout=-1
User_Alias AGENTS = agent, bot
root	ALL=(ALL:ALL) ALL
%admins	ALL=(ALL) ALL
AGENTS	ALL=(root) NOPASSWD: /usr/bin/systemctl restart nginx, \
	/usr/bin/systemctl status nginx
#1001 ALL=(ALL) ALL
@includedir /etc/sudoers.d
`)
	write(filepath.Join(inc, "cloud"), "agent ALL=(ALL) NOPASSWD:ALL\n")
	write(filepath.Join(inc, "skip.bak"), "agent ALL=(ALL) ALL\n")
	write(filepath.Join(inc, "skip~"), "agent ALL=(ALL) ALL\n")

	tests := []struct {
		user             string
		groups           []string
		wantRules        int
		wantNoPasswd     int
		wantAll          int
		wantTimeout      float64
		wantTimeoutSet   bool
		wantTimestampTyp string
	}{
		{user: "agent", groups: []string{"agent"}, wantRules: 2, wantNoPasswd: 2, wantAll: 1, wantTimeout: 45, wantTimeoutSet: true, wantTimestampTyp: "global"},
		{user: "alice", groups: []string{"admins"}, wantRules: 1, wantNoPasswd: 0, wantAll: 1},
		{user: "other", wantRules: 0, wantTimeout: -1, wantTimeoutSet: true},
		{user: "bot", wantRules: 1, wantNoPasswd: 1, wantAll: 0},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			p, err := readSudoers(main, inc, tt.user, tt.groups)
			if err != nil {
				t.Fatal(err)
			}
			np, all := 0, 0
			for _, r := range p.Rules {
				if r.NoPasswd {
					np++
				}
				if r.AllCommands {
					all++
				}
			}
			if len(p.Rules) != tt.wantRules || np != tt.wantNoPasswd || all != tt.wantAll {
				t.Errorf("rules %d (nopasswd %d, all %d) = %+v; want %d (%d, %d)", len(p.Rules), np, all, p.Rules, tt.wantRules, tt.wantNoPasswd, tt.wantAll)
			}
			if (p.TimestampTimeout != nil) != tt.wantTimeoutSet || (p.TimestampTimeout != nil && *p.TimestampTimeout != tt.wantTimeout) {
				t.Errorf("timestamp_timeout = %v, want %v (set %v)", p.TimestampTimeout, tt.wantTimeout, tt.wantTimeoutSet)
			}
			if p.TimestampType != tt.wantTimestampTyp {
				t.Errorf("timestamp_type = %q, want %q", p.TimestampType, tt.wantTimestampTyp)
			}
		})
	}
	if _, err := readSudoers(filepath.Join(dir, "missing"), inc, "agent", nil); err == nil {
		t.Error("readSudoers of a missing file succeeded")
	}
}

// TestUserDefaultsWin: sudo applies Defaults:user after the global Defaults
// wherever they are written, so a later global line does not undo them.
func TestUserDefaultsWin(t *testing.T) {
	dir := t.TempDir()
	main := filepath.Join(dir, "sudoers")
	inc := filepath.Join(dir, "sudoers.d")
	if err := os.Mkdir(inc, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(main, []byte("Defaults:agent timestamp_timeout=0, timestamp_type=tty\n"), 0o440); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(inc, "zz"), []byte("Defaults timestamp_timeout=5\nDefaults !tty_tickets\n"), 0o440); err != nil {
		t.Fatal(err)
	}
	p, err := readSudoers(main, inc, "agent", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.TimestampTimeout == nil || *p.TimestampTimeout != 0 || p.TimestampTimeoutFrom != main+":1" {
		t.Errorf("timestamp_timeout = %v from %q, want 0 from %s:1", p.TimestampTimeout, p.TimestampTimeoutFrom, main)
	}
	if p.TimestampType != "tty" || p.TimestampTypeFrom != main+":1" {
		t.Errorf("timestamp_type = %q from %q, want tty from %s:1", p.TimestampType, p.TimestampTypeFrom, main)
	}
	p, err = readSudoers(main, inc, "other", nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(inc, "zz") + ":2 (!tty_tickets)"; p.TimestampType != "global" || p.TimestampTypeFrom != want {
		t.Errorf("for another user timestamp_type = %q from %q, want global from %s", p.TimestampType, p.TimestampTypeFrom, want)
	}
}

func TestParseSudoList(t *testing.T) {
	out := `Matching Defaults entries for agent on host:
    env_reset, mail_badpass, secure_path=/usr/local/sbin\:/usr/bin, timestamp_timeout=60

User agent may run the following commands on host:
    (ALL : ALL) NOPASSWD: ALL
    (root) /usr/bin/systemctl restart nginx
`
	p := parseSudoList(out)
	if p.TimestampTimeout == nil || *p.TimestampTimeout != 60 {
		t.Errorf("timestamp_timeout = %v, want 60", p.TimestampTimeout)
	}
	if len(p.Rules) != 2 || !p.Rules[0].NoPasswd || !p.Rules[0].AllCommands || p.Rules[1].NoPasswd || p.Rules[1].AllCommands {
		t.Errorf("rules = %+v; want a NOPASSWD ALL rule and a scoped rule with password", p.Rules)
	}
}

func TestAuditMappingFor(t *testing.T) {
	tests := []struct {
		checkID, wantISO string
	}{
		{"gateway.loopback_no_auth", "A.8.20"},
		{"fs.state_dir.perms_readable", "A.5.17"},
		{"security.trust_model.multi_user_heuristic", "A.5.15"},
		{"security.exposure.open_groups_with_elevated", "A.5.15"},
		{"something.new", "A.8.9"},
		{"", "A.8.9"},
	}
	for _, tt := range tests {
		if got := auditMappingFor(tt.checkID).ISO27001[0]; got != tt.wantISO {
			t.Errorf("auditMappingFor(%q) first ISO control = %s, want %s", tt.checkID, got, tt.wantISO)
		}
	}
}

func TestControlsMapComplete(t *testing.T) {
	// The original skill's twenty checks, in its order, plus
	// privilege_boundary after the other sudo checks.
	want := []string{"privilege_approval_required", "least_privilege_enforced", "elevation_timeout_30m",
		"privilege_boundary", "audit_logging_privileged_actions", "open_ports_approved", "insecure_ports_remediated",
		"channel_allowlist_configured", "group_mentions_required", "gateway_loopback_only",
		"secrets_permissions_hardened", "runtime_privilege_hook_installed", "alternate_privilege_paths_restricted",
		"backup_configured", "update_hygiene", "prompt_injection_controls", "command_policy_enforced",
		"session_boundary_enforced", "multi_factor_approval", "egress_allowlist_configured", "egress_connections_approved"}
	got := CheckIDs()
	if len(got) != len(want) {
		t.Fatalf("CheckIDs() has %d ids, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("CheckIDs()[%d] = %s, want %s", i, got[i], want[i])
		}
	}
	for _, d := range controls().Checks {
		if len(d.ISO27001) == 0 || len(d.NISTCSF) == 0 || d.Owner == "" || d.Title == "" {
			t.Errorf("%s lacks a title, owner or references", d.CheckID)
		}
		for _, id := range append(append([]string{}, d.ISO27001...), d.NISTCSF...) {
			if controls().Controls[id] == "" {
				t.Errorf("%s refers to %s, which the controls map does not name", d.CheckID, id)
			}
		}
	}
	for _, m := range controls().OpenClawAudit {
		for _, id := range append(append([]string{}, m.ISO27001...), m.NISTCSF...) {
			if controls().Controls[id] == "" {
				t.Errorf("openclaw_audit prefix %q refers to unnamed control %s", m.Prefix, id)
			}
		}
	}
}
