package assess

import (
	"errors"
	"io/fs"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/openclaw"
	"github.com/clawwarden/clawwarden/internal/session"
)

// The judges read only the evidence struct, so these tests build evidence
// in memory and never touch the host.

var judgeNow = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// baseEvidence is a same-user host with nothing read: the judges' input
// before a test fills in what it is about.
func baseEvidence() *evidence {
	return &evidence{
		Options: Options{
			Paths:      config.Paths{Home: "/home/agent", StateDir: "/home/agent/.openclaw", SecurityDir: "/home/agent/.openclaw/security"},
			ConfigPath: "/home/agent/.openclaw/openclaw.json",
			ReportsDir: "/reports",
			Now:        judgeNow,
			User:       "agent",
			UID:        1000,
		},
		goos:         "linux",
		cfgErr:       fs.ErrNotExist,
		sudo:         SudoPosture{Source: "/etc/sudoers"},
		portsErr:     fs.ErrNotExist,
		egressErr:    fs.ErrNotExist,
		allowlistErr: fs.ErrNotExist,
	}
}

func parseConfig(t *testing.T, text string) *openclaw.Config {
	t.Helper()
	cfg, err := openclaw.ParseConfig([]byte(text), "/home/agent/.openclaw/openclaw.json")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func float(f float64) *float64 { return &f }

// want is what a test expects of an outcome: status, risk and substrings.
type want struct {
	status     checkStatus
	risk       checkRisk
	observed   string // substring; "" skips
	evidence   string // substring; "" skips
	mitigation string // substring; "" skips
}

func (w want) check(t *testing.T, got outcome) {
	t.Helper()
	if got.Status != w.status || got.Risk != w.risk {
		t.Errorf("got %s/%s, want %s/%s\n%+v", got.Status, got.Risk, w.status, w.risk, got)
	}
	for _, c := range []struct{ field, got, want string }{
		{"observed", got.Observed, w.observed},
		{"evidence", got.Evidence, w.evidence},
		{"mitigation", got.Mitigation, w.mitigation},
	} {
		if !strings.Contains(c.got, c.want) {
			t.Errorf("%s = %q, want it to contain %q", c.field, c.got, c.want)
		}
	}
	if got.Status != StatusCompliant && (got.Evidence == "" || got.Mitigation == "") {
		t.Errorf("%s outcome without evidence or mitigation: %+v", got.Status, got)
	}
}

func TestJudgeCoversEveryCheck(t *testing.T) {
	got := judge(baseEvidence())
	for _, id := range CheckIDs() {
		if got[id].Status == "" {
			t.Errorf("judge has no outcome for %s", id)
		}
	}
	if len(got) != len(CheckIDs()) {
		t.Errorf("judge returns %d outcomes for %d checks", len(got), len(CheckIDs()))
	}
}

func TestJudgeSudo(t *testing.T) {
	nopw := SudoRule{Text: "agent ALL=(ALL) NOPASSWD: ALL", Origin: "/etc/sudoers.d/cloud:1", NoPasswd: true, AllCommands: true}
	named := SudoRule{Text: "agent ALL=(ALL) /usr/bin/apt-get", Origin: "/etc/sudoers:2"}
	tests := []struct {
		name  string
		judge func(*evidence) outcome
		edit  func(*evidence)
		want  want
	}{
		{"approval: unreadable sudoers", privilegeApproval, func(ev *evidence) { ev.sudo = SudoPosture{Source: "none", Unknown: "permission denied"} },
			want{status: StatusNotAssessed, risk: RiskMedium, evidence: "sudoers: permission denied", mitigation: "listpw=never"}},
		{"approval: NOPASSWD", privilegeApproval, func(ev *evidence) { ev.sudo.Rules = []SudoRule{nopw, named} },
			want{status: StatusViolation, risk: RiskHigh, observed: "1 sudo rule(s) let agent run commands as root without a password", evidence: "/etc/sudoers.d/cloud:1"}},
		{"approval: every rule asks", privilegeApproval, func(ev *evidence) { ev.sudo.Rules = []SudoRule{named} },
			want{status: StatusCompliant, risk: RiskLow, evidence: "1 sudo rule(s) apply to agent in /etc/sudoers"}},
		{"least privilege: root", leastPrivilege, func(ev *evidence) { ev.UID = 0 },
			want{status: StatusViolation, risk: RiskCritical, observed: "uid 0"}},
		{"least privilege: no rights", leastPrivilege, func(*evidence) {},
			want{status: StatusCompliant, risk: RiskLow, observed: "agent has no sudo rights"}},
		{"least privilege: ALL", leastPrivilege, func(ev *evidence) { ev.sudo.Rules = []SudoRule{nopw} },
			want{status: StatusPartial, risk: RiskMedium, mitigation: "Cmnd_Alias"}},
		{"least privilege: named commands", leastPrivilege, func(ev *evidence) { ev.sudo.Rules = []SudoRule{named} },
			want{status: StatusCompliant, risk: RiskLow, observed: "only named commands"}},
		{"timeout: never expires", elevationTimeout, func(ev *evidence) { ev.sudo.TimestampTimeout = float(-1) },
			want{status: StatusViolation, risk: RiskHigh, observed: "timestamp_timeout=-1"}},
		{"timeout: over 30", elevationTimeout, func(ev *evidence) { ev.sudo.TimestampTimeout = float(45) },
			want{status: StatusViolation, risk: RiskMedium, observed: "timestamp_timeout=45"}},
		{"timeout: default", elevationTimeout, func(*evidence) {},
			want{status: StatusCompliant, risk: RiskLow, evidence: "timestamp_timeout unset (sudo default 15 minutes)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := baseEvidence()
			tt.edit(ev)
			tt.want.check(t, tt.judge(ev))
		})
	}
}

func TestJudgeNetworkReport(t *testing.T) {
	const file = "/reports/egress-report.json"
	fresh := judgeNow.Add(-time.Hour).Format(time.RFC3339)
	tests := []struct {
		name        string
		generatedAt string
		status      checkStatus
		titles      []string
		risks       []checkRisk
		want        want
	}{
		{"clean and fresh", fresh, StatusCompliant, nil, nil, want{status: StatusCompliant, risk: RiskLow, evidence: file}},
		{"clean but stale", judgeNow.Add(-30 * time.Hour).Format(time.RFC3339), "", nil, nil,
			want{status: StatusPartial, risk: RiskLow, observed: "30 hours old"}},
		{"no valid time", "yesterday", "", nil, nil, want{status: StatusPartial, risk: RiskLow, observed: "no valid time"}},
		{"findings, worst risk wins", fresh, StatusPartial, []string{"a", "b"}, []checkRisk{RiskLow, RiskHigh},
			want{status: StatusPartial, risk: RiskHigh, observed: "2 finding(s)", evidence: ": a; b"}},
		{"findings without a status are violations", fresh, "", []string{"1", "2", "3", "4", "5", "6", "7"}, []checkRisk{RiskMedium},
			want{status: StatusViolation, risk: RiskMedium, evidence: "5; and 2 more"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fromReport(judgeNow, file, tt.generatedAt, tt.status, "clawwarden egress", tt.titles, tt.risks, nil)
			tt.want.check(t, got)
		})
	}
	want{status: StatusNotAssessed, risk: RiskMedium, evidence: file + " does not exist"}.check(t, reportMissing(fs.ErrNotExist, file, "clawwarden egress"))
	want{status: StatusNotAssessed, risk: RiskMedium, evidence: "bad json", mitigation: "Fix or remove"}.check(t, reportMissing(errors.New("bad json"), file, "clawwarden egress"))
}

func TestJudgeGateway(t *testing.T) {
	public := openclaw.Listener{PID: 7, Process: "openclaw-gatewa", Proto: "tcp", Address: netip.MustParseAddrPort("0.0.0.0:18789")}
	loop := openclaw.Listener{PID: 7, Process: "openclaw-gatewa", Proto: "tcp", Address: netip.MustParseAddrPort("127.0.0.1:18789")}
	tests := []struct {
		name     string
		config   string // "" means no openclaw.json
		listener *openclaw.Listener
		want     want
	}{
		{"no config, nothing listening", "", nil, want{status: StatusNotAssessed, risk: RiskMedium, observed: "no OpenClaw configuration"}},
		{"no config, loopback listener", "", &loop, want{status: StatusCompliant, risk: RiskLow, evidence: "does not exist"}},
		{"config loopback, public listener", "{gateway: {bind: 'loopback'}}", &public,
			want{status: StatusViolation, risk: RiskHigh, evidence: "gateway.bind=loopback", mitigation: "--bind loopback"}},
		{"public listener, auth none", "{gateway: {bind: 'loopback', auth: {mode: 'none'}}}", &public,
			want{status: StatusViolation, risk: RiskCritical}},
		{"config lan", "{gateway: {bind: 'lan', auth: {mode: 'token', token: '${T}'}}}", nil,
			want{status: StatusViolation, risk: RiskHigh, observed: "binds lan"}},
		{"loopback without a secret", "{gateway: {bind: 'loopback'}}", &loop,
			want{status: StatusPartial, risk: RiskMedium, evidence: "live: pid 7"}},
		{"loopback with a token", "{gateway: {bind: 'loopback', auth: {mode: 'token', token: '${T}'}}}", nil,
			want{status: StatusCompliant, risk: RiskLow, evidence: "gateway.auth.mode=token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := baseEvidence()
			if tt.config != "" {
				ev.cfg, ev.cfgErr = parseConfig(t, tt.config), nil
			}
			if tt.listener != nil {
				ev.Gateway = &LiveGateway{Listeners: []openclaw.Listener{*tt.listener}}
			}
			tt.want.check(t, gatewayLoopback(ev))
		})
	}
}

func TestJudgeHostFiles(t *testing.T) {
	tests := []struct {
		name  string
		judge func(*evidence) outcome
		edit  func(*evidence)
		want  want
	}{
		{"permissions: state unreadable", secretsPermissions, func(ev *evidence) { ev.stateErr = fs.ErrPermission },
			want{status: StatusNotAssessed, risk: RiskMedium}},
		{"permissions: group-readable credentials", secretsPermissions, func(ev *evidence) {
			ev.stateFiles = []fileMode{{"/s", fs.ModeDir | 0o700}, {"/s/credentials/wa.json", 0o644}, {"/s/link", fs.ModeSymlink | 0o777}}
			ev.openclawFiles = 2
		}, want{status: StatusViolation, risk: RiskHigh, observed: "/s/credentials/wa.json is 0644", evidence: "checked 3 paths"}},
		{"permissions: owner-only", secretsPermissions, func(ev *evidence) {
			ev.stateFiles, ev.openclawFiles = []fileMode{{"/s", fs.ModeDir | 0o700}, {"/s/openclaw.json", 0o600}}, 1
		}, want{status: StatusCompliant, risk: RiskLow}},
		// A fresh home: the only files are the ones clawwarden itself wrote
		// (its security and reports directories), which prove nothing.
		{"permissions: only clawwarden's files", secretsPermissions, func(ev *evidence) {
			ev.stateFiles = []fileMode{{"/s", fs.ModeDir | 0o700}, {"/s/security", fs.ModeDir | 0o700}}
		}, want{status: StatusNotAssessed, risk: RiskMedium, observed: "no OpenClaw files"}},
		{"alternate paths: doas nopass for a group", alternatePaths, func(ev *evidence) {
			ev.Groups = []string{"wheel"}
			ev.doasConf = fileRead{path: "/etc/doas.conf", data: []byte("permit persist :staff\npermit nopass :wheel as root\n")}
		}, want{status: StatusViolation, risk: RiskHigh, evidence: "/etc/doas.conf:2: permit nopass :wheel as root"}},
		{"alternate paths: setuid pkexec, su ignored", alternatePaths, func(ev *evidence) {
			ev.doasConf.err = fs.ErrNotExist
			ev.privBinaries = []fileMode{{"/usr/bin/pkexec", fs.ModeSetuid | 0o755}, {"/usr/bin/su", fs.ModeSetuid | 0o755}}
		}, want{status: StatusPartial, risk: RiskMedium, observed: "/usr/bin/pkexec (urwxr-xr-x): setuid"}},
		{"alternate paths: none", alternatePaths, func(ev *evidence) { ev.doasConf.err = fs.ErrNotExist },
			want{status: StatusCompliant, risk: RiskLow, evidence: "found: none"}},
		{"backup: none", backup, func(*evidence) {}, want{status: StatusViolation, risk: RiskMedium}},
		{"backup: 10 days", backup, func(ev *evidence) { ev.newestBackup, ev.newestBackupAt = "/b", judgeNow.Add(-240*time.Hour) },
			want{status: StatusPartial, risk: RiskLow, observed: "10 days old"}},
		{"backup: 40 days", backup, func(ev *evidence) { ev.newestBackup, ev.newestBackupAt = "/b", judgeNow.Add(-960*time.Hour) },
			want{status: StatusViolation, risk: RiskMedium, observed: "40 days old"}},
		{"backup: yesterday", backup, func(ev *evidence) { ev.newestBackup, ev.newestBackupAt = "/b", judgeNow.Add(-25*time.Hour) },
			want{status: StatusCompliant, risk: RiskLow, observed: "1 day(s) old"}},
		{"updates: no apt", updates, func(ev *evidence) { ev.aptDir, ev.aptErr = "/etc/apt/apt.conf.d", fs.ErrNotExist },
			want{status: StatusNotAssessed, risk: RiskMedium, evidence: "no /etc/apt/apt.conf.d"}},
		{"updates: unattended on, OpenClaw checks", updates, func(ev *evidence) {
			ev.aptDir = "/etc/apt/apt.conf.d"
			ev.aptFiles = []fileRead{{path: "/etc/apt/apt.conf.d/20auto-upgrades", data: []byte("APT::Periodic::Unattended-Upgrade \"1\";\n")}}
		}, want{status: StatusCompliant, risk: RiskLow, evidence: "enabled in /etc/apt/apt.conf.d/20auto-upgrades"}},
		{"updates: neither", updates, func(ev *evidence) {
			ev.aptDir = "/etc/apt/apt.conf.d"
			ev.cfg, ev.cfgErr = parseConfig(t, "{update: {checkOnStart: false}}"), nil
		}, want{status: StatusViolation, risk: RiskMedium}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := baseEvidence()
			tt.edit(ev)
			tt.want.check(t, tt.judge(ev))
		})
	}
}

func TestJudgeApprovals(t *testing.T) {
	old := judgeNow.Add(-2 * time.Hour)
	tests := []struct {
		name  string
		judge func(*evidence) outcome
		edit  func(*evidence)
		want  want
	}{
		{"session: corrupt", sessionBoundary, func(ev *evidence) { ev.sessionFound, ev.sessionErr, ev.sessionCorrupt = true, errors.New("bad"), true },
			want{status: StatusViolation, risk: RiskHigh, observed: "corrupt"}},
		{"session: unsafe", sessionBoundary, func(ev *evidence) { ev.sessionErr = errors.New("mode 0644") },
			want{status: StatusViolation, risk: RiskHigh, observed: "unsafe or unreadable"}},
		{"session: expired approvals", sessionBoundary, func(ev *evidence) {
			ev.sessionFound = true
			ev.session = session.State{LastActivity: old, Approvals: []session.Approval{{ApprovedAt: old}}}
		}, want{status: StatusPartial, risk: RiskMedium, observed: "1 approval(s) past the 30-minute idle limit"}},
		{"session: id not required", sessionBoundary, func(*evidence) {}, want{status: StatusPartial, risk: RiskLow, evidence: "no session state at"}},
		{"session: bound", sessionBoundary, func(ev *evidence) { ev.Env.RequireSessionID = true }, want{status: StatusCompliant, risk: RiskLow}},
		{"factor: keypress only", multiFactor, func(*evidence) {}, want{status: StatusViolation, risk: RiskMedium, observed: "keypress"}},
		{"factor: token only", multiFactor, func(ev *evidence) { ev.Env.ApprovalToken = "t" }, want{status: StatusPartial, risk: RiskMedium}},
		{"factor: enforced, all hardware keys", multiFactor, func(ev *evidence) { ev.Enforced = &Enforcement{Keys: 2, HardwareKeys: 2} },
			want{status: StatusCompliant, risk: RiskLow, evidence: "2 hardware-backed"}},
		{"factor: enforced, software key", multiFactor, func(ev *evidence) { ev.Enforced = &Enforcement{Keys: 2, HardwareKeys: 1} },
			want{status: StatusPartial, risk: RiskMedium}},
		{"command policy: missing", commandPolicy, func(ev *evidence) { ev.commandPath, ev.commandErr = "/p.json", fs.ErrNotExist },
			want{status: StatusPartial, risk: RiskMedium, evidence: "/p.json does not exist"}},
		{"command policy: no rules", commandPolicy, func(ev *evidence) { ev.commandPath = "/p.json" },
			want{status: StatusPartial, risk: RiskLow, evidence: "allow 0, deny 0, allow_exact 0, deny_exact 0"}},
		{"command policy: rules", commandPolicy, func(ev *evidence) { ev.commandCounts = map[string]int{"allow": 2, "deny_exact": 1} },
			want{status: StatusCompliant, risk: RiskLow, observed: "3 rules"}},
		{"prompt: exec policy full, ask off", promptInjection, func(ev *evidence) {
			ev.promptFound, ev.prompt.RequireConfirmationForUntrusted = true, true
			ev.ExecPolicy = []openclaw.ExecScope{{AgentID: "main", Security: "full", Ask: "off"}}
		}, want{status: StatusPartial, risk: RiskMedium, mitigation: "exec-policy preset cautious"}},
		{"prompt: confirmation off", promptInjection, func(ev *evidence) { ev.promptFound = true },
			want{status: StatusViolation, risk: RiskHigh}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := baseEvidence()
			tt.edit(ev)
			tt.want.check(t, tt.judge(ev))
		})
	}
}

func TestTouchFactor(t *testing.T) {
	stack := func(sudo string, includes map[string]string) pamStack {
		st := pamStack{sudo: pamFile{path: "/etc/pam.d/sudo", lines: parsePAM("/etc/pam.d/sudo", []byte(sudo))}, includes: map[string]pamFile{}}
		for name, text := range includes {
			st.includes[name] = pamFile{path: name, lines: parsePAM(name, []byte(text))}
		}
		return st
	}
	tests := []struct {
		name     string
		st       pamStack
		touch    bool
		evidence string
	}{
		{"no sudo file", pamStack{sudo: pamFile{path: "/etc/pam.d/sudo", err: fs.ErrNotExist}}, false, "/etc/pam.d/sudo not present"},
		{"u2f required", stack("auth required pam_u2f.so cue authfile=/etc/u2f_mappings\n", nil), true, "PAM: pam_u2f.so at /etc/pam.d/sudo:1"},
		{"u2f in an include", stack("@include common-auth\n", map[string]string{"/etc/pam.d/common-auth": "auth [success=1 default=ignore] pam_u2f.so\n"}),
			true, "(included from /etc/pam.d/sudo:1)"},
		{"u2f optional", stack("auth optional pam_u2f.so\n", nil), false, "/etc/pam.d/sudo:1 is optional"},
		{"nouserok with the key list at home", stack("auth sufficient pam_u2f.so nouserok\n", nil), false, "nouserok with the key list in the home directory"},
		{"include missing", stack("@include common-auth\n", nil), false, "auth stack of /etc/pam.d/sudo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			touch, ev := touchFactor(tt.st)
			if touch != tt.touch || !strings.Contains(ev, tt.evidence) {
				t.Errorf("touchFactor = %v, %q; want %v with %q", touch, ev, tt.touch, tt.evidence)
			}
		})
	}
}
