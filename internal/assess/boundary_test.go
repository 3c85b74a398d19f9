package assess_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/assess"
	"github.com/clawwarden/clawwarden/internal/config"
)

// runOnRoot assesses a host whose filesystem root holds files (paths
// relative to /) and returns its checks by id; "$ROOT" in a file's content
// becomes the fake root.
func runOnRoot(t *testing.T, files map[string]string) (map[string]assess.Check, string) {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	for p, content := range files {
		full := filepath.Join(root, p)
		must(t, os.MkdirAll(filepath.Dir(full), 0o755))
		must(t, os.WriteFile(full, []byte(strings.ReplaceAll(content, "$ROOT", root)), 0o644))
	}
	env := map[string]string{"HOME": filepath.Join(dir, "home")}
	paths, err := config.Locate(func(k string) string { return env[k] })
	must(t, err)
	a := assess.Run(context.Background(), assess.Options{
		Paths: paths, Now: fixedNow, Hostname: "h", User: "agent", UID: 1000, Groups: []string{"agent"}, Root: root,
	})
	checks := map[string]assess.Check{}
	for _, c := range a.Checks {
		checks[c.CheckID] = c
	}
	return checks, root
}

// cleanHost is a same-user host with nothing that weakens the password:
// no NOPASSWD rule, no cached tickets, TIOCSTI off.
func cleanHost() map[string]string {
	return map[string]string{
		"etc/sudoers":                       "Defaults\ttimestamp_timeout=0\nagent\tALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n",
		"etc/sudoers.d/README":              "# nothing here\n",
		"proc/sys/dev/tty/legacy_tiocsti":   "0\n",
		"proc/sys/kernel/yama/ptrace_scope": "1\n",
		"etc/pam.d/sudo":                    "#%PAM-1.0\nsession required pam_limits.so\n@include common-auth\n",
		"etc/pam.d/common-auth":             "auth\t[success=1 default=ignore]\tpam_unix.so nullok\nauth\trequisite\tpam_deny.so\nauth\trequired\tpam_permit.so\n",
		"etc/apt/apt.conf.d/20placeholder":  "\n",
	}
}

const pamAdvice = "auth required pam_u2f.so cue"

func TestPrivilegeBoundary(t *testing.T) {
	tests := []struct {
		name       string
		change     map[string]string // over cleanHost; "" deletes the file
		wantStatus string
		wantRisk   string
		evidence   []string // substrings of the evidence; $ROOT is the fake root
		observed   []string
		mitigation []string
		notMit     []string // must not be in the mitigation
	}{
		{
			name:       "clean same-user host",
			wantStatus: assess.StatusPartial, wantRisk: assess.RiskMedium,
			evidence: []string{"mode: same-user", "no NOPASSWD rule among the 1 sudo rule(s) for agent",
				"timestamp_timeout=0 from $ROOT/etc/sudoers:1", "timestamp_type unset", "$ROOT/proc/sys/dev/tty/legacy_tiocsti: 0",
				"PAM: no touch factor (pam_u2f) in the auth stack of $ROOT/etc/pam.d/sudo, $ROOT/etc/pam.d/common-auth"},
			observed:   []string{"nothing found weakens that"},
			mitigation: []string{pamAdvice, "libpam-u2f"},
			notMit:     []string{"sysctl", "NOPASSWD", "timestamp"},
		},
		{
			name:       "NOPASSWD rule",
			change:     map[string]string{"etc/sudoers.d/cloud": "# cloud-init\nagent ALL=(ALL) NOPASSWD: /usr/bin/apt-get\n"},
			wantStatus: assess.StatusViolation, wantRisk: assess.RiskHigh,
			evidence:   []string{`NOPASSWD rules for agent: $ROOT/etc/sudoers.d/cloud:2: "agent ALL=(ALL) NOPASSWD: /usr/bin/apt-get"`},
			observed:   []string{"1 NOPASSWD sudo rule(s) for agent"},
			mitigation: []string{"remove NOPASSWD"},
		},
		{
			name:       "timestamp_type=global",
			change:     map[string]string{"etc/sudoers": "Defaults timestamp_type=global\nagent ALL=(ALL) ALL\n"},
			wantStatus: assess.StatusViolation, wantRisk: assess.RiskHigh,
			evidence:   []string{"timestamp_type=global from $ROOT/etc/sudoers:1", "timestamp_timeout unset (sudo's default, 15 minutes)"},
			observed:   []string{"not bound to a terminal (timestamp_type=global)"},
			mitigation: []string{"remove the setting ($ROOT/etc/sudoers:1) with visudo", "`Defaults:agent timestamp_type=tty`"},
		},
		{
			name:       "timestamp_type=ppid",
			change:     map[string]string{"etc/sudoers": "Defaults:agent timestamp_type=ppid, timestamp_timeout=5\nagent ALL=(ALL) ALL\n"},
			wantStatus: assess.StatusViolation, wantRisk: assess.RiskHigh,
			evidence: []string{"timestamp_type=ppid from $ROOT/etc/sudoers:1"},
			observed: []string{"timestamp_type=ppid"},
		},
		{
			name:       "!tty_tickets",
			change:     map[string]string{"etc/sudoers": "Defaults !tty_tickets\nagent ALL=(ALL) ALL\n"},
			wantStatus: assess.StatusViolation, wantRisk: assess.RiskHigh,
			evidence: []string{"timestamp_type=global from $ROOT/etc/sudoers:1 (!tty_tickets)"},
		},
		{
			name:       "timestamp_type=global with no cache",
			change:     map[string]string{"etc/sudoers": "Defaults timestamp_type=global, timestamp_timeout=0\nagent ALL=(ALL) ALL\n"},
			wantStatus: assess.StatusPartial, wantRisk: assess.RiskMedium,
			evidence: []string{"timestamp_type=global from $ROOT/etc/sudoers:1, moot while timestamp_timeout=0"},
			notMit:   []string{"timestamp_type=tty"},
		},
		{
			name:       "timestamp_timeout unset",
			change:     map[string]string{"etc/sudoers": "agent ALL=(ALL) ALL\n"},
			wantStatus: assess.StatusPartial, wantRisk: assess.RiskMedium,
			evidence:   []string{"timestamp_timeout unset (sudo's default, 15 minutes)"},
			observed:   []string{"sudo caches the person's credentials (timestamp_timeout unset, so 15 minutes)"},
			mitigation: []string{"`Defaults:agent timestamp_timeout=0`"},
		},
		{
			name:       "timestamp_timeout=5",
			change:     map[string]string{"etc/sudoers": "agent ALL=(ALL) ALL\nDefaults timestamp_timeout=5\n"},
			wantStatus: assess.StatusPartial, wantRisk: assess.RiskMedium,
			evidence:   []string{"timestamp_timeout=5 from $ROOT/etc/sudoers:2"},
			observed:   []string{"(timestamp_timeout=5)"},
			mitigation: []string{"`Defaults:agent timestamp_timeout=0`"},
		},
		{
			name:       "legacy_tiocsti=1",
			change:     map[string]string{"proc/sys/dev/tty/legacy_tiocsti": "1\n"},
			wantStatus: assess.StatusViolation, wantRisk: assess.RiskHigh,
			evidence:   []string{"$ROOT/proc/sys/dev/tty/legacy_tiocsti: 1"},
			observed:   []string{"dev.tty.legacy_tiocsti=1"},
			mitigation: []string{"sysctl -w dev.tty.legacy_tiocsti=0", "/etc/sysctl.d/"},
		},
		{
			name:       "legacy_tiocsti missing",
			change:     map[string]string{"proc/sys/dev/tty/legacy_tiocsti": ""},
			wantStatus: assess.StatusPartial, wantRisk: assess.RiskMedium,
			evidence: []string{"$ROOT/proc/sys/dev/tty/legacy_tiocsti not present", "TIOCSTI not checked"},
			notMit:   []string{"sysctl"},
		},
		{
			name:       "ptrace_scope=0",
			change:     map[string]string{"proc/sys/kernel/yama/ptrace_scope": "0\n"},
			wantStatus: assess.StatusPartial, wantRisk: assess.RiskMedium,
			evidence:   []string{"$ROOT/proc/sys/kernel/yama/ptrace_scope: 0"},
			observed:   []string{"trace or rewrite the memory"},
			mitigation: []string{"kernel.yama.ptrace_scope=1"},
		},
		{
			name:       "no Yama",
			change:     map[string]string{"proc/sys/kernel/yama/ptrace_scope": ""},
			wantStatus: assess.StatusPartial, wantRisk: assess.RiskMedium,
			evidence:   []string{"the Yama LSM is not active"},
			mitigation: []string{"kernel.yama.ptrace_scope=1"},
		},
		{
			name:       "pam_u2f in /etc/pam.d/sudo",
			change:     map[string]string{"etc/pam.d/sudo": "#%PAM-1.0\n# touch first\nauth required /lib/x86_64-linux-gnu/security/pam_u2f.so cue authfile=/etc/u2f_mappings\n@include common-auth\n"},
			wantStatus: assess.StatusPartial, wantRisk: assess.RiskMedium,
			evidence: []string{"PAM: pam_u2f.so at $ROOT/etc/pam.d/sudo:3"},
			observed: []string{"sudo also needs a touch"},
			notMit:   []string{"pam_u2f", "Until then"},
		},
		{
			name:       "pam_u2f through common-auth",
			change:     map[string]string{"etc/pam.d/common-auth": "auth\trequired\tpam_u2f.so cue\nauth\t[success=1 default=ignore]\tpam_unix.so nullok\nauth\trequisite\tpam_deny.so\n"},
			wantStatus: assess.StatusPartial, wantRisk: assess.RiskMedium,
			evidence: []string{"PAM: pam_u2f.so at $ROOT/etc/pam.d/common-auth:1 (included from $ROOT/etc/pam.d/sudo:3)"},
			observed: []string{"sudo also needs a touch"},
			notMit:   []string{"pam_u2f"},
		},
		{
			name: "pam_u2f through auth substack",
			change: map[string]string{
				"etc/pam.d/sudo":        "auth substack system-auth\naccount include system-auth\n",
				"etc/pam.d/system-auth": "auth sufficient pam_u2f.so\nauth required pam_unix.so\n",
			},
			wantStatus: assess.StatusPartial, wantRisk: assess.RiskMedium,
			evidence: []string{"PAM: pam_u2f.so at $ROOT/etc/pam.d/system-auth:1 (included from $ROOT/etc/pam.d/sudo:1)"},
		},
		{
			name:       "pam_u2f optional does not count",
			change:     map[string]string{"etc/pam.d/common-auth": "auth optional pam_u2f.so cue\nauth required pam_unix.so\n"},
			wantStatus: assess.StatusPartial, wantRisk: assess.RiskMedium,
			evidence:   []string{"$ROOT/etc/pam.d/common-auth:1 is optional"},
			mitigation: []string{pamAdvice},
		},
		{
			name:       "pam_u2f nouserok with the key list at home does not count",
			change:     map[string]string{"etc/pam.d/common-auth": "auth required pam_u2f.so cue nouserok\nauth required pam_unix.so\n"},
			wantStatus: assess.StatusPartial, wantRisk: assess.RiskMedium,
			evidence:   []string{"$ROOT/etc/pam.d/common-auth:1 has nouserok"},
			mitigation: []string{pamAdvice},
		},
		{
			name:       "no /etc/pam.d/sudo",
			change:     map[string]string{"etc/pam.d/sudo": ""},
			wantStatus: assess.StatusPartial, wantRisk: assess.RiskMedium,
			evidence:   []string{"$ROOT/etc/pam.d/sudo not present"},
			mitigation: []string{pamAdvice},
		},
		{
			name:       "sudoers unreadable",
			change:     map[string]string{"etc/sudoers": ""},
			wantStatus: assess.StatusPartial, wantRisk: assess.RiskMedium,
			evidence:   []string{"sudoers: open $ROOT/etc/sudoers"},
			observed:   []string{"the sudo rights of agent could not be read"},
			mitigation: []string{"listpw=never"},
		},
		{
			name:       "sudoers unreadable and TIOCSTI on",
			change:     map[string]string{"etc/sudoers": "", "proc/sys/dev/tty/legacy_tiocsti": "1\n"},
			wantStatus: assess.StatusViolation, wantRisk: assess.RiskHigh,
			evidence: []string{"legacy_tiocsti: 1"},
			observed: []string{"the sudo rights of agent could not be read"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := cleanHost()
			for p, c := range tt.change {
				if c == "" {
					delete(files, p)
					continue
				}
				files[p] = c
			}
			checks, root := runOnRoot(t, files)
			c := checks["privilege_boundary"]
			if c.Status != tt.wantStatus || c.Risk != tt.wantRisk {
				t.Errorf("status %s, risk %s; want %s, %s\nobserved: %s\nevidence: %s", c.Status, c.Risk, tt.wantStatus, tt.wantRisk, c.Observed, c.Evidence)
			}
			if c.Gap == "" || c.DueDate == "" || !strings.Contains(c.Gap, "same-user mode is advisory") {
				t.Errorf("gap %q, due %q; want the same-user gap and a due date", c.Gap, c.DueDate)
			}
			if !strings.Contains(c.Mitigation, "`clawwarden enforce install`") {
				t.Errorf("mitigation does not name clawwarden enforce install: %s", c.Mitigation)
			}
			for _, w := range tt.evidence {
				if w = strings.ReplaceAll(w, "$ROOT", root); !strings.Contains(c.Evidence, w) {
					t.Errorf("evidence lacks %q:\n%s", w, c.Evidence)
				}
			}
			for _, w := range tt.observed {
				if !strings.Contains(c.Observed, w) {
					t.Errorf("observed lacks %q: %s", w, c.Observed)
				}
			}
			for _, w := range tt.mitigation {
				if w = strings.ReplaceAll(w, "$ROOT", root); !strings.Contains(c.Mitigation, w) {
					t.Errorf("mitigation lacks %q: %s", w, c.Mitigation)
				}
			}
			for _, w := range tt.notMit {
				if strings.Contains(c.Mitigation, w) {
					t.Errorf("mitigation has %q, which does not apply: %s", w, c.Mitigation)
				}
			}
		})
	}
}

// TestPrivilegeChecksAgree: the sudo checks say the same about one host.
// NOPASSWD names enforced mode in both; the shared ticket is
// privilege_boundary's finding only; both recommend no cache.
func TestPrivilegeChecksAgree(t *testing.T) {
	files := cleanHost()
	files["etc/sudoers"] = "Defaults timestamp_type=global, timestamp_timeout=60\nagent ALL=(ALL) NOPASSWD: ALL\n"
	checks, _ := runOnRoot(t, files)
	pa, el, pb := checks["privilege_approval_required"], checks["elevation_timeout_30m"], checks["privilege_boundary"]
	if pa.Status != assess.StatusViolation || !strings.Contains(pa.Mitigation, "`clawwarden enforce install`") ||
		!strings.Contains(pa.Gap, "the password is not the gate") {
		t.Errorf("privilege_approval_required = %s, gap %q, mitigation %q; want a violation naming enforced mode", pa.Status, pa.Gap, pa.Mitigation)
	}
	if pb.Status != assess.StatusViolation {
		t.Errorf("privilege_boundary = %s, want violation", pb.Status)
	}
	if el.Status != assess.StatusViolation || strings.Contains(el.Observed, "timestamp_type") {
		t.Errorf("elevation_timeout_30m = %s, %q; want a violation about the 60-minute cache only", el.Status, el.Observed)
	}
	for _, c := range []assess.Check{el, pb} {
		if !strings.Contains(c.Mitigation, "`Defaults:agent timestamp_timeout=0`") {
			t.Errorf("%s does not recommend timestamp_timeout=0: %s", c.CheckID, c.Mitigation)
		}
	}
	// With the 60-minute cache gone, elevation_timeout_30m is compliant
	// even though tickets would be shared: that is privilege_boundary's.
	files["etc/sudoers"] = "Defaults timestamp_type=global\nagent ALL=(ALL) ALL\n"
	checks, _ = runOnRoot(t, files)
	if el := checks["elevation_timeout_30m"]; el.Status != assess.StatusCompliant {
		t.Errorf("elevation_timeout_30m = %s (%s), want compliant: sharing is privilege_boundary's finding", el.Status, el.Observed)
	}
	if pb := checks["privilege_boundary"]; pb.Status != assess.StatusViolation {
		t.Errorf("privilege_boundary = %s, want violation for timestamp_type=global", pb.Status)
	}
}

func TestPrivilegeBoundaryEnforced(t *testing.T) {
	for _, tt := range []struct {
		en         assess.Enforcement
		wantStatus string
		mfa        string
	}{
		{assess.Enforcement{Enforced: true, AgentUser: "openclaw", Keys: 2, HardwareKeys: 2}, assess.StatusCompliant, assess.StatusCompliant},
		{assess.Enforcement{Enforced: true, AgentUser: "openclaw", Keys: 2, HardwareKeys: 1}, assess.StatusCompliant, assess.StatusPartial},
		{assess.Enforcement{Enforced: false, AgentUser: "openclaw", Reasons: []string{"route to root: member of docker"}, Keys: 1}, assess.StatusViolation, assess.StatusPartial},
	} {
		dir := t.TempDir()
		env := map[string]string{"HOME": filepath.Join(dir, "home")}
		paths, _ := config.Locate(func(k string) string { return env[k] })
		en := tt.en
		a := assess.Run(context.Background(), assess.Options{Paths: paths, Now: fixedNow, Hostname: "h", User: "root", UID: 0, Root: dir, Enforced: &en})
		for _, c := range a.Checks {
			switch c.CheckID {
			case "privilege_boundary":
				if c.Status != tt.wantStatus || (tt.wantStatus == assess.StatusViolation && !strings.Contains(c.Observed, "docker")) {
					t.Errorf("%+v: privilege_boundary %s: %s", tt.en, c.Status, c.Observed)
				}
			case "multi_factor_approval":
				if c.Status != tt.mfa {
					t.Errorf("%+v: multi_factor_approval %s: %s", tt.en, c.Status, c.Observed)
				}
			}
		}
	}
}
