package hook

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawwarden/clawwarden/internal/command"
	"github.com/clawwarden/clawwarden/internal/testenv"
)

// pathValues are PATH values that need quoting or escaping in a unit file.
var pathValues = []struct {
	name, value string
}{
	{"plain", "/home/a/.openclaw/bin:/usr/local/bin:/usr/bin:/bin"},
	{"space", "/home/a b/.openclaw/bin:/usr/bin"},
	{"double quote", `/home/a"b/.openclaw/bin:/usr/bin`},
	{"single quote", "/home/it's/.openclaw/bin:/usr/bin"},
	{"backslash", `/home/a\b/.openclaw/bin:/usr/bin`},
	{"percent", "/home/100%/.openclaw/bin:/usr/bin"},
	{"specifier lookalike", "/home/%h/%%/.openclaw/bin:/usr/bin"},
	{"dollar", "/home/$USER/${HOME}/.openclaw/bin:/usr/bin"},
	{"semicolon and hash", "/home/a;b#c/.openclaw/bin:/usr/bin"},
	{"unicode", "/home/zoë/.openclaw/bin:/usr/bin"},
}

func TestRenderDropInRoundTrip(t *testing.T) {
	for _, tt := range pathValues {
		t.Run(tt.name, func(t *testing.T) {
			content, err := RenderDropIn(tt.value)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(content), dropInMarker) {
				t.Errorf("drop-in does not start with %q:\n%s", dropInMarker, content)
			}
			got, ok := dropInPATH(string(content), "/home/someone")
			if !ok || got != tt.value {
				t.Errorf("PATH read back = %q, %v; want %q\n%s", got, ok, tt.value, content)
			}
		})
	}
}

func TestRenderDropInRefusesControlCharacters(t *testing.T) {
	for _, v := range []string{"/a\n[Service]\nExecStartPre=/bin/sh", "/a\rb", "/a\x00b", "/a\x7fb", "/a\xffb"} {
		if _, err := RenderDropIn(v); err == nil {
			t.Errorf("RenderDropIn(%q) succeeded", v)
		}
	}
}

// TestDropInPassesSystemdAnalyzeVerify checks the drop-in on OpenClaw's
// unit with systemd's own parser, offline.
func TestDropInPassesSystemdAnalyzeVerify(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		testenv.Skip(t, "systemd-analyze not installed (Debian package systemd)")
	}
	unit, err := os.ReadFile("testdata/openclaw-gateway.service")
	if err != nil {
		t.Fatal(err)
	}
	verify := func(t *testing.T, dropIn []byte) string {
		t.Helper()
		dir := t.TempDir()
		unitFile := filepath.Join(dir, "openclaw-gateway.service")
		if err := os.WriteFile(unitFile, unit, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(unitFile+".d", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(unitFile+".d", DropInName), dropIn, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(sa, "verify", unitFile).CombinedOutput()
		if err != nil {
			t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
		}
		return string(out)
	}
	// systemd-analyze verify exits 0 even when it ignores a bad line, so
	// first make sure it reads the drop-in and complains about a broken one.
	t.Run("broken drop-in is noticed", func(t *testing.T) {
		out := verify(t, []byte("[Service]\nEnvironment=\"PATH=/unterminated\n"))
		if !strings.Contains(out, DropInName) {
			t.Fatalf("systemd-analyze verify did not read the drop-in; output:\n%s", out)
		}
	})
	for _, tt := range pathValues {
		t.Run(tt.name, func(t *testing.T) {
			content, err := RenderDropIn(tt.value)
			if err != nil {
				t.Fatal(err)
			}
			if out := verify(t, content); strings.Contains(out, DropInName) {
				t.Errorf("systemd-analyze verify complains about the drop-in:\n%s\n%s", out, content)
			}
		})
	}
}

func TestUnitPATH(t *testing.T) {
	unit, err := os.ReadFile("testdata/openclaw-gateway.service")
	if err != nil {
		t.Fatal(err)
	}
	const openclawPATH = "/home/alice/.npm-global/bin:/home/alice/.local/bin:/usr/local/bin:/usr/bin:/bin"
	tests := []struct {
		name    string
		unit    string
		dropIns map[string]string
		want    string
		set     bool
	}{
		{"OpenClaw's unit", string(unit), nil, openclawPATH, true},
		{"no PATH", "[Service]\nExecStart=/bin/true\nEnvironment=A=1\n", nil, "", false},
		{"PATH in another section ignored", "[Unit]\nEnvironment=PATH=/x\n[Service]\nExecStart=/bin/true\n", nil, "", false},
		{"quoted with specifiers", "[Service]\nEnvironment=\"PATH=%h/bin:/usr/bin\" A=1\n", nil, "/home/alice/bin:/usr/bin", true},
		{"several on one line, last wins", "[Service]\nEnvironment=PATH=/a PATH=/b\n", nil, "/b", true},
		{"continuation line", "[Service]\nEnvironment=A=1 \\\n  PATH=/c\n", nil, "/c", true},
		{
			"later drop-in wins, ours ignored", string(unit),
			map[string]string{"override.conf": "[Service]\nEnvironment=PATH=/from/override\n", DropInName: "[Service]\nEnvironment=PATH=/ours\n"},
			"/from/override", true,
		},
		{
			"drop-ins in name order", string(unit),
			map[string]string{"b.conf": "[Service]\nEnvironment=PATH=/b\n", "a.conf": "[Service]\nEnvironment=PATH=/a\n"},
			"/b", true,
		},
		{
			"empty Environment= resets", string(unit),
			map[string]string{"reset.conf": "[Service]\nEnvironment=\n"},
			"", false,
		},
		{"comments skipped", "[Service]\n# Environment=PATH=/no\n;Environment=PATH=/no\nEnvironment=PATH=/yes\n", nil, "/yes", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			f := filepath.Join(dir, "openclaw-gateway.service")
			if err := os.WriteFile(f, []byte(tt.unit), 0o600); err != nil {
				t.Fatal(err)
			}
			if tt.dropIns != nil {
				os.Mkdir(f+".d", 0o700)
				for name, c := range tt.dropIns {
					if err := os.WriteFile(filepath.Join(f+".d", name), []byte(c), 0o600); err != nil {
						t.Fatal(err)
					}
				}
			}
			got, set, err := unitPATH(f, "/home/alice")
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || set != tt.set {
				t.Errorf("unitPATH = %q, %v; want %q, %v", got, set, tt.want, tt.set)
			}
		})
	}
}

func TestSystemdUnitAndLaunchdLabel(t *testing.T) {
	tests := []struct {
		env       map[string]string
		unit      string
		label     string
		unitError bool
	}{
		{nil, "openclaw-gateway.service", "ai.openclaw.gateway", false},
		{map[string]string{"OPENCLAW_PROFILE": "default"}, "openclaw-gateway.service", "ai.openclaw.gateway", false},
		{map[string]string{"OPENCLAW_PROFILE": "work"}, "openclaw-gateway-work.service", "ai.openclaw.work", false},
		{map[string]string{"OPENCLAW_SYSTEMD_UNIT": "my-gw", "OPENCLAW_LAUNCHD_LABEL": "com.example.gw"}, "my-gw.service", "com.example.gw", false},
		{map[string]string{"OPENCLAW_SYSTEMD_UNIT": "x.service"}, "x.service", "ai.openclaw.gateway", false},
		{map[string]string{"OPENCLAW_SYSTEMD_UNIT": "../evil"}, "", "ai.openclaw.gateway", true},
	}
	for _, tt := range tests {
		getenv := func(k string) string { return tt.env[k] }
		unit, err := SystemdUnit(getenv)
		if (err != nil) != tt.unitError || unit != tt.unit {
			t.Errorf("SystemdUnit(%v) = %q, %v; want %q", tt.env, unit, err, tt.unit)
		}
		if label, err := LaunchdLabel(getenv); err != nil || label != tt.label {
			t.Errorf("LaunchdLabel(%v) = %q, %v; want %q", tt.env, label, err, tt.label)
		}
	}
	if _, err := LaunchdLabel(func(k string) string { return map[string]string{"OPENCLAW_LAUNCHD_LABEL": "a/b"}[k] }); err == nil {
		t.Error("LaunchdLabel accepted a label with a slash")
	}
}

func TestParseSystemctlShow(t *testing.T) {
	tests := []struct {
		out     string
		want    time.Time
		running bool
		wantErr bool
	}{
		{"ActiveState=active\nActiveEnterTimestamp=@1764060240\n", time.Unix(1764060240, 0), true, false},
		{"ActiveEnterTimestamp=Tue 2025-11-25 08:44:00 UTC\nActiveState=active\n", time.Date(2025, 11, 25, 8, 44, 0, 0, time.UTC), true, false},
		{"ActiveState=inactive\nActiveEnterTimestamp=\n", time.Time{}, false, false},
		{"ActiveState=failed\nActiveEnterTimestamp=@1\n", time.Time{}, false, false},
		{"ActiveState=active\nActiveEnterTimestamp=\n", time.Time{}, false, true},
		{"", time.Time{}, false, true},
	}
	for _, tt := range tests {
		got, running, err := parseSystemctlShow(tt.out)
		if (err != nil) != tt.wantErr || running != tt.running || !got.Equal(tt.want) {
			t.Errorf("parseSystemctlShow(%q) = %v, %v, %v; want %v, %v, error %v", tt.out, got, running, err, tt.want, tt.running, tt.wantErr)
		}
	}
}

func TestParseLstart(t *testing.T) {
	got, err := parseLstart("Tue Nov  4 08:44:00 2025\n")
	want := time.Date(2025, 11, 4, 8, 44, 0, 0, time.Local)
	if err != nil || !got.Equal(want) {
		t.Errorf("parseLstart = %v, %v; want %v", got, err, want)
	}
	if _, err := parseLstart("yesterday"); err == nil {
		t.Error("parseLstart accepted garbage")
	}
}

// TestServiceCommands checks the argv the service managers run, answered
// by a fake runner.
func TestServiceCommands(t *testing.T) {
	var calls []string
	r := command.Func(func(_ context.Context, c command.Cmd) (command.Output, error) {
		calls = append(calls, c.String())
		switch c.Name {
		case "systemctl":
			return command.Output{Stdout: []byte("ActiveState=active\nActiveEnterTimestamp=@1764060240\n")}, nil
		case "launchctl":
			return command.Output{Stdout: []byte("gui/501/ai.openclaw.gateway = {\n\tpid = 4242\n}\n")}, nil
		case "ps":
			return command.Output{Stdout: []byte("Tue Nov  4 08:44:00 2025\n")}, nil
		}
		return command.Output{}, command.Fail(c, command.Output{}, errors.New("not here"))
	})
	ctx := t.Context()
	s := Systemctl{Unit: "openclaw-gateway.service", Runner: r}
	if err := s.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if at, ok, err := s.StartedAt(ctx); err != nil || !ok || !at.Equal(time.Unix(1764060240, 0)) {
		t.Errorf("Systemctl.StartedAt = %v, %v, %v", at, ok, err)
	}
	l := Launchctl{Label: "ai.openclaw.gateway", UID: 501, Plist: "/Users/a b/x.plist", Runner: r}
	if at, ok, err := l.StartedAt(ctx); err != nil || !ok || !at.Equal(time.Date(2025, 11, 4, 8, 44, 0, 0, time.Local)) {
		t.Errorf("Launchctl.StartedAt = %v, %v, %v", at, ok, err)
	}
	want := []string{
		"systemctl --user daemon-reload",
		"systemctl --user show --timestamp=unix -p ActiveState -p ActiveEnterTimestamp -- openclaw-gateway.service",
		"launchctl print gui/501/ai.openclaw.gateway",
		"ps -o lstart= -p 4242",
	}
	if !slices.Equal(calls, want) {
		t.Errorf("ran %q, want %q", calls, want)
	}
	if got, want := l.RestartCommand(), "launchctl bootout gui/501/ai.openclaw.gateway && launchctl bootstrap gui/501 '/Users/a b/x.plist'"; got != want {
		t.Errorf("RestartCommand = %q, want %q", got, want)
	}
}
